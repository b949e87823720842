import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { baseEnv, ROOT } from './harness/cli.ts';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...baseEnv(), C8Y_TOKEN_TEST_BROKER: process.env.C8Y_TOKEN_TEST_BROKER };
  const child = spawn(process.execPath, [join(ROOT, 'dist/scripts/demo.js')], { env, stdio: 'pipe' });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

test('npm run demo: each command and its output on a simulated device, then everything stopped, exit 0', async () => {
  const { code, stdout, stderr } = await runDemo();
  assert.equal(code, 0, stdout + stderr);
  const steps = stdout.split(/^\$ /m).slice(1);
  assert.deepEqual(
    steps.map((step) => step.split('\n')[0]),
    [
      'c8y-token get',
      'c8y-token decode',
      'c8y-token curl /user/currentUser',
      'c8y-token curl --paginate --page-size 5 /inventory/managedObjects',
    ],
  );
  const [get, decode, currentUser, paginate] = steps as [string, string, string, string];
  assert.match(get, /\neyJ[\w-]{13}…[\w-]{6}\n\(the token is shortened here/, 'the token, shortened');
  assert.doesNotMatch(stdout, /eyJ[\w-]*\.[\w-]+\.[\w-]+/, 'no whole token anywhere');
  assert.match(decode, /"ten": "t12345"/);
  assert.match(decode, /"sub": "device_rpi4-d83add90fe56"/);
  assert.match(currentUser, /"userName":"device_rpi4-d83add90fe56"/);
  const items = paginate.split('\n').filter((line) => line.startsWith('{"id"'));
  assert.equal(items.length, 12, paginate);
  assert.match(stdout, /followed 3 pages/);
  assert.match(stdout, /Stopped the simulated device\.\n$/);

  const tenantPort = Number(/a fake tenant at http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
  const brokerPort = Number(/MQTT broker +.* on 127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
  assert.ok(tenantPort > 0 && brokerPort > 0, stdout);
  assert.equal(await listening(tenantPort), false, 'the tenant is stopped');
  assert.equal(await listening(brokerPort), false, 'the broker is stopped');
});
