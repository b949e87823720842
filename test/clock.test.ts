import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { getToken, tokenSource } from '../src/index.ts';
import { claimsOf, signToken, startBridge, type Bridge, type BridgeOptions } from '../sim/bridge.ts';
import { brokerEnv, runCli, tempCacheDir } from './harness/cli.ts';
import { useBrokerAndBridge } from './harness/fixture.ts';

// The device clock cannot be changed by a test: the simulated tenant's clock is shifted instead, which is the same
// thing from the device's point of view. A tenant ahead of the device is a device clock behind.
const world = useBrokerAndBridge();

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Mark = { bootId: string; atMs: number; uptimeMs: number };

/** A bridge of its own (its own topic prefix and cache) whose tenant's clock is `offsetMs` off the device's. */
async function withTenantClock(
  offsetMs: number,
  body: (scene: {
    bridge: Bridge;
    run: (...args: string[]) => ReturnType<typeof runCli>;
    cacheDir: string;
  }) => Promise<void>,
  options: BridgeOptions = {},
): Promise<void> {
  const topicPrefix = `clock${Math.round(offsetMs / 1000)}-${Math.random().toString(36).slice(2, 8)}`;
  const bridge = await startBridge(world.broker, {
    topicPrefix,
    ...options,
    token: { clockOffsetMs: offsetMs, ...options.token },
  });
  const cacheDir = tempCacheDir();
  const env = { ...brokerEnv(world.broker), C8Y_TOKEN_CACHE_DIR: cacheDir };
  try {
    await body({
      bridge,
      cacheDir,
      run: (command, ...args) => runCli([command!, '--topic-prefix', topicPrefix, ...args], { env }),
    });
  } finally {
    await bridge.stop();
  }
}

const warnings = (stderr: string) => stderr.split('\n').filter((line) => /device clock/.test(line));

