import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startBridge, TENANT_HOST } from '../sim/bridge.ts';
import { useBrokerAndBridge } from './harness/fixture.ts';
import { brokerEnv, collect, runCli, waitFor } from './harness/cli.ts';
import { whileOpenForWriting } from './harness/files.ts';

const world = useBrokerAndBridge();

const TENANT_URL = `https://${TENANT_HOST}`;
/** Everything a shell could trip over: quotes, expansions, backslashes, newlines, a command separator. */
const NASTY = `t1'"$(touch pwned-1)\`touch pwned-2\`;\\ $HOME\n${"'\\''"} end`;

/** Evaluates the output of `env` in a real shell, in an empty directory, and returns the variables it set. */
function evaluate(shell: 'sh' | 'fish', output: string): { values: string[]; cwd: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'c8y-token-eval-'));
  const script =
    shell === 'sh'
      ? 'eval "$(cat)"; printf "%s\\0" "$C8Y_TOKEN" "$C8Y_URL" "$C8Y_TENANT" "$C8Y_HEADER"'
      : 'cat | source; printf "%s\\0" "$C8Y_TOKEN" "$C8Y_URL" "$C8Y_TENANT" "$C8Y_HEADER"';
  const result = spawnSync(shell === 'sh' ? '/bin/sh' : 'fish', ['-c', script], {
    input: output,
    cwd,
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  return { values: result.stdout.split('\0').slice(0, -1), cwd };
}

const hasFish = spawnSync('fish', ['--version']).status === 0;

describe('c8y-token env', () => {
  for (const shell of ['sh', 'fish'] as const) {
    test(`its output, evaluated by ${shell}, sets exactly the token, URL, tenant and header`, {
      skip: shell === 'fish' && !hasFish && 'fish is not installed',
    }, async () => {
      const local = await startBridge(world.broker, { topicPrefix: `env-${shell}`, token: { claims: { ten: NASTY } } });
      try {
        const result = await runCli(['env', '--topic-prefix', `env-${shell}`, '--shell', shell], {
          env: brokerEnv(world.broker),
        });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stderr, '');
        const token = local.issued.at(-1)!;
        const { values, cwd } = evaluate(shell, result.stdout);
        assert.deepEqual(values, [token, TENANT_URL, NASTY, `Authorization: Bearer ${token}`]);
        assert.deepEqual(await readdir(cwd), [], 'nothing in the values was run');
      } finally {
        await local.stop();
      }
    });
  }

  test('the URL: --url, else $C8Y_URL, else https://<iss>; another host than the issuer is warned about', async () => {
    const custom = "https://iot.example.com/it's";
    const fromFlag = await runCli(['env', '--url', `${custom}/`], {
      env: { ...brokerEnv(world.broker), C8Y_URL: 'https://other.example.com' },
    });
    assert.equal(fromFlag.code, 0, fromFlag.stderr);
    assert.equal(evaluate('sh', fromFlag.stdout).values[1], custom);
    assert.match(
      fromFlag.stderr,
      /warning: --url sends the token to iot\.example\.com, not to its issuer t12345\.eu-latest\.cumulocity\.com/,
    );

    const fromEnv = await runCli(['env'], { env: { ...brokerEnv(world.broker), C8Y_URL: TENANT_URL } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(fromEnv.stderr, '', 'the issuer itself is not warned about');
    assert.equal(evaluate('sh', fromEnv.stdout).values[1], TENANT_URL);

    const bad = await runCli(['env', '--url', 'ftp://example.com'], { env: brokerEnv(world.broker) });
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /--url: 'ftp:\/\/example\.com' is not an http or https URL/);
  });

  test('an unknown --shell is a usage error', async () => {
    const result = await runCli(['env', '--shell', 'csh'], { env: brokerEnv(world.broker) });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /csh/);
  });
});

