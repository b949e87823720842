import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { claimsOf, signToken } from '../sim/bridge.ts';
import { baseEnv, BIN, brokerEnv, collect, runCli } from './harness/cli.ts';
import { useBrokerAndBridge } from './harness/fixture.ts';

const world = useBrokerAndBridge();

describe('c8y-token decode', () => {
  test('decodes the token given as an argument, with the expiry on stderr', async () => {
    const token = await signToken({ claims: { exp: '4102444800' } });
    const result = await runCli(['decode', token]);
    assert.equal(result.code, 0, result.stderr);
    const claims = JSON.parse(result.stdout);
    assert.deepEqual({ ...claims, exp: String(claims.exp) }, claimsOf(token));
    assert.equal(claims.exp, 4102444800, 'numeric strings become numbers');
    assert.match(result.stderr, /expires 2100-01-01T00:00:00\.000Z \(in \d+h \d+m\)/);
  });

  test('reads the token from stdin when piped, accepting 71, and Bearer wrappings', async () => {
    const token = await signToken();
    for (const input of [`${token}\n`, `71,${token}\n`, `Authorization: Bearer ${token}\n`]) {
      const result = await runCli(['decode'], { input });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).tci, claimsOf(token).tci);
    }
  });

  test('an expired token is still decoded, and said to be expired', async () => {
    const token = await signToken({ lifetimeS: -120 });
    const result = await runCli(['decode', token]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).exp, claimsOf(token).exp);
    assert.match(result.stderr, /expired .* \(2m \d+s ago\)/);
  });

  test('fetches a token when none is given', async () => {
    const result = await runCli(['decode'], { env: brokerEnv(world.broker) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).tci, claimsOf(world.bridge.issued.at(-1)!).tci);
  });

  test('something that is not a JWT is a usage error, never a stack trace', async () => {
    const result = await runCli(['decode', 'not.a-token']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^c8y-token: not a JWT/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});

describe('c8y-token decode never hangs on its stdin', () => {
  test('a stdin that stays open and gives nothing: exit 28 at --timeout, one line', async () => {
    const result = await runCli(['decode', '--timeout', '1'], { holdStdin: true });
    assert.equal(result.code, 28, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^c8y-token: stdin gave no token within 1s\n {2}pipe the token in .*\n$/);
  });

  test('a stdin that stays open after the token: the token is decoded without waiting for the end', async () => {
    const token = await signToken();
    const result = await runCli(['decode', '--timeout', '10m'], { holdStdin: true, input: `${token}\n` });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).tci, claimsOf(token).tci);
  });

  test('a stdin that is a file is read; one that is /dev/null means "fetch a token"', async () => {
    const token = await signToken();
    const file = join(mkdtempSync(join(tmpdir(), 'c8y-token-decode-')), 'token');
    writeFileSync(file, token);
    const env = { ...baseEnv(), ...brokerEnv(world.broker) };
    for (const [input, expected] of [
      [file, token],
      ['/dev/null', undefined],
    ] as const) {
      // The file itself as stdin (not a pipe fed from it); spawned, not spawnSync'd: the bridge runs in this process.
      const fd = openSync(input, 'r');
      const child = spawn(process.execPath, [BIN, 'decode'], { stdio: [fd, 'pipe', 'pipe'], env });
      closeSync(fd);
      const stdout = collect(child.stdout!);
      const stderr = collect(child.stderr!);
      const [status] = await once(child, 'close');
      assert.equal(status, 0, stderr());
      const tci = claimsOf(expected ?? world.bridge.issued.at(-1)!).tci;
      assert.equal(JSON.parse(stdout()).tci, tci, input);
    }
  });

  test('an empty token argument is a usage error, not a reason to fetch one', async () => {
    const requests = world.bridge.requests;
    for (const token of ['', '  ']) {
      const result = await runCli(['decode', token], { env: brokerEnv(world.broker) });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^c8y-token: the token given is empty\n/);
    }
    assert.equal(world.bridge.requests, requests, 'no token was asked for');
  });
});
