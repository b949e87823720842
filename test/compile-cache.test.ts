import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from './harness/cli.ts';

/** Node 22.1+ has a compile cache; Node 18 and 20 have none, and the CLI must run all the same. */
const nodeHasCompileCache = 'enableCompileCache' in module;

/** A token cache directory made as `get` makes it (0700), and a temporary directory of its own for the run. */
function dirs(mode = 0o700): { cacheDir: string; tmp: string } {
  const base = mkdtempSync(join(tmpdir(), 'c8y-token-compile-cache-'));
  const cacheDir = join(base, 'cache');
  mkdirSync(cacheDir, { mode });
  const tmp = join(base, 'tmp');
  mkdirSync(tmp);
  return { cacheDir, tmp };
}

async function version(cacheDir: string, tmp: string): Promise<void> {
  const result = await runCli(['--version'], { env: { C8Y_TOKEN_CACHE_DIR: cacheDir, TMPDIR: tmp } });
  assert.equal(result.code, 0, result.stderr);
}

const compiledFiles = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
    : [];

describe("Node's compile cache", () => {
  test(`goes into the private token cache directory, never the shared temporary one (${nodeHasCompileCache ? 'on' : 'no compile cache on'} ${process.version})`, async () => {
    const { cacheDir, tmp } = dirs();
    await version(cacheDir, tmp);
    assert.deepEqual(readdirSync(tmp), [], 'nothing in the temporary directory');
    if (nodeHasCompileCache)
      assert.ok(compiledFiles(join(cacheDir, 'compile-cache')).length > 0, 'compiled code cached');
    else assert.deepEqual(readdirSync(cacheDir), []);
  });

  const unusable: [string, () => { cacheDir: string; tmp: string }][] = [
    [
      'missing',
      () => {
        const made = dirs();
        return { ...made, cacheDir: join(made.cacheDir, 'not-yet') };
      },
    ],
    ['open to group and others (0755)', () => dirs(0o755)],
    [
      'a symbolic link',
      () => {
        const made = dirs();
        const link = `${made.cacheDir}-link`;
        symlinkSync(made.cacheDir, link);
        return { ...made, cacheDir: link };
      },
    ],
  ];
  for (const [what, make] of unusable) {
    test(`is off when the token cache directory is ${what}`, async () => {
      const { cacheDir, tmp } = make();
      await version(cacheDir, tmp);
      assert.deepEqual(readdirSync(tmp), [], 'nothing in the temporary directory');
      assert.equal(existsSync(join(cacheDir, 'compile-cache')), false);
    });
  }
});
