import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { useBrokerAndBridge } from './harness/fixture.ts';
import { BIN, baseEnv, brokerEnv, collect, runCli, waitFor } from './harness/cli.ts';

const world = useBrokerAndBridge();

/**
 * The command under test: it writes every signal it receives to a file, a line each, and exits 0 once it has had
 * SIGUSR2, the tests' last signal (after the signals already delivered with it have been written too).
 */
const RECORDER = `
const { appendFileSync } = require('node:fs');
const log = process.argv[2];
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']) {
  process.on(signal, () => {
    appendFileSync(log, signal + '\\n');
    if (signal === 'SIGUSR2') setImmediate(() => process.exit(0));
  });
}
appendFileSync(log, 'ready ' + process.ppid + ' ' + process.pid + '\\n');
setInterval(() => {}, 1000);
`;

/** A recorder's files: the script, and the log of what it received (its first line: its parent, c8y-token, and itself). */
function recorder(): {
  args: string[];
  received: () => string[];
  execPid: () => number | undefined;
  pid: () => number;
} {
  const dir = mkdtempSync(join(tmpdir(), 'c8y-token-signals-'));
  const script = join(dir, 'recorder.cjs');
  const log = join(dir, 'received');
  writeFileSync(script, RECORDER);
  writeFileSync(log, '');
  const lines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return {
    args: [process.execPath, script, log],
    received: () => lines().slice(1),
    execPid: () => {
      const ready = lines()[0];
      return ready ? Number(ready.split(' ')[1]) : undefined;
    },
    pid: () => Number(lines()[0]!.split(' ')[2]),
  };
}

/** Whether the signal waits, not yet delivered, at the process: until it has been, its handler has not run. */
function pending(pid: number, signal: NodeJS.Signals): boolean {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const bit = 1n << BigInt(constants.signals[signal] - 1);
  return ['SigPnd', 'ShdPnd'].some(
    (field) => BigInt(`0x${new RegExp(`^${field}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0'}`) & bit,
  );
}

/**
 * Sends the signal to the group that c8y-token leads while c8y-token is stopped, and lets it go on once any copy the
 * command had from the group has been delivered: a copy forwarded while another was still pending would merge with it
 * (a signal does not queue), and hide the duplicate that this test is there to see.
 */
async function sendToGroupWhileStopped(pid: number, signal: NodeJS.Signals, commandPid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  await waitFor(() => /^\S+ \(.*\) T/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')));
  process.kill(-pid, signal);
  await waitFor(() => pending(pid, signal) && !pending(commandPid, signal));
  process.kill(pid, 'SIGCONT');
}

/**
 * Waits until the recorder has the signal and c8y-token has taken its own copy (if it had one), then sends SIGUSR2 to
 * c8y-token alone: c8y-token forwards that after anything it forwards of the first signal, so by the time the
 * recorder exits on it, every copy of the first signal has reached the recorder.
 */
async function finish(
  signal: NodeJS.Signals,
  rec: ReturnType<typeof recorder>,
  execPid: number,
  exited: () => boolean,
): Promise<void> {
  await waitFor(() => rec.received().includes(signal));
  await waitFor(() => !pending(execPid, signal));
  process.kill(execPid, 'SIGUSR2');
  await waitFor(exited);
}

describe('exec without a terminal (cron, systemd, scripts): the command gets each signal once', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1'] as const) {
    for (const target of ['group', 'alone'] as const) {
      test(`${signal} sent to ${target === 'group' ? "c8y-token's process group" : 'c8y-token alone'}`, async () => {
        const rec = recorder();
        // runCli starts c8y-token as the leader of its own process group, as a shell starts a job.
        const run = runCli(['exec', '--verbose', '--', ...rec.args], {
          env: brokerEnv(world.broker),
          killAfterMs: 20_000,
        });
        let exited = false;
        void run.then(() => (exited = true));
        await waitFor(() => rec.execPid() !== undefined);
        const pid = run.child.pid!;
        if (target === 'group') await sendToGroupWhileStopped(pid, signal, rec.pid());
        else process.kill(pid, signal);
        await finish(signal, rec, pid, () => exited);
        const result = await run;
        assert.deepEqual(rec.received(), [signal, 'SIGUSR2']);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /in a session of its own; every signal c8y-token receives is forwarded/);
      });
    }
  }
});

/** What runCli gives c8y-token, for the tests that start it from a shell of their own. */
function shellEnv(): Record<string, string> {
  const env = { ...baseEnv(), ...brokerEnv(world.broker) };
  return { ...env, C8Y_TOKEN_CACHE_DIR: join(env.HOME!, 'token-cache') };
}

const ROUNDS = 5;

const hasScript = spawnSync('script', ['--version']).status === 0;

/**
 * Runs `c8y-token exec --verbose -- <recorder>` on a pseudo-terminal (util-linux `script`), in its foreground:
 * what is written to `terminal` is typed on it ("\x03" is Ctrl-C, which the kernel sends to the foreground group).
 */
