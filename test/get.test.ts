import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claimsOf, signToken, startBridge } from '../sim/bridge.ts';
import { freePort } from '../sim/broker.ts';
import { brokerEnv, runCli } from './harness/cli.ts';
import { useBrokerAndBridge } from './harness/fixture.ts';

const world = useBrokerAndBridge();

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

describe('c8y-token get', () => {
  test('prints exactly the issued token and a newline on stdout, nothing on stderr', async () => {
    const result = await runCli(['get'], { env: brokerEnv(world.broker) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /\n$/);
    const token = result.stdout.slice(0, -1);
    assert.match(token, JWT);
    assert.ok(world.bridge.issued.includes(token), 'the token printed is one the bridge issued');
  });

  test('--format header prints an Authorization header', async () => {
    const result = await runCli(['get', '--format', 'header'], { env: brokerEnv(world.broker) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Authorization: Bearer [\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  test('--format json prints the token, base URL, tenant, user, expiry and claims', async () => {
    const result = await runCli(['get', '--format', 'json'], { env: brokerEnv(world.broker) });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.match(out.token, JWT);
    assert.equal(out.baseUrl, 'https://t12345.eu-latest.cumulocity.com');
    assert.equal(out.tenant, 't12345');
    assert.equal(out.user, 'device_rpi4-d83add90fe56');
    assert.equal(out.claims.exp, claimsOf(out.token).exp);
    assert.equal(new Date(out.expiresAt).getTime(), out.claims.exp * 1000);
  });

  test('an unknown --format is a usage error', async () => {
    const result = await runCli(['get', '--format', 'yaml'], { env: brokerEnv(world.broker) });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /yaml/);
  });
});

describe('replies that are not a usable token are ignored while waiting', () => {
  test('junk, malformed, expired and foreign replies before the real one', async () => {
    const now = Math.floor(Date.now() / 1000);
    const localBridge = await startBridge(world.broker, {
      topicPrefix: 'junk',
      junkFirst: [
        '',
        '71',
        '71,',
        '71,    ',
        '71,not-a-jwt',
        '71,aaa.bbb',
        '71,aaa.!!!.ccc',
        `71,e30.${Buffer.from('[1,2]').toString('base64url')}.sig`,
        `71,${await signToken({ claims: { exp: undefined } })}`,
        `71,${await signToken({ claims: { exp: 'soon' } })}`,
        `71,${await signToken({ claims: { exp: 'NaN' } })}`,
        `71,${await signToken({ claims: { iss: undefined } })}`,
        `71,e30.${Buffer.from('"a string"').toString('base64url')}.sig`,
        `71,${await signToken({ clockOffsetMs: -2 * 3_600_000 })}`,
        `71,${await signToken({ claims: { nbf: now + 1800 } })}`,
        `50,${await signToken()}`,
        Buffer.from([0x37, 0x31, 0x2c, 0xff, 0xfe, 0x00, 0x80]),
        `71,${'a'.repeat(1024 * 1024)}`,
      ],
    });
    try {
      const result = await runCli(['get', '--topic-prefix', 'junk', '--verbose'], { env: brokerEnv(world.broker) });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${localBridge.issued.at(-1)}\n`);
      assert.equal(localBridge.issued.length, 1);
      for (const reason of [
        'empty message',
        "'71' message without a token",
        'not a JWT',
        "has no 'exp' claim",
        "claim 'exp' is not a number",
        "it has no 'iss' claim",
        'it expired',
        'not valid before',
        "message id '50' is not 71",
        'not UTF-8',
        'too large',
      ]) {
        assert.ok(result.stderr.includes(reason), `--verbose explains: ${reason}\n${result.stderr}`);
      }
      assert.ok(!result.stderr.includes(localBridge.issued[0]!), 'the token never reaches stderr');
    } finally {
      await localBridge.stop();
    }
  });

  test('a retained stale token on s/dat is ignored; a fresh one is requested', async () => {
    const localBridge = await startBridge(world.broker, { topicPrefix: 'stale' });
    const stale = await signToken();
    await localBridge.retain(`71,${stale}`);
    try {
      const result = await runCli(['get', '--topic-prefix', 'stale', '--verbose'], { env: brokerEnv(world.broker) });
      assert.equal(result.code, 0, result.stderr);
      assert.notEqual(result.stdout, `${stale}\n`);
      assert.equal(result.stdout, `${localBridge.issued.at(-1)}\n`);
      assert.match(result.stderr, /retained/);
    } finally {
      await localBridge.retain('');
      await localBridge.stop();
    }
  });

  test('a lost request is published again', async () => {
    const localBridge = await startBridge(world.broker, { topicPrefix: 'lossy', dropFirst: 1 });
    try {
      const result = await runCli(['get', '--topic-prefix', 'lossy', '--republish', '200ms'], {
        env: brokerEnv(world.broker),
      });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(localBridge.requests >= 2, `requests seen: ${localBridge.requests}`);
      assert.equal(result.stdout, `${localBridge.issued.at(-1)}\n`);
    } finally {
      await localBridge.stop();
    }
  });
});

describe('failures end in bounded time with a documented exit code', () => {
  test('a silent bridge: exit 28 after --timeout, with a hint', async () => {
    const silent = await startBridge(world.broker, { topicPrefix: 'silent', silent: true });
    try {
      const result = await runCli(['get', '--topic-prefix', 'silent', '--timeout', '1', '--republish', '300ms'], {
        env: brokerEnv(world.broker),
      });
      assert.equal(result.code, 28);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /no token received within 1s/);
      assert.match(result.stderr, /tedge connect c8y --test/);
      assert.ok(silent.requests >= 2, 'it asked again while waiting');
    } finally {
      await silent.stop();
    }
  });

  test('no broker listening: exit 7 naming the address', async () => {
    const port = await freePort();
    const result = await runCli(['get', '--mqtt-port', String(port), '--timeout', '5']);
    assert.equal(result.code, 7);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`));
    assert.match(result.stderr, /is mosquitto running/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });
});

describe('signals', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    test(`${signal} while waiting for the token exits ${code} at once`, async () => {
      const silent = await startBridge(world.broker, { topicPrefix: `signal-${code}`, silent: true });
      try {
        const run = runCli(['get', '--topic-prefix', `signal-${code}`, '--timeout', '60', '--verbose'], {
          env: brokerEnv(world.broker),
          killAfterMs: 20_000,
        });
        while (silent.requests === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        run.child.kill(signal);
        const result = await run;
        assert.equal(result.code, code, result.stderr);
        assert.equal(result.stdout, '');
        assert.match(result.stderr, new RegExp(`interrupted by ${signal}`));
      } finally {
        await silent.stop();
      }
    });
  }
});
