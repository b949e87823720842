import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_FLAGS } from '../src/cli/flags.ts';
import { buildProgram } from '../src/cli/program.ts';
import { ROOT, runCli } from './harness/cli.ts';

describe('command line', () => {
  test('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const result = await runCli(['--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `${version}\n`);
  });

  for (const command of ['get', 'decode', 'curl', 'env', 'exec', 'doctor']) {
    test(`${command} --help shows examples and exits 0`, async () => {
      const result = await runCli([command, '--help']);
      assert.equal(result.code, 0);
      assert.match(result.stdout, new RegExp(`Usage: c8y-token ${command}`));
      assert.match(result.stdout, /Examples:/);
      assert.match(
        result.stdout,
        /--timeout <duration>[^-]*\(default:\s+15s\)/,
        'durations read as the user writes them',
      );
    });
  }

  test('curl --help lists the exit codes curl uses', async () => {
    const result = await runCli(['curl', '--help']);
    for (const code of [6, 7, 18, 22, 23, 28, 35, 47, 52, 56, 60])
      assert.match(result.stdout, new RegExp(`^  ${code} `, 'm'));
    assert.match(result.stdout, /c8y-token curl \/user\/currentUser/);
  });

  const usageErrors: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['get', '--bogus'], /unknown option '--bogus'/],
    ['an unknown command', ['fetch'], /unknown command 'fetch'/],
    ['a bad duration', ['get', '--timeout', '5x'], /--timeout: '5x' is not a duration/],
    ['a zero duration', ['get', '--timeout', '0'], /--timeout: must be greater than zero/],
    ['a bad port', ['get', '--mqtt-port', '70000'], /--mqtt-port: '70000' is not a port number/],
    ['a port that is not a number', ['get', '--mqtt-port', 'http'], /--mqtt-port: 'http' is not a port number/],
    ['a missing option value', ['get', '--timeout'], /argument missing/],
    ['a bad port in the environment', ['get'], /TEDGE_MQTT_CLIENT_PORT: 'abc' is not a port number/],
    ['curl without a path', ['curl'], /missing required argument 'path'/],
    ['a bad --retry', ['curl', '/x', '--retry', 'often'], /--retry: 'often' is not a whole number from 0 to 1000/],
    ['a zero --max-time', ['curl', '/x', '--max-time', '0'], /--max-time: must be greater than zero/],
  ];
  for (const [what, args, message] of usageErrors) {
    test(`${what} exits 2 with one clear line and nothing on stdout`, async () => {
      const result = await runCli(args, { env: { TEDGE_MQTT_CLIENT_PORT: 'abc' } });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^c8y-token: /);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    });
  }
});

describe('command lines that skip commander', () => {
  /** The flags commander hands the action of `args`, caught before the action runs. */
  async function parsedFlags(args: string[]): Promise<Record<string, unknown>> {
    const stop = new Error('parsed');
    let flags: Record<string, unknown> = {};
    const program = buildProgram('0.0.0').hook('preAction', (_, command) => {
      flags = command.opts();
      throw stop;
    });
    await assert.rejects(program.parseAsync(['node', 'c8y-token', ...args]), stop);
    return flags;
  }

  // src/cli.ts runs these command lines itself, with DEFAULT_FLAGS: they must be what commander would give.
  test('a bare get gets the flags commander would give it', async () => {
    assert.deepEqual(await parsedFlags(['get']), { ...DEFAULT_FLAGS, format: 'token' });
  });

  test('curl PATH gets the flags commander would give it', async () => {
    assert.deepEqual(await parsedFlags(['curl', '/user/currentUser']), DEFAULT_FLAGS);
  });
});
