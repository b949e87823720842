import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import { C8yTokenError } from '../errors.ts';
import { describeSystemError } from '../system-errors.ts';
import type { Trace } from './trace.ts';
import type { TrustAnchors } from './trust-anchors.ts';

/** Which certificate authorities to trust for the tenant, as curl decides it. */
export interface TrustSettings {
  /** Do not check the certificate at all. */
  insecure?: boolean | undefined;
  /** A PEM file: these CAs instead of Node's and the system's. */
  cacert?: string | undefined;
  /** A directory of CAs under OpenSSL's hashed names (`openssl rehash`), trusted as well. */
  capath?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Where the system CA that verified each tenant is remembered; without it, all the system's are loaded each time. */
  anchors?: TrustAnchors | undefined;
}

/** How TLS connections to the tenant check its certificate. */
export interface Trust {
  rejectUnauthorized: boolean;
  /** The context of the first attempt: undefined for Node's bundled CAs. */
  first(): Promise<SecureContext | undefined>;
  /**
   * The second attempt, when Node's bundled CAs do not know the tenant's issuer: `attempt` with the system CA that
   * verified this origin last time while the system still trusts it, else with all the system's CAs, remembering
   * the one that verified it. Undefined when there is nothing more to try (no system CAs, a CA file given, or no
   * check at all).
   */
  viaSystem(origin: URL, attempt: Attempt, trace?: Trace): Promise<Socket | undefined>;
  /** For an https:// proxy: Node's bundled CAs and the system's (curl checks a proxy against its own defaults). */
  proxy(): Promise<SecureContext>;
}

/** A TLS connection made with the given CAs. */
export type Attempt = (context: SecureContext | undefined) => Promise<Socket>;

export const SYSTEM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';

/** OpenSSL's verdicts that another set of CAs may change: the issuer is unknown, not that the certificate is bad. */
const UNKNOWN_ISSUER = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_UNTRUSTED',
]);

export function unknownIssuer(error: unknown): boolean {
  return UNKNOWN_ISSUER.has((error as NodeJS.ErrnoException).code ?? '');
}

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
  if (settings.insecure) return { rejectUnauthorized: false, first: none, viaSystem: none, proxy };
  if (settings.cacert !== undefined) {
    const pem = await readCaFile(settings.cacert);
    const first = once(async () => secureContext([pem, ...(await hashedDirs(settings.capath))]));
    return { rejectUnauthorized: true, first, viaSystem: none, proxy };
  }
  const all = once(async () => secureContext(await system()));
  const viaSystem = async (origin: URL, attempt: Attempt, trace?: Trace) => {
    const pems = await system();
    if (pems.length === 0) return undefined;
    trace?.(`* ${origin.host}'s certificate is from no CA that Node.js bundles: trying the system's CAs`);
    const remembered = await settings.anchors?.recall(origin.origin);
    if (remembered && pems.some((pem) => pem.replace(/\s+/g, '').includes(remembered))) {
      trace?.(`* first the system's CA that verified ${origin.host} last time`);
      try {
        return await attempt(await secureContext([pemOf(remembered)]));
      } catch (error) {
        if (!unknownIssuer(error)) throw error;
      }
    }
    const socket = await attempt(await all());
    const anchor = trustAnchor(socket);
    if (anchor && anchor !== remembered) await settings.anchors?.remember(origin.origin, anchor);
    return socket;
  };
  return { rejectUnauthorized: true, first: none, viaSystem, proxy };
}

/** The CA at the top of the chain that verified the connection (DER, base64). */
function trustAnchor(socket: Socket): string | undefined {
  let cert = (socket as TLSSocket).getPeerCertificate?.(true);
  if (!cert?.raw) return undefined;
  while (cert.issuerCertificate?.raw && cert.issuerCertificate !== cert) cert = cert.issuerCertificate;
  return cert.raw.toString('base64');
}

function pemOf(base64: string): string {
  return `-----BEGIN CERTIFICATE-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
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
