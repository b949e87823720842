import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { access, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { entryBaseName } from '../src/core/cache/store.ts';
import { startBridge, type Bridge, type BridgeOptions } from '../sim/bridge.ts';
import { startBroker, type Broker } from '../sim/broker.ts';
import { brokerEnv, cacheDirNames, collect, runCli, tempCacheDir, waitFor, type RunResult } from './harness/cli.ts';

let broker: Broker;

before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker.stop();
});

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+\n$/;

/** One test's world: its own bridge prefix (so it counts only its own requests) and its own cache directory. */
interface Scene {
  bridge: Bridge;
  cacheDir: string;
  lockFile: string;
  /** `c8y-token get` on this scene's bridge and cache. */
  get(...args: string[]): ReturnType<typeof runCli>;
  /** A `get` that holds the lock, waiting on a silent bridge until it is signalled. */
  holder(): Promise<{ child: ChildProcess; result: Promise<RunResult> }>;
}

async function inScene(
  topicPrefix: string,
  options: BridgeOptions,
  body: (scene: Scene) => Promise<void>,
): Promise<void> {
  const bridge = await startBridge(broker, { topicPrefix, ...options });
  const cacheDir = tempCacheDir();
  const env = { ...brokerEnv(broker), C8Y_TOKEN_CACHE_DIR: cacheDir };
  const get = (...args: string[]) =>
    runCli(['get', '--topic-prefix', topicPrefix, ...args], { env, killAfterMs: 60_000 });
  const scene: Scene = {
    bridge,
    cacheDir,
    lockFile: join(
      cacheDir,
      `${entryBaseName({ host: broker.host, port: broker.port, topicPrefix, tenant: '' })}.lock`,
    ),
    get,
    async holder() {
      const run = get('--timeout', '60');
      await waitFor(() => bridge.requests > 0);
      // Not the run itself: a promise returned from an async function would be awaited.
      return { child: run.child, result: run };
    },
  };
  try {
    await body(scene);
  } finally {
    await bridge.stop();
  }
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('single-flight: one token request however many processes ask', () => {
  test('30 concurrent `get` on an empty cache: exactly one token request, and all 30 print a valid token', async () => {
    await inScene('crowd', { latencyMs: 1500 }, async ({ bridge, cacheDir, get }) => {
      const results = await Promise.all(Array.from({ length: 30 }, () => get('--timeout', '30')));
      for (const result of results) {
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, JWT);
        assert.ok(bridge.issued.includes(result.stdout.trim()), 'each token printed is one the bridge issued');
      }
      assert.equal(bridge.requests, 1, 'token requests');
      assert.deepEqual(
        (await cacheDirNames(cacheDir)).filter((name) => !name.endsWith('.json')),
        [],
        'no lock left behind',
      );
    });
  });

  test('a holder killed with SIGKILL leaves a stale lock that the next process takes over', async () => {
    await inScene('killed', { silent: true }, async ({ bridge, lockFile, get, holder }) => {
      const killed = await holder();
      killed.child.kill('SIGKILL');
      assert.equal((await killed.result).signal, 'SIGKILL');
      assert.ok(await exists(lockFile), 'the killed holder left its lock');

      bridge.options.silent = false;
      const next = await get('--timeout', '10', '--verbose');
      assert.equal(next.code, 0, next.stderr);
      assert.match(next.stderr, /taking over a stale lock: its holder \(pid \d+\) has died/);
      assert.equal(next.stdout, `${bridge.issued.at(-1)}\n`);
      assert.ok(!(await exists(lockFile)));
    });
  });

  const staleLocks: Array<[string, (pid: number) => object, RegExp]> = [
    [
      'its holder should have given up by now',
      (pid) => ({ pid, started: null, until: Date.now() - 1000, id: 'a' }),
      /should have given up/,
    ],
    [
      'its pid now belongs to another process',
      (pid) => ({ pid, started: '1', until: Date.now() + 60_000, id: 'b' }),
      /is gone: that pid now belongs to another process/,
    ],
    ['it is unreadable and old', () => ({}), /unreadable/],
  ];
  for (const [index, [why, record, message]] of staleLocks.entries()) {
    test(`a lock is stale when ${why}`, async () => {
      await inScene(`stale-${index}`, {}, async ({ bridge, cacheDir, lockFile, get }) => {
        await mkdir(cacheDir, { mode: 0o700 });
        // A live process (this test runner) that cannot be the holder.
        await writeFile(lockFile, JSON.stringify(record(process.pid)));
        const aMinuteAgo = new Date(Date.now() - 60_000);
        await utimes(lockFile, aMinuteAgo, aMinuteAgo);
        const result = await get('--timeout', '1', '--verbose');
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, message);
        assert.equal(bridge.requests, 1);
      });
    });
  }

  test('waiters wait for the holder at most --timeout, and stop at once on a signal', async () => {
    await inScene('held', { silent: true }, async ({ bridge, cacheDir, lockFile, get, holder }) => {
      const held = await holder();
      const waiter = await get('--timeout', '1');
      assert.equal(waiter.code, 28, waiter.stderr);
      assert.equal(waiter.stdout, '');
      assert.match(
        waiter.stderr,
        new RegExp(
          `no token received within 1s: another c8y-token process \\(pid ${held.child.pid}\\) is still asking`,
        ),
      );
      assert.equal(bridge.requests, 1, 'the waiter did not ask the bridge');

      const interrupted = get('--timeout', '60', '--verbose');
      const stderr = collect(interrupted.child.stderr!);
      await waitFor(() => /waiting for process/.test(stderr()));
      interrupted.child.kill('SIGTERM');
      const result = await interrupted;
      assert.equal(result.code, 143, result.stderr);
      assert.ok(await exists(lockFile), "a waiter leaves the holder's lock alone");

      held.child.kill('SIGINT');
      assert.equal((await held.result).code, 130);
      assert.deepEqual(await cacheDirNames(cacheDir), [], 'an interrupted holder removes its lock and writes nothing');
    });
  });
});

