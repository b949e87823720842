import assert from 'node:assert/strict';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { writeEntry } from '../src/core/cache/store.ts';
import { decodeToken, getToken } from '../src/index.ts';
import { signToken, startBridge } from '../sim/bridge.ts';
import { useBrokerAndBridge } from './harness/fixture.ts';
import { brokerEnv, cacheDirNames, runCli, tempCacheDir } from './harness/cli.ts';

const world = useBrokerAndBridge();

const env = (cacheDir: string, extra: Record<string, string | undefined> = {}) => ({
  ...brokerEnv(world.broker),
  C8Y_TOKEN_CACHE_DIR: cacheDir,
  ...extra,
});

async function entryFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.json')).map((name) => join(dir, name));
}

async function getTwice(args: string[], cacheDir: string, extra: Record<string, string | undefined> = {}) {
  const before = world.bridge.requests;
  const first = await runCli(['get', ...args], { env: env(cacheDir, extra) });
  const second = await runCli(['get', ...args], { env: env(cacheDir, extra) });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);
  return { first, second, requests: world.bridge.requests - before };
}

describe('token cache', () => {
  test('a cached token is reused without asking the bridge again', async () => {
    const { first, second, requests } = await getTwice(['--verbose'], tempCacheDir());
    assert.equal(requests, 1);
    assert.equal(second.stdout, first.stdout);
    assert.match(second.stderr, /using the cached token \(valid for (59m|1h)/);
    assert.doesNotMatch(second.stderr, /connecting/);
    assert.ok(!second.stderr.includes(second.stdout.trim()), 'the token never reaches stderr');
  });

  test('--no-cache neither reads nor writes cached tokens', async () => {
    const emptyDir = tempCacheDir();
    const { first, second, requests } = await getTwice(['--no-cache'], emptyDir);
    assert.equal(requests, 2);
    assert.notEqual(second.stdout, first.stdout);
    await assert.rejects(readdir(emptyDir), { code: 'ENOENT' });

    const cacheDir = tempCacheDir();
    const cached = await runCli(['get'], { env: env(cacheDir) });
    const [entry] = await entryFiles(cacheDir);
    const before = await readFile(entry!, 'utf8');
    const bypass = await runCli(['get', '--no-cache'], { env: env(cacheDir) });
    assert.equal(bypass.code, 0, bypass.stderr);
    assert.notEqual(bypass.stdout, cached.stdout);
    assert.equal(await readFile(entry!, 'utf8'), before);
  });

  test('--min-validity decides when a cached token is too close to expiry', async () => {
    const shortLived = await startBridge(world.broker, { topicPrefix: 'short', token: { lifetimeS: 600 } });
    try {
      const cacheDir = tempCacheDir();
      const get = async (...args: string[]) => {
        const before = shortLived.requests;
        const result = await runCli(['get', '--topic-prefix', 'short', ...args], { env: env(cacheDir) });
        assert.equal(result.code, 0, result.stderr);
        return shortLived.requests - before;
      };
      assert.equal(await get(), 1);
      assert.equal(await get(), 0, 'ten minutes left is more than the default five');
      assert.equal(await get('--min-validity', '9m'), 0);
      assert.equal(await get('--min-validity', '15m'), 1);
      assert.equal(await get('--min-validity', '900'), 1, 'a bare number is seconds');
      assert.equal(await get('--min-validity', '0'), 0);
      shortLived.options.token = { lifetimeS: 240 };
      assert.equal(await get('--min-validity', '1h'), 1);
      assert.equal(await get(), 1, 'four minutes left is less than the default five');
    } finally {
      await shortLived.stop();
    }
  });

  test('a bad --min-validity is a usage error', async () => {
    const result = await runCli(['get', '--min-validity', 'soon']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--min-validity: 'soon' is not a duration/);
  });

  test('one entry per broker and bridge topic prefix', async () => {
    const second = await startBridge(world.broker, { topicPrefix: 'c8y-second' });
    try {
      const cacheDir = tempCacheDir();
      for (const args of [[], ['--topic-prefix', 'c8y-second'], [], ['--topic-prefix', 'c8y-second']]) {
        const result = await runCli(['get', ...args], { env: env(cacheDir) });
        assert.equal(result.code, 0, result.stderr);
      }
      assert.equal(second.requests, 1);
      assert.equal((await entryFiles(cacheDir)).length, 2);
      const status = await runCli(['cache', 'status'], { env: env(cacheDir) });
      assert.match(status.stdout, new RegExp(`127\\.0\\.0\\.1:${world.broker.port} c8y: tenant t12345`));
      assert.match(status.stdout, new RegExp(`127\\.0\\.0\\.1:${world.broker.port} c8y-second: tenant t12345`));
    } finally {
      await second.stop();
    }
  });

  test('default location: $XDG_RUNTIME_DIR/c8y-token, else ~/.cache/c8y-token', async () => {
    const runtime = await mkdtemp(join(tmpdir(), 'c8y-token-runtime-'));
    const home = await mkdtemp(join(tmpdir(), 'c8y-token-home-'));
    const inRuntime = await runCli(['get'], {
      env: env('', { C8Y_TOKEN_CACHE_DIR: undefined, XDG_RUNTIME_DIR: runtime, HOME: home }),
    });
    assert.equal(inRuntime.code, 0, inRuntime.stderr);
    assert.equal((await entryFiles(join(runtime, 'c8y-token'))).length, 1);
    const inHome = await runCli(['get'], { env: env('', { C8Y_TOKEN_CACHE_DIR: undefined, HOME: home }) });
    assert.equal(inHome.code, 0, inHome.stderr);
    assert.equal((await entryFiles(join(home, '.cache', 'c8y-token'))).length, 1);
  });
});

describe('cache safety', () => {
  for (const umask of [0o000, 0o022, 0o277]) {
    test(`directory 0700 and entry 0600 whatever the umask (${umask.toString(8).padStart(3, '0')})`, async () => {
      const cacheDir = tempCacheDir();
      const before = world.bridge.requests;
      for (let run = 0; run < 2; run++) {
        const result = await runCli(['get'], { env: env(cacheDir), umask });
        assert.equal(result.code, 0, result.stderr);
      }
      assert.equal(world.bridge.requests - before, 1, 'the second run reads what the first wrote');
      assert.equal((await stat(cacheDir)).mode & 0o777, 0o700);
      const entries = await entryFiles(cacheDir);
      assert.equal(entries.length, 1);
      assert.equal((await stat(entries[0]!)).mode & 0o777, 0o600);
      assert.deepEqual(
        (await cacheDirNames(cacheDir)).filter((name) => !name.endsWith('.json')),
        [],
        'no lock or temporary file left',
      );
    });
  }

  test('an existing directory of ours with loose permissions is made private', async () => {
    const cacheDir = tempCacheDir();
    await mkdir(cacheDir, { mode: 0o755 });
    const result = await runCli(['get'], { env: env(cacheDir), umask: 0o022 });
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await stat(cacheDir)).mode & 0o777, 0o700);
  });

  const unsafeDirectories: Array<[string, () => Promise<string>, RegExp]> = [
    [
      'a symbolic link',
      async () => {
        const target = tempCacheDir();
        await mkdir(target, { mode: 0o700 });
        const link = `${target}-link`;
        await symlink(target, link);
        return link;
      },
      /is a symbolic link/,
    ],
    [
      'owned by another user',
      async () => {
        const dir = tempCacheDir();
        await mkdir(dir, { mode: 0o700 });
        await chown(dir, 65534, 65534);
        return dir;
      },
      /is owned by uid 65534, not by this user/,
    ],
  ];
  for (const [what, make, reason] of unsafeDirectories) {
    test(`a cache directory that is ${what} is not used, and --verbose says so once`, async () => {
      const cacheDir = await make();
      const { first, second, requests } = await getTwice(['--verbose'], cacheDir);
      assert.equal(requests, 2);
      for (const result of [first, second]) {
        assert.equal(result.stderr.match(/not using the token cache/g)?.length, 1, result.stderr);
        assert.match(result.stderr, reason);
      }
      assert.deepEqual(await cacheDirNames(cacheDir), []);
      const quiet = await runCli(['get'], { env: env(cacheDir) });
      assert.equal(quiet.code, 0);
      assert.equal(quiet.stderr, '');
      const status = await runCli(['cache', 'status'], { env: env(cacheDir) });
      assert.equal(status.code, 1);
      assert.match(status.stderr, /refusing to use the token cache/);
      assert.match(status.stderr, reason);
    });
  }

  test('a cache directory under a file is not used; --verbose and cache status say why in words, not errno', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'c8y-token-file-')), 'file');
    await writeFile(file, '');
    const cacheDir = join(file, 'cache');
    const result = await runCli(['get', '--verbose'], { env: env(cacheDir) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /not using the token cache: .*cache cannot be (read|created): a part of the path is not a directory/,
    );
    const status = await runCli(['cache', 'status'], { env: env(cacheDir) });
    assert.equal(status.code, 1);
    assert.match(status.stderr, /cache cannot be read: a part of the path is not a directory/);
    assert.doesNotMatch(result.stderr + status.stderr, /ENOTDIR|EEXIST/);
  });

  test('corrupt, foreign and expired entries are ignored and replaced', async () => {
    const cacheDir = tempCacheDir();
    const first = await runCli(['get'], { env: env(cacheDir) });
    assert.equal(first.code, 0, first.stderr);
    const [entry] = await entryFiles(cacheDir);
    const valid = JSON.parse(await readFile(entry!, 'utf8'));
    const corruptions = [
      '',
      '{"host":',
      'not json at all',
      Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'),
      JSON.stringify({ ...valid, token: 'not-a-jwt' }),
      JSON.stringify({ ...valid, token: await signToken({ clockOffsetMs: -2 * 3_600_000 }) }),
      JSON.stringify({ ...valid, port: valid.port + 1 }),
      JSON.stringify([valid.token]),
      'x'.repeat(100_000),
    ];
    for (const content of corruptions) {
      await writeFile(entry!, content);
      const before = world.bridge.requests;
      const result = await runCli(['get', '--verbose'], { env: env(cacheDir) });
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        /ignoring the cached entry: (corrupt|not a cache entry|too large|it expired|it was written for another)/,
      );
      assert.equal(world.bridge.requests - before, 1, `a new token was asked for instead of: ${content.slice(0, 40)}`);
      assert.equal(JSON.parse(await readFile(entry!, 'utf8')).token, result.stdout.trim(), 'the entry is replaced');
    }
  });

  test('an aborted write leaves neither an entry nor a temporary file', async () => {
    const cacheDir = tempCacheDir();
    await mkdir(cacheDir, { mode: 0o700 });
    const aborted = AbortSignal.abort(new Error('stop'));
    const key = { host: '127.0.0.1', port: 1883, topicPrefix: 'c8y', tenant: '' };
    await assert.rejects(writeEntry(cacheDir, key, decodeToken(await signToken()), aborted), /aborted/);
    assert.deepEqual(await cacheDirNames(cacheDir), []);
  });

  test('an entry replaced by a symbolic link is not followed', async () => {
    const cacheDir = tempCacheDir();
    const first = await runCli(['get'], { env: env(cacheDir) });
    const [entry] = await entryFiles(cacheDir);
    const elsewhere = join(await mkdtemp(join(tmpdir(), 'c8y-token-elsewhere-')), 'entry.json');
    await writeFile(elsewhere, await readFile(entry!));
    await rm(entry!);
    await symlink(elsewhere, entry!);
    const second = await runCli(['get', '--verbose'], { env: env(cacheDir) });
    assert.equal(second.code, 0, second.stderr);
    assert.notEqual(second.stdout, first.stdout);
    assert.match(second.stderr, /ignoring the cached entry: a symbolic link, not followed/);
    assert.ok(!(await lstat(entry!)).isSymbolicLink(), 'the link was replaced by a real entry');
  });

  test('an entry that cannot be read is ignored and replaced; --verbose says why in words', async () => {
    const cacheDir = tempCacheDir();
    await runCli(['get'], { env: env(cacheDir) });
    const [entry] = await entryFiles(cacheDir);
    await rm(entry!);
    await mkdir(entry!);
    const second = await runCli(['get', '--verbose'], { env: env(cacheDir) });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /ignoring the cached entry: unreadable: it is a directory/);
  });
});