describe("a device clock behind the tenant: tokens are judged in the tenant's time", () => {
  for (const [label, offsetMs, shown] of [
    ['5 minutes', 5 * MINUTE, '5m 0s'],
    ['2 hours', 2 * HOUR, '2h 0m'],
    ['3 days (more than the token lives)', 3 * DAY, '72h 0m'],
  ] as const) {
    test(`${label} behind: get prints the token and warns once`, async () => {
      await withTenantClock(offsetMs, async ({ bridge, run }) => {
        const result = await run('get');
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, `${bridge.issued.at(-1)}\n`);
        const lines = warnings(result.stderr);
        assert.equal(lines.length, 1, result.stderr);
        assert.match(lines[0]!, new RegExp(`the device clock is ${shown} behind the tenant's`));
        assert.match(lines[0]!, /timedatectl/);
        assert.equal(result.stderr, `${lines[0]}\n`, 'nothing else on stderr');
      });
    });
  }

  test("get --format json shows the offset; decode shows the validity in the tenant's time", async () => {
    await withTenantClock(2 * HOUR, async ({ run }) => {
      const json = await run('get', '--format', 'json');
      assert.equal(json.code, 0, json.stderr);
      const { clockOffsetMs, claims } = JSON.parse(json.stdout);
      assert.ok(Math.abs(clockOffsetMs - 2 * HOUR) < 2000, `clockOffsetMs ${clockOffsetMs}`);
      assert.equal(claims.iat, claimsOf(JSON.parse(json.stdout).token).iat);
      const decoded = await run('decode');
      assert.equal(decoded.code, 0, decoded.stderr);
      // The token lives 1 h in the tenant's time; by the device's clock it would expire in 3 h.
      assert.match(
        decoded.stderr,
        /expires \S+ \(in (59m \d+s|1h 0m), in the tenant's time: the device clock is 2h 0m behind/,
      );
    });
  });

  test("the cache keeps the offset: reuse, --min-validity and cache status are judged in the tenant's time", async () => {
    await withTenantClock(2 * HOUR, async ({ bridge, run, cacheDir }) => {
      const first = await run('get');
      assert.equal(first.code, 0, first.stderr);
      const [file] = (await readdir(cacheDir)).filter((name) => name.endsWith('.json'));
      const entry = JSON.parse(await readFile(join(cacheDir, file!), 'utf8'));
      assert.ok(Math.abs(entry.clockOffsetMs - 2 * HOUR) < 2000, `entry ${JSON.stringify(entry.clockOffsetMs)}`);

      const reused = await run('get', '--verbose');
      assert.equal(reused.code, 0, reused.stderr);
      assert.equal(reused.stdout, first.stdout);
      assert.equal(bridge.requests, 1);
      assert.match(reused.stderr, /using the cached token \(valid for (59m|1h 0m)/);
      assert.equal(warnings(reused.stderr).length, 1, reused.stderr);

      const status = await runCli(['cache', 'status'], { env: { C8Y_TOKEN_CACHE_DIR: cacheDir } });
      assert.match(
        status.stdout,
        /valid for (59m \d+s|1h 0m) \(until \S+, in the tenant's time: the device clock is 2h 0m behind/,
      );

      // By the device's clock the token stays valid for 3 h: that would meet --min-validity 2h.
      const fresh = await run('get', '--min-validity', '2h', '--verbose');
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.equal(bridge.requests, 2);
      assert.match(fresh.stderr, /less than the validity asked for/);
      assert.equal(fresh.stdout, `${bridge.issued.at(-1)}\n`);
    });
  });

  test("a later token's offset replaces the cached one", async () => {
    await withTenantClock(2 * HOUR, async ({ bridge, run, cacheDir }) => {
      assert.equal((await run('get')).code, 0);
      // The device clock was set right meanwhile (time sync): the next token shows no offset.
      bridge.options.token = { clockOffsetMs: 0 };
      const renewed = await run('get', '--min-validity', '2h');
      assert.equal(renewed.code, 0, renewed.stderr);
      assert.equal(bridge.requests, 2);
      assert.equal(renewed.stderr, '');
      const [file] = (await readdir(cacheDir)).filter((name) => name.endsWith('.json'));
      assert.equal(JSON.parse(await readFile(join(cacheDir, file!), 'utf8')).clockOffsetMs, 0);
      const reused = await run('get');
      assert.equal(reused.stdout, renewed.stdout);
      assert.equal(reused.stderr, '');
    });
  });

  for (const [what, change] of [
    [
      'the device clock was set 2 h forward since (time sync)',
      (mark: Mark) => ({ ...mark, atMs: mark.atMs - 2 * HOUR }),
    ],
    ['the device has booted since', (mark: Mark) => ({ ...mark, bootId: 'another-boot' })],
  ] as const) {
    test(`a cached offset no longer holds when ${what}`, async (t) => {
      if (!existsSync('/proc/sys/kernel/random/boot_id')) return t.skip('no boot id on this system');
      await withTenantClock(2 * HOUR, async ({ bridge, run, cacheDir }) => {
        assert.equal((await run('get')).code, 0);
        const [name] = (await readdir(cacheDir)).filter((file) => file.endsWith('.json'));
        const file = join(cacheDir, name!);
        const entry = JSON.parse(await readFile(file, 'utf8'));
        assert.equal(typeof entry.clockMark.bootId, 'string');
        await writeFile(file, JSON.stringify({ ...entry, clockMark: change(entry.clockMark) }));
        // The offset is gone: by the device clock alone, the cached token (issued in the tenant's time, 2 h ahead)
        // is not valid yet, and a new one is asked for, which measures the offset again.
        const renewed = await run('get', '--verbose');
        assert.equal(renewed.code, 0, renewed.stderr);
        assert.match(renewed.stderr, /ignoring the cached entry: it is not valid before/);
        assert.equal(bridge.requests, 2);
        assert.equal(warnings(renewed.stderr).length, 1);
      });
    });
  }

  test('the library: getToken exposes clockOffsetMs and passes the warning to warn', async () => {
    await withTenantClock(-5 * MINUTE, async ({ bridge }) => {
      const lines: string[] = [];
      const token = await getToken({
        env: { ...brokerEnv(world.broker), C8Y_TOKEN_CACHE_DIR: tempCacheDir() },
        topicPrefix: bridge.options.topicPrefix!,
        warn: (line) => lines.push(line),
      });
      assert.ok(Math.abs(token.clockOffsetMs + 5 * MINUTE) < 2000, `clockOffsetMs ${token.clockOffsetMs}`);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /the device clock is 5m 0s ahead of the tenant's/);
    });
  });
});

describe('a device clock ahead of the tenant', () => {
  test("the library: tokenSource (and so createC8yFetch) judges its token in the tenant's time", async () => {
    // 50 minutes ahead: by the device's clock the hour-long token has 10 minutes left, less than minValidity; in the
    // tenant's time it has 60, so the source keeps it instead of asking the bridge at every call.
    await withTenantClock(-50 * MINUTE, async ({ bridge }) => {
      const source = tokenSource({
        env: { ...brokerEnv(world.broker), C8Y_TOKEN_CACHE_DIR: tempCacheDir() },
        topicPrefix: bridge.options.topicPrefix!,
        minValidity: '15m',
        warn: () => {},
      });
      const first = await source.current();
      const second = await source.current();
      assert.equal(second.token, first.token);
      assert.equal(bridge.requests, 1);
      assert.ok(Math.abs(first.clockOffsetMs + 50 * MINUTE) < 2000, `clockOffsetMs ${first.clockOffsetMs}`);
    });
  });

  test('a few minutes ahead: the token is used, and the warning says ahead', async () => {
    await withTenantClock(-5 * MINUTE, async ({ run }) => {
      const result = await run('get', '--format', 'json');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /the device clock is 5m 0s ahead of the tenant's/);
      assert.ok(Math.abs(JSON.parse(result.stdout).clockOffsetMs + 5 * MINUTE) < 2000);
    });
  });

  for (const [label, offsetMs, shown] of [
    ['2 hours', -2 * HOUR, '2h 0m'],
    ['3 days', -3 * DAY, '72h 0m'],
  ] as const) {
    test(`${label} ahead: every token looks expired; exit 28 and the error names the clock`, async () => {
      await withTenantClock(offsetMs, async ({ bridge, run }) => {
        const result = await run('get', '--timeout', '1', '--republish', '300ms');
        assert.equal(result.code, 28, result.stderr);
        assert.equal(result.stdout, '');
        assert.ok(bridge.issued.length >= 1);
        const iat = new Date((claimsOf(bridge.issued[0]!).iat as number) * 1000).toISOString();
        assert.match(result.stderr, /every reply was a token that had expired by the device's clock \(\d{4}-\S+Z\)/);
        assert.ok(result.stderr.includes(`issued at ${iat}`), result.stderr);
        assert.match(result.stderr, new RegExp(`the device clock may be ${shown} ahead of the tenant's`));
        assert.match(result.stderr, /timedatectl/);
        assert.doesNotMatch(result.stderr, /tedge-mapper-c8y/);
      });
    });
  }

  test('expired tokens among other junk: the usual timeout, not the clock', async () => {
    await withTenantClock(
      -2 * HOUR,
      async ({ run }) => {
        const result = await run('get', '--timeout', '1', '--republish', '300ms');
        assert.equal(result.code, 28, result.stderr);
        assert.match(result.stderr, /no usable reply/);
        assert.doesNotMatch(result.stderr, /device clock/);
      },
      { junkFirst: ['71,not-a-jwt'] },
    );
  });
});

describe('bad time claims', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const tenantAhead = (claims: Record<string, unknown>) => signToken({ clockOffsetMs: 2 * HOUR, claims });

  test("a token without iat: its nbf tells the tenant's time", async () => {
    await withTenantClock(
      2 * HOUR,
      async ({ run }) => {
        const result = await run('get', '--format', 'json');
        assert.equal(result.code, 0, result.stderr);
        assert.equal(JSON.parse(result.stdout).claims.iat, undefined);
        assert.ok(Math.abs(JSON.parse(result.stdout).clockOffsetMs - 2 * HOUR) < 2000);
      },
      { token: { claims: { iat: undefined } } },
    );
  });

  test('a token without iat and nbf is judged by the device clock, without a warning', async () => {
    await withTenantClock(
      2 * HOUR,
      async ({ run }) => {
        const result = await run('get', '--format', 'json');
        assert.equal(result.code, 0, result.stderr);
        assert.equal(JSON.parse(result.stdout).clockOffsetMs, 0);
        assert.equal(result.stderr, '');
      },
      { token: { claims: { iat: undefined, nbf: undefined } } },
    );
  });

  test('iat not a number, iat after exp, nbf after exp, exp equal to iat: ignored, the next real one used', async () => {
    const t = now() + 2 * 3600;
    const junk = [
      await tenantAhead({ iat: 'soon' }),
      await tenantAhead({ iat: t, exp: t - 60 }),
      await tenantAhead({ iat: t, nbf: t + 3600, exp: t + 1800 }),
      await tenantAhead({ iat: t, nbf: t, exp: t }),
    ];
    await withTenantClock(
      2 * HOUR,
      async ({ bridge, run }) => {
        const result = await run('get', '--verbose');
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, `${bridge.issued.at(-1)}\n`);
        assert.match(result.stderr, /claim 'iat' is not a number/);
        assert.match(result.stderr, /its exp \(\S+\) is not after its nbf/);
        assert.equal((result.stderr.match(/is not after its iat/g) ?? []).length, 2, result.stderr);
      },
      { junkFirst: junk.map((token) => `71,${token}`) },
    );
  });
});
