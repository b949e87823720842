import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startSimulatedDevice, type SimulatedDevice } from '../sim/device.ts';
import { refuseFirstToken, sendJson } from '../sim/tenant.ts';
import { brokerEnv, ROOT } from './harness/cli.ts';
import { docExamples } from './harness/doc-examples.ts';

/**
 * docs/library.md's example for Cumulocity's own client, `@c8y/client` (a development dependency), run as a user's
 * program would run it: importing `c8y-token` and `@c8y/client` by name, against the simulated device.
 */
const example = docExamples('docs/library.md').find((candidate) => candidate.section.includes('@c8y/client'));
const dir = mkdtempSync(join(tmpdir(), 'c8y-token-c8y-client-'));
let device: SimulatedDevice;

before(async () => {
  // The example takes the tenant's address from the token (`baseUrl`), as on a real device.
  device = await startSimulatedDevice({ issuer: 'url' });
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules/c8y-token'));
  symlinkSync(join(ROOT, 'node_modules/@c8y'), join(dir, 'node_modules/@c8y'));
  mkdirSync(join(dir, 'tedge'));
});

after(() => device?.stop());

/** Runs the example, then `more` in the same module (which sees its `client`), with one token cache for all runs. */
async function runExample(more = ''): Promise<string> {
  assert.ok(example, 'docs/library.md has a js example under a heading that names @c8y/client');
  const file = join(dir, 'example.mjs');
  writeFileSync(file, `${example.code}\n${more}`);
  const env = {
    ...brokerEnv(device.broker),
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: dir,
    TEDGE_CONFIG_DIR: join(dir, 'tedge'),
    C8Y_TOKEN_CACHE_DIR: join(dir, 'cache'),
    C8Y_URL: device.tenant.url,
  };
  return (await promisify(execFile)(process.execPath, [file], { cwd: dir, env })).stdout;
}

const requests = () =>
  device.tenant.requests.map((request) => `${request.method} ${request.url} ${request.headers.authorization}`);

test('@c8y/client sends the device token, and a fresh one once when the tenant refuses it (401)', async () => {
  refuseFirstToken(device.tenant);
  assert.equal(await runExample(), 'device_rpi4-d83add90fe56\n1 2 3 4 5\n');
  const [refused, fresh] = device.bridge.issued;
  assert.equal(device.bridge.issued.length, 2, 'one fresh token, for the one refused');
  assert.deepEqual(requests(), [
    `GET /user/currentUser Bearer ${refused}`,
    `GET /user/currentUser Bearer ${fresh}`,
    `GET /inventory/managedObjects?pageSize=5 Bearer ${fresh}`,
  ]);
});

test('@c8y/client: an upload refused with 401 is not sent again, its stream being used up', async () => {
  device.tenant.reset();
  device.tenant.route('POST', '/inventory/binaries', (_request, response) =>
    sendJson(response, 401, { error: 'security/Unauthorized', message: 'Invalid credentials!' }),
  );
  const issued = device.bridge.issued.length;
  const upload = `
import { InventoryBinaryService } from '@c8y/client';
// The services reject with { res, data } on an error status.
const upload = new InventoryBinaryService(client).create(Buffer.from('log line'), { name: 'device.log' });
console.log('upload', await upload.then(({ res }) => res.status, ({ res }) => res.status));
`;
  assert.match(await runExample(upload), /\nupload 401\n$/);
  assert.equal(requests().filter((request) => request.startsWith('POST /inventory/binaries')).length, 1);
  assert.equal(device.bridge.issued.length, issued, 'no fresh token for a request that cannot be sent again');
});
