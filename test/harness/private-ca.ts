import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivateCa {
  /** The CA's certificate (PEM): what a device would install with update-ca-certificates. */
  caFile: string;
  /** A directory holding the CA under its hashed name (`openssl rehash`), as SSL_CERT_DIR and --capath want it. */
  hashedDir: string;
  /** The tenant's key and certificate, signed by the CA, for 127.0.0.1 and localhost. */
  tls: { key: Buffer; cert: Buffer };
}

/** A private CA, as Cumulocity Edge or an enterprise has one, and a tenant certificate it signed; made with openssl. */
export async function makePrivateCa(dir: string, name = 'c8y-token test CA'): Promise<PrivateCa> {
  const file = (base: string) => join(dir, base);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-days',
    '1',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ]);
  await run('openssl', [
    'req',
    '-new',
    ...ec,
    '-keyout',
    file('tenant.key'),
    '-out',
    file('tenant.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    file('tenant.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    file('tenant.pem'),
    '-extfile',
    await extensions(dir),
  ]);
  const hashedDir = file('hashed');
  await mkdir(hashedDir);
  await copyFile(file('ca.pem'), join(hashedDir, 'ca.pem'));
  await run('openssl', ['rehash', hashedDir]);
  return {
    caFile: file('ca.pem'),
    hashedDir,
    tls: { key: await readFile(file('tenant.key')), cert: await readFile(file('tenant.pem')) },
  };
}

async function extensions(dir: string): Promise<string> {
  const path = join(dir, 'tenant.ext');
  await writeFile(path, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  return path;
}
