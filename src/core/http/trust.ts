import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecureContext } from 'node:tls';
import { C8yTokenError } from '../errors.ts';
import { describeSystemError } from '../system-errors.ts';

/** Which certificate authorities to trust for the tenant, as curl decides it. */
export interface TrustSettings {
  /** Do not check the certificate at all. */
  insecure?: boolean | undefined;
  /** A PEM file: these CAs instead of Node's and the system's. */
  cacert?: string | undefined;
  /** A directory of CAs under OpenSSL's hashed names (`openssl rehash`), trusted as well. */
  capath?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** How TLS connections to the tenant check its certificate. */
export interface Trust {
  rejectUnauthorized: boolean;
  /** The context of the first attempt: undefined for Node's bundled CAs. */
  first(): Promise<SecureContext | undefined>;
  /** The system's CAs, for a second attempt when Node's bundled ones do not know the issuer; undefined: none. */
  fallback(): Promise<SecureContext | undefined>;
  /** For an https:// proxy: Node's bundled CAs and the system's (curl checks a proxy against its own defaults). */
  proxy(): Promise<SecureContext>;
}

export const SYSTEM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * The CAs curl trusts, and Node's bundled ones as well: CURL_CA_BUNDLE, else SSL_CERT_FILE (else Debian's bundle)
 * and SSL_CERT_DIR; a given capath instead of the environment's. A given cacert replaces them all. Node's bundled CAs
 * are tried first: they verify public tenants, and a context built from the system's ~150 CAs costs more CPU than a
 * request. The system's are loaded only when a handshake needs them, and once. A cacert file is read up front, so
 * that an unreadable one fails before a token is fetched.
 */
export async function tenantTrust(settings: TrustSettings): Promise<Trust> {
  const system = once(() => systemCas(settings));
  const proxy = once(async () => secureContext([...(await import('node:tls')).rootCertificates, ...(await system())]));
  const none = async () => undefined;
  if (settings.insecure) return { rejectUnauthorized: false, first: none, fallback: none, proxy };
  if (settings.cacert !== undefined) {
    const pem = await readCaFile(settings.cacert);
    const first = once(async () => secureContext([pem, ...(await hashedDirs(settings.capath))]));
    return { rejectUnauthorized: true, first, fallback: none, proxy };
  }
  const fallback = once(async () => {
    const pems = await system();
    return pems.length === 0 ? undefined : secureContext(pems);
  });
  return { rejectUnauthorized: true, first: none, fallback, proxy };
}

/** The system's CAs in curl's order; a missing Debian bundle is no error (another system keeps them elsewhere). */
async function systemCas(settings: TrustSettings): Promise<string[]> {
  const env = settings.env ?? process.env;
  const explicit = settings.cacert !== undefined || settings.capath !== undefined;
  const bundle = explicit ? undefined : set(env.CURL_CA_BUNDLE);
  const file = bundle ?? (explicit ? undefined : set(env.SSL_CERT_FILE));
  const dirs = explicit ? settings.capath : bundle ? undefined : set(env.SSL_CERT_DIR);
  const pem = file === undefined ? await readFile(SYSTEM_CA_FILE, 'latin1').catch(() => '') : await readCaFile(file);
  return [pem, ...(await hashedDirs(dirs))].filter((text) => text !== '');
}

const set = (value: string | undefined) => (value === '' ? undefined : value);

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

async function secureContext(pems: string[]): Promise<SecureContext> {
  const { createSecureContext } = await import('node:tls');
  return createSecureContext({ ca: pems });
}

async function readCaFile(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'latin1');
  } catch (error) {
    throw caFileError(`cannot read the CA file ${file}: ${describeSystemError(error)}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw caFileError(`the CA file ${file} holds no PEM certificate`);
  return pem;
}

function caFileError(message: string): C8yTokenError {
  return new C8yTokenError('caFile', message, {
    hint: 'name a readable file of PEM certificates (-----BEGIN CERTIFICATE-----)',
  });
}

/**
 * The certificates in OpenSSL lookup directories (colon-separated): only the files under hashed names
 * (`<subject hash>.<n>`, as `openssl rehash` or c_rehash make them) count, as for OpenSSL. A missing directory is
 * skipped, as curl skips it.
 */
async function hashedDirs(dirs: string | undefined): Promise<string[]> {
  if (dirs === undefined) return [];
  const pems: string[] = [];
  for (const dir of dirs.split(':').filter(Boolean)) {
    const names = await readdir(dir).catch(() => [] as string[]);
    const hashed = names.filter((name) => /^[0-9a-f]{8}\.\d+$/.test(name)).sort();
    pems.push(...(await Promise.all(hashed.map((name) => readFile(join(dir, name), 'latin1').catch(() => '')))));
  }
  return pems.filter((pem) => pem.includes('-----BEGIN CERTIFICATE-----'));
}
