import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startBridge } from '../sim/bridge.ts';
import { useBrokerAndBridge } from './harness/fixture.ts';
import { baseEnv, brokerEnv, cacheDirNames, runCli, tempCacheDir, waitFor } from './harness/cli.ts';
import { fakeTedge } from './harness/tedge.ts';

const world = useBrokerAndBridge();

/** Every file in the cache directory with its content and modification time: "untouched" means equal before and after. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await cacheDirNames(dir)).sort()) {
    const path = join(dir, name);
    files[name] = `${(await stat(path)).mtimeMs} ${await readFile(path, 'utf8')}`;
  }
  return files;
}

describe('interrupted while asking: the cache is left as it was', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    test(`${signal}: exit ${code}, no lock or temporary file, the cached entry untouched`, async () => {
      const prefix = `interrupted-${code}`;
      const bridge = await startBridge(world.broker, { topicPrefix: prefix });
      try {
        const cacheDir = tempCacheDir();
        const env = { ...brokerEnv(world.broker), C8Y_TOKEN_CACHE_DIR: cacheDir };
        const first = await runCli(['get', '--topic-prefix', prefix], { env });
        assert.equal(first.code, 0, first.stderr);
        const before = await snapshot(cacheDir);
        assert.equal(Object.keys(before).length, 1);

        // The cached token is too short-lived for --min-validity 2h: the run takes the lock and asks a silent bridge.
        bridge.options.silent = true;
        const requests = bridge.requests;
        const run = runCli(['get', '--topic-prefix', prefix, '--min-validity', '2h', '--timeout', '60'], {
          env,
          killAfterMs: 20_000,
        });
        await waitFor(() => bridge.requests > requests);
        assert.ok(
          (await readdir(cacheDir)).some((name) => name.endsWith('.lock')),
          'the run holds the lock',
        );
        run.child.kill(signal);
        const result = await run;
        assert.equal(result.code, code, result.stderr);
        assert.equal(result.stdout, '');
        assert.deepEqual(await snapshot(cacheDir), before);
      } finally {
        await bridge.stop();
      }
    });
  }
});

/** Makes `dir` read-only where it is, with a read-only bind mount onto itself. */
function mountReadOnly(dir: string): void {
  assert.ok(tryMount(['--bind', dir], dir), `bind-mounting ${dir}`);
  assert.ok(tryMount(['-o', 'remount,bind,ro'], dir), `making ${dir} read-only`);
}

/**
 * A file system mounted for one test: a read-only bind mount or a tiny tmpfs. Mounting needs root (CI runs as root);
 * elsewhere these tests are skipped.
 */
function tryMount(args: string[], target: string): boolean {
  try {
    execFileSync('mount', [...args, target], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function canMount(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'c8y-token-mount-'));
  const mounted = tryMount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs'], dir);
  if (mounted) execFileSync('umount', [dir]);
  rmSync(dir, { recursive: true });
  return mounted;
}

const skip = canMount() ? false : 'mounting a file system needs root';

describe('a cache directory that cannot be written: the token comes without the cache', { skip }, () => {
  test('read-only: a cached token is still read; a new one is fetched without writing', async () => {
    const cacheDir = tempCacheDir();
    const env = { ...brokerEnv(world.broker), C8Y_TOKEN_CACHE_DIR: cacheDir };
    const cached = await runCli(['get'], { env });
    assert.equal(cached.code, 0, cached.stderr);
    const before = await snapshot(cacheDir);
    mountReadOnly(cacheDir);
    try {
      const reused = await runCli(['get'], { env });
      assert.equal(reused.code, 0, reused.stderr);
      assert.equal(reused.stdout, cached.stdout);

      const requests = world.bridge.requests;
      const fresh = await runCli(['get', '--min-validity', '2h', '--verbose'], { env });
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.equal(fresh.stdout, `${world.bridge.issued.at(-1)}\n`);
      assert.equal(world.bridge.requests - requests, 1);
      assert.match(fresh.stderr, /not using the token cache: cannot create a lock in .*: read-only file system$/m);
      assert.deepEqual(await snapshot(cacheDir), before);
    } finally {
      execFileSync('umount', [cacheDir]);
    }
  });

  test('read-only, and of a looser mode than 0700: not used, and --verbose says why in words', async () => {
    const cacheDir = tempCacheDir();
    await mkdir(cacheDir, { mode: 0o755 });
    await chmod(cacheDir, 0o755);
    mountReadOnly(cacheDir);
    try {
      const result = await runCli(['get', '--verbose'], {
        env: { ...brokerEnv(world.broker), C8Y_TOKEN_CACHE_DIR: cacheDir },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        /not using the token cache: .* has mode 755 and cannot be made private: read-only file system$/m,
      );
    } finally {
      execFileSync('umount', [cacheDir]);
    }
  });

  test('full: the token still comes, twice in a row, and no empty lock or temporary file is left', async () => {
    const mountPoint = mkdtempSync(join(tmpdir(), 'c8y-token-full-'));
    assert.ok(tryMount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs'], mountPoint));
    try {
      const cacheDir = join(mountPoint, 'cache');
      mkdirSync(cacheDir, { mode: 0o700 });
      // Fill every block: the next write to the file system fails with ENOSPC.
      const filler = await open(join(mountPoint, 'filler'), 'w');
      await assert.rejects(
        filler.write(Buffer.alloc(1024 * 1024)).then(() => filler.write(Buffer.alloc(1))),
        {
          code: 'ENOSPC',
        },
      );
      await filler.close();
      // With a tedge to ask, whose settings cannot be remembered either.
      const tedge = await fakeTedge();
      const env = {
        ...brokerEnv(world.broker),
        C8Y_TOKEN_CACHE_DIR: cacheDir,
        PATH: `${tedge.dir}:${baseEnv().PATH}`,
      };
      for (let run = 0; run < 2; run++) {
        const result = await runCli(['get', '--verbose', '--timeout', '5'], { env });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, `${world.bridge.issued.at(-1)}\n`);
        assert.match(
          result.stderr,
          /not using the token cache: cannot create a lock in .*: no space left on the device$/m,
        );
        assert.match(result.stderr, /could not remember thin-edge's settings in .*: no space left on the device$/m);
        assert.deepEqual(await cacheDirNames(cacheDir), []);
      }
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });

  test('a parent directory that cannot be written: the cache directory is not made, the token still comes', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'c8y-token-ro-parent-'));
    await mkdir(join(parent, 'existing'));
    mountReadOnly(parent);
    try {
      const cacheDir = join(parent, 'cache');
      const result = await runCli(['get', '--verbose'], {
        env: { ...brokerEnv(world.broker), C8Y_TOKEN_CACHE_DIR: cacheDir },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${world.bridge.issued.at(-1)}\n`);
      assert.match(result.stderr, /not using the token cache: .*cache cannot be created: read-only file system$/m);
    } finally {
      execFileSync('umount', [parent]);
    }
  });
});