function execOnTerminal(rec: ReturnType<typeof recorder>) {
  const env = shellEnv();
  const command = [process.execPath, BIN, 'exec', '--verbose', '--', ...rec.args]
    .map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  // `set -m`: the shell runs c8y-token as a job, in a process group of its own that it makes the terminal's
  // foreground, as an interactive shell does; the shell itself is then out of reach of what is typed.
  const terminal: ChildProcess = spawn('script', ['-qec', `set -m; ${command}`, '/dev/null'], { env, detached: true });
  const output = collect(terminal.stdout!);
  let exited = false;
  terminal.once('exit', () => (exited = true));
  const killer = setTimeout(() => process.kill(-terminal.pid!, 'SIGKILL'), 20_000);
  terminal.once('exit', () => clearTimeout(killer));
  return { terminal, output, exited: () => exited };
}

describe('exec in a terminal: the command gets each signal once', {
  skip: !hasScript && 'script (util-linux) is missing',
}, () => {
  for (const [typed, key, signal] of [
    ['\x03', 'Ctrl-C', 'SIGINT'],
    ['\x1c', 'Ctrl-\\', 'SIGQUIT'],
  ] as const) {
    test(`${key}: ${signal} from the terminal reaches the command once, not again from c8y-token`, async () => {
      const rec = recorder();
      const { terminal, output, exited } = execOnTerminal(rec);
      await waitFor(() => rec.execPid() !== undefined);
      const execPid = rec.execPid()!;
      // c8y-token cannot be stopped here (the shell would take the terminal back): a forwarded copy that merges with
      // the terminal's shows no duplicate, so the key is pressed several times. SIGUSR1, which c8y-token forwards
      // after whatever it forwarded of the key's signal, closes each round.
      const count = (name: string) => rec.received().filter((received) => received === name).length;
      for (let round = 1; round <= ROUNDS; round++) {
        terminal.stdin!.write(typed);
        await waitFor(() => count(signal) >= round && !pending(execPid, signal));
        process.kill(execPid, 'SIGUSR1');
        await waitFor(() => count('SIGUSR1') === round);
      }
      process.kill(execPid, 'SIGUSR2');
      await waitFor(exited);
      terminal.stdin!.end();
      assert.deepEqual(rec.received(), [...Array(ROUNDS).fill([signal, 'SIGUSR1']).flat(), 'SIGUSR2'], output());
      assert.match(output(), /in c8y-token's process group, the terminal's foreground/);
      assert.match(output(), new RegExp(`${signal} not forwarded: the command had it from the terminal too`));
    });
  }

  test('SIGTERM sent to c8y-token alone is forwarded once', async () => {
    const rec = recorder();
    const { terminal, output, exited } = execOnTerminal(rec);
    await waitFor(() => rec.execPid() !== undefined);
    process.kill(rec.execPid()!, 'SIGTERM');
    await finish('SIGTERM', rec, rec.execPid()!, exited);
    terminal.stdin!.end();
    assert.deepEqual(rec.received(), ['SIGTERM', 'SIGUSR2'], output());
    assert.match(output(), /in c8y-token's process group, the terminal's foreground/);
  });
});

describe('exec: a command ended by a signal ends c8y-token by that signal', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE', 'SIGUSR1', 'SIGKILL'] as const) {
    test(`${signal}`, async () => {
      const result = await runCli(['exec', '--', 'sh', '-c', `kill -${signal.slice(3)} $$`], {
        env: brokerEnv(world.broker),
      });
      assert.equal(result.signal, signal, `code ${result.code}: ${result.stderr}`);
      assert.equal(result.stderr, '');
    });
  }

  for (const [signal, code] of [
    ['SIGQUIT', 131],
    ['SIGSEGV', 139],
  ] as const) {
    test(`${signal}, which would dump Node's core: exit ${code}, as a shell reports it`, async () => {
      const result = await runCli(['exec', '--', 'sh', '-c', `ulimit -c 0; kill -${signal.slice(3)} $$`], {
        env: brokerEnv(world.broker),
      });
      assert.equal(result.code, code, result.stderr);
      assert.equal(result.signal, null);
    });
  }

  // bash, not dash: dash ends its loop at SIGINT whatever its child did, bash only when the child died by it.
  const shell = 'bash';
  test('a bash loop around exec stops at Ctrl-C (SIGINT to the whole group)', {
    skip: spawnSync(shell, ['-c', 'true']).status !== 0 && 'bash is missing',
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'c8y-token-loop-'));
    const runs = join(dir, 'runs');
    writeFileSync(runs, '');
    const env = shellEnv();
    const loop = `while :; do echo run >> '${runs}'; '${process.execPath}' '${BIN}' exec -- sleep 30; done`;
    const child = spawn(shell, ['-c', loop], { env, detached: true, stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    const started = () => readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
    try {
      await waitFor(() => sleepRunsUnder(child.pid!));
      process.kill(-child.pid!, 'SIGINT');
      await waitFor(() => exited || started() > 1);
      assert.equal(started(), 1, 'the loop went round again');
      assert.ok(exited);
    } finally {
      if (!exited) process.kill(-child.pid!, 'SIGKILL');
    }
  });
});

/** Whether a `sleep` runs among the descendants of `pid`: the command exec started is then there. */
function sleepRunsUnder(pid: number): boolean {
  const children = (parent: number): number[] => {
    try {
      return readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const stack = children(pid);
  while (stack.length > 0) {
    const next = stack.pop()!;
    try {
      if (readFileSync(`/proc/${next}/comm`, 'utf8').trim() === 'sleep') return true;
    } catch {
      continue;
    }
    stack.push(...children(next));
  }
  return false;
}