/** The pid of a process that has exited: a lock naming it is stale. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('single-flight under stress: stale locks taken over by a crowd', () => {
  const CROWD = 12;
  const ROUNDS = 4;

  for (let round = 1; round <= ROUNDS; round++) {
    test(`round ${round}: a dead holder's lock, ${CROWD} processes: exactly one token request`, async () => {
      await inScene(`stress-dead-${round}`, { latencyMs: 300 }, async ({ bridge, cacheDir, lockFile, get }) => {
        await mkdir(cacheDir, { mode: 0o700 });
        await writeFile(
          lockFile,
          JSON.stringify({ pid: deadPid(), started: null, until: Date.now() + 60_000, id: 'x' }),
        );
        const results = await Promise.all(Array.from({ length: CROWD }, () => get('--timeout', '30')));
        for (const result of results) assert.equal(result.stdout, `${bridge.issued[0]}\n`, result.stderr);
        assert.equal(bridge.requests, 1, 'token requests');
        assert.deepEqual(
          (await cacheDirNames(cacheDir)).filter((name) => !name.endsWith('.json')),
          [],
          'no lock, gate or temporary file left',
        );
      });
    });

    test(`round ${round}: the holder killed mid-request, ${CROWD - 1} waiters: exactly one more request`, async () => {
      await inScene(`stress-killed-${round}`, { silent: true }, async ({ bridge, lockFile, get }) => {
        const runs = Array.from({ length: CROWD }, () => get('--timeout', '30'));
        await waitFor(() => bridge.requests > 0);
        const holderPid = (JSON.parse(await readFile(lockFile, 'utf8')) as { pid: number }).pid;
        const holder = runs.find((run) => run.child.pid === holderPid)!;
        holder.child.kill('SIGKILL');
        await holder;
        bridge.options.silent = false;
        const survivors = await Promise.all(runs.filter((run) => run !== holder));
        for (const result of survivors) assert.equal(result.stdout, `${bridge.issued[0]}\n`, result.stderr);
        assert.equal(bridge.requests, 2, "the killed holder's request and one more");
      });
    });
  }
});