describe('c8y-token exec', () => {
  test('runs the command with the variables in its environment, never in its arguments', async () => {
    const script =
      'printf "%s\\n" "$C8Y_TOKEN" "$C8Y_URL" "$C8Y_TENANT" "$C8Y_HEADER"; tr "\\0" " " < /proc/$$/cmdline';
    const result = await runCli(['exec', '--', 'sh', '-c', script], {
      env: { ...brokerEnv(world.broker), C8Y_URL: undefined },
    });
    assert.equal(result.code, 0, result.stderr);
    const token = world.bridge.issued.at(-1)!;
    const [printedToken, url, tenant, header, argv] = result.stdout.split('\n');
    assert.deepEqual(
      [printedToken, url, tenant, header],
      [token, TENANT_URL, 't12345', `Authorization: Bearer ${token}`],
    );
    assert.ok(argv?.startsWith('sh -c '), argv);
    assert.ok(!argv?.includes(token), 'the token is not in the arguments');
  });

  test("exits with the command's exit code; options after the command are the command's", async () => {
    const result = await runCli(['exec', 'sh', '-c', 'exit 3', '--verbose'], { env: brokerEnv(world.broker) });
    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stderr, '');
  });

  test('a command that is not found exits 127, one that cannot be run 126', async () => {
    const notFound = await runCli(['exec', '--', 'no-such-command-here'], { env: brokerEnv(world.broker) });
    assert.equal(notFound.code, 127);
    assert.match(notFound.stderr, /^c8y-token: command not found: no-such-command-here/);

    const file = join(await mkdtemp(join(tmpdir(), 'c8y-token-noexec-')), 'script');
    await writeFile(file, '#!/bin/sh\nexit 0\n');
    await chmod(file, 0o644);
    const notExecutable = await runCli(['exec', '--', file], { env: brokerEnv(world.broker) });
    assert.equal(notExecutable.code, 126);
    assert.match(notExecutable.stderr, /cannot run .*script: permission denied\n/);
  });

  test('a command that is open for writing (ETXTBSY) exits 126 with one line', async (t) => {
    const file = join(await mkdtemp(join(tmpdir(), 'c8y-token-busy-')), 'script');
    await writeFile(file, '#!/bin/sh\nexit 0\n');
    await chmod(file, 0o755);
    const busy = await whileOpenForWriting(file, () => runCli(['exec', '--', file], { env: brokerEnv(world.broker) }));
    if (!busy) return t.skip('this kernel runs a file that is open for writing');
    assert.equal(busy.code, 126, busy.stderr);
    assert.match(busy.stderr, /^c8y-token: cannot run .*script: the file is open for writing\n/);
  });

  /** Starts `exec` with a shell script that prints "ready" once its traps are set. */
  async function started(script: string) {
    const run = runCli(['exec', '--', 'sh', '-c', script], { env: brokerEnv(world.broker), killAfterMs: 20_000 });
    const stdout = collect(run.child.stdout!);
    await waitFor(() => stdout().includes('ready'));
    // Signals are sent only once exec has its handlers in place, as the kernel sees them (SigCgt in /proc), so that a
    // busy machine cannot make a test's signal reach exec first.
    await waitFor(() =>
      catchesSignals(run.child.pid!, [constants.signals.SIGHUP, constants.signals.SIGINT, constants.signals.SIGTERM]),
    );
    // Not the run itself: a promise returned from an async function would be awaited.
    return { run, child: run.child, stdout };
  }

  test('signals are forwarded to the command, which decides what they mean', async () => {
    const { run, child, stdout } = await started(
      'n=0; trap \'n=$((n+1)); echo "INT $n"; [ $n = 2 ] && exit 42\' INT; echo ready; while :; do sleep 0.05; done',
    );
    child.kill('SIGINT');
    await waitFor(() => stdout().includes('INT 1'));
    child.kill('SIGINT');
    const result = await run;
    assert.equal(result.code, 42, result.stderr);
    assert.equal(result.stdout, 'ready\nINT 1\nINT 2\n');
  });
});

function catchesSignals(pid: number, signals: number[]): boolean {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const caught = BigInt(`0x${/^SigCgt:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  return signals.every((signal) => (caught >> BigInt(signal - 1)) & 1n);
}
