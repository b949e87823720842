import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claimsOf, signToken } from '../sim/bridge.ts';
import { brokerEnv, runCli } from './harness/cli.ts';
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