describe('c8y-token cache status | clear', () => {
  test('status shows tenant, user and remaining validity, never the token; clear removes the entries', async () => {
    const cacheDir = tempCacheDir();
    const empty = await runCli(['cache', 'status'], { env: env(cacheDir) });
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, `cache directory: ${cacheDir}\nno cached tokens\n`);

    const got = await runCli(['get'], { env: env(cacheDir) });
    const status = await runCli(['cache', 'status'], { env: env(cacheDir) });
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      /^cache directory: .*\n127\.0\.0\.1:\d+ c8y: tenant t12345, user device_rpi4-d83add90fe56, valid for (59m \d+s|1h 0m) \(until \d{4}-.*Z\)\n$/,
    );
    assert.ok(
      !status.stdout.includes(got.stdout.trim()) && !status.stderr.includes(got.stdout.trim()),
      'the token is never shown',
    );

    const clear = await runCli(['cache', 'clear'], { env: env(cacheDir) });
    assert.equal(clear.code, 0, clear.stderr);
    assert.equal(clear.stdout, '');
    assert.match(clear.stderr, /removed 1 cached token from/);
    assert.deepEqual(await entryFiles(cacheDir), []);
  });

  for (const flag of ['--mqtt-cafile', '--mqtt-cert', '--mqtt-key']) {
    test(`a typo in ${flag} is exit 2 at once, although a cached token is valid`, async () => {
      const cacheDir = tempCacheDir();
      assert.equal((await runCli(['get'], { env: env(cacheDir) })).code, 0);
      const typo = join(cacheDir, 'no-such.pem');
      const result = await runCli(['get', flag, typo], { env: env(cacheDir) });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, new RegExp(`^c8y-token: cannot read the MQTT .* ${typo}: no such file\n`));
    });
  }

  test('a file flag that names a directory is refused as not a regular file', async () => {
    const cacheDir = tempCacheDir();
    const result = await runCli(['get', '--mqtt-cafile', tmpdir()], { env: env(cacheDir) });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /cannot read the MQTT CA file .*: not a regular file/);
  });

  test('status changes nothing on disk: a directory of looser mode keeps it', async () => {
    const cacheDir = tempCacheDir();
    await runCli(['get'], { env: env(cacheDir) });
    await chmod(cacheDir, 0o750);
    const before = await cacheDirNames(cacheDir);
    const status = await runCli(['cache', 'status'], { env: env(cacheDir) });
    assert.equal(status.code, 0, status.stderr);
    assert.equal((await stat(cacheDir)).mode & 0o777, 0o750);
    assert.deepEqual(await cacheDirNames(cacheDir), before);
  });

  test('status reports an unusable entry without failing', async () => {
    const cacheDir = tempCacheDir();
    await mkdir(cacheDir, { mode: 0o700 });
    await writeFile(join(cacheDir, '0123456789abcdef0123456789abcdef.json'), '{');
    const status = await runCli(['cache', 'status'], { env: env(cacheDir) });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /0123456789abcdef0123456789abcdef\.json: corrupt \(ignored; replaced on next use\)/);
  });
});

describe('library: getToken({ cache, minValidity, exclude })', () => {
  test('exclude evicts the cached token the tenant refused and brings a new one', async () => {
    const options = {
      mqttHost: world.broker.host,
      mqttPort: world.broker.port,
      topicPrefix: 'c8y',
      env: { C8Y_TOKEN_CACHE_DIR: tempCacheDir() },
    };
    const before = world.bridge.requests;
    const first = await getToken(options);
    const again = await getToken({ ...options, minValidity: '10m' });
    assert.equal(again.token, first.token);
    assert.equal(world.bridge.requests - before, 1);
    const fresh = await getToken({ ...options, exclude: first.token });
    assert.notEqual(fresh.token, first.token);
    assert.equal(world.bridge.requests - before, 2);
    assert.equal((await getToken(options)).token, fresh.token, 'the fresh token replaced the refused one in the cache');
    assert.notEqual(
      (await getToken({ ...options, minValidity: 2 * 3600_000 })).token,
      fresh.token,
      'a number is milliseconds',
    );
    await assert.rejects(getToken({ ...options, minValidity: -1 }), /minValidity/);
  });
});
