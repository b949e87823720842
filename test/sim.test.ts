import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { claimsOf } from '../sim/bridge.ts';
import { baseEnv, BIN, collect, ROOT, waitFor } from './harness/cli.ts';

/** Whether any process is left in the process group. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs c8y-token in a shell that has evaluated `exports`, as a user who pasted them would. */
function runWithExports(
  exports: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = 'eval "$SIM_EXPORTS" && exec "$0" "$@"';
  const child = spawn('sh', ['-c', script, process.execPath, BIN, ...args], {
    env: { ...baseEnv(), SIM_EXPORTS: exports },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [stdout, stderr] = [collect(child.stdout), collect(child.stderr)];
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: stdout(), stderr: stderr() }));
  });
}

test('npm run sim: exports on stdout; doctor, get and curl pass against it; Ctrl-C stops it all, exit 0', {
  timeout: 120_000,
}, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'c8y-token-sim-tmp-'));
  const env = { ...baseEnv(), TMPDIR: tmp, C8Y_TOKEN_TEST_BROKER: process.env.C8Y_TOKEN_TEST_BROKER };
  // Its own process group, as a terminal's foreground job: Ctrl-C reaches every process in it.
  const sim = spawn(process.execPath, [join(ROOT, 'dist/scripts/sim.js')], { env, stdio: 'pipe', detached: true });
  const [stdout, stderr] = [collect(sim.stdout), collect(sim.stderr)];
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    sim.once('close', (code, signal) => resolve([code, signal])),
  );
  try {
    await waitFor(() => stderr().includes('Press Ctrl-C') || sim.exitCode !== null, 30_000);
    assert.match(stderr(), /Press Ctrl-C to stop/, stderr());
    const exports = stdout();
    assert.match(exports, /^(export [A-Z0-9_]+='[^']*';\n)+$/, 'nothing but export lines on stdout');
    assert.match(exports, /^export C8Y_URL='http:\/\/127\.0\.0\.1:\d+';$/m, 'the way to the tenant is shown');

    const doctor = await runWithExports(exports, ['doctor']);
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    const statuses = doctor.stdout.split('\n').filter((line) => /^\w/.test(line));
    assert.deepEqual(
      statuses.map((line) => line.split(/\s+/).slice(0, 2).join(' ')),
      ['configuration', 'broker', 'bridge', 'token', 'claims', 'issuer', 'tenant', 'clock'].map((name) => `ok ${name}`),
      doctor.stdout,
    );

    const get = await runWithExports(exports, ['get']);
    assert.equal(get.code, 0, get.stderr);
    const claims = claimsOf(get.stdout.trim());
    assert.equal(claims.iss, '127.0.0.1', 'a bare host in iss, as in a real token');

    const user = await runWithExports(exports, ['curl', '/user/currentUser']);
    assert.equal(user.code, 0, user.stderr);
    assert.equal(JSON.parse(user.stdout).userName, claims.sub);

    process.kill(-sim.pid!, 'SIGINT');
    assert.deepEqual(await closed, [0, null], stderr());
    assert.match(stderr(), /Stopped the simulated device\.\n$/);
    assert.equal(groupAlive(sim.pid!), false, 'no process of the simulator is left');
    assert.deepEqual(readdirSync(tmp), [], 'no temporary file is left');
  } finally {
    if (groupAlive(sim.pid!)) process.kill(-sim.pid!, 'SIGKILL');
  }
});
