import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { describe, test } from 'node:test';
import { signToken } from '../sim/bridge.ts';
import { baseEnv, BIN, collect, runCli, type RunOptions } from './harness/cli.ts';
import { useCurlFixture } from './harness/fixture.ts';

const f = useCurlFixture();

/** Runs the CLI on the simulated device with the reader of stdout or stderr gone before anything is written. */
const run = (args: string[], closeReader: 'stdout' | 'stderr', options: RunOptions = {}) =>
  runCli(args, { ...options, closeReader, env: { ...f.env, ...options.env } });

describe('a reader that goes away', () => {
  test('text commands (help, version, completion, doctor, decode, cache status) end quietly with exit 0', async () => {
    const token = await signToken();
    for (const args of [
      ['--help'],
      ['curl', '--help'],
      ['--version'],
      ['completion', 'bash'],
      ['doctor'],
      ['doctor', '--json'],
      ['decode', token],
      ['cache', 'status'],
    ]) {
      const result = await run(args, 'stdout');
      assert.deepEqual([result.code, result.signal, result.stderr], [0, null, ''], args.join(' '));
    }
  });

  test('data commands (get, env, curl) exit 23 with one line and a hint, as curl does', async () => {
    for (const args of [['get'], ['get', '--format', 'json'], ['env'], ['curl', '/user/currentUser']]) {
      const result = await run(args, 'stdout');
      assert.equal(result.code, 23, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(
        result.stderr,
        'c8y-token: cannot write to stdout: the reader closed the pipe\n  whatever read the output stopped reading\n',
        args.join(' '),
      );
    }
  });

  test('a full device as stdout: exit 23 with the reason in words, for a text command too', async () => {
    const fd = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', fd, 'pipe'], env: baseEnv() });
    closeSync(fd);
    const stderr = collect(child.stderr!);
    const [code] = await once(child, 'close');
    assert.equal(code, 23);
    assert.equal(stderr(), 'c8y-token: cannot write to stdout: no space left on the device\n');
  });

  test('a closed stderr: the command goes on, and its exit code still tells', async () => {
    const ok = await run(['get'], 'stderr');
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, `${f.bridge.issued.at(-1)}\n`);
    for (const [args, code] of [
      [['get', '--bogus'], 2],
      [['decode', 'not-a-token'], 2],
      [['get', '--mqtt-port', '1', '--verbose'], 7],
    ] as const) {
      const result = await run([...args], 'stderr');
      assert.deepEqual([result.code, result.signal, result.stdout], [code, null, ''], args.join(' '));
    }
  });
});
