import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBroker } from '../../sim/broker.ts';
import { makeCertificate } from '../../sim/tenant.ts';
import { brokerEnv, runCli, tempCacheDir } from './cli.ts';
import { fakeTedge } from './tedge.ts';

/**
 * Not part of the suite (hygiene.test.ts runs it): a test that makes what tests make in the temporary directory - a
 * HOME, a token cache, a fake tedge, TLS keys, a broker's files, a file of its own - and then fails.
 */
test('a test that leaves files behind and fails', async () => {
  const broker = await startBroker();
  try {
    await makeCertificate();
    await fakeTedge({ 'c8y.url': 'example.com' });
    await writeFile(join(await mkdtemp(join(tmpdir(), 'c8y-token-own-')), 'file'), 'x');
    await runCli(['get', '--timeout', '1'], {
      env: { ...brokerEnv(broker), C8Y_TOKEN_CACHE_DIR: tempCacheDir() },
    });
  } finally {
    await broker.stop();
  }
  assert.fail('on purpose');
});
