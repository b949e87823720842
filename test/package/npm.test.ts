import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../harness/cli.ts';

const run = promisify(execFile);
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const dir = mkdtempSync(join(tmpdir(), 'c8y-token-npm-'));
const prefix = join(dir, 'prefix');
/** The machine's npm and this test's node first: the installed bin's `#!/usr/bin/env node` finds this node. */
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
let files: string[];

before(async () => {
  // npm run test:package has just built dist/; packing must not rebuild it under the running tests.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: ROOT,
    env,
  });
  const [pack] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = pack!.files.map((file) => file.path);
  await run(
    'npm',
    ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, pack!.filename)],
    {
      env,
    },
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('the npm package', () => {
  test('holds the bin, the two bundles, the types, the licences, the man page and the completions, nothing else', () => {
    const chunks = (bundle: string) =>
      readdirSync(join(ROOT, 'dist', bundle, 'chunks'))
        .filter((name) => name.endsWith('.js'))
        .map((name) => `dist/${bundle}/chunks/${name}`);
    const expected = [
      ...['LICENSE', 'README.md', 'package.json', 'bin/c8y-token', 'dist/man/c8y-token.1'],
      ...['dist/cli/c8y-token.js', 'dist/cli/compile-cache.js', 'dist/cli/THIRD-PARTY-LICENSES', ...chunks('cli')],
      ...['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/THIRD-PARTY-LICENSES', ...chunks('lib')],
      ...['dist/completions/bash/c8y-token', 'dist/completions/zsh/_c8y-token', 'dist/completions/fish/c8y-token.fish'],
    ];
    assert.deepEqual([...files].sort(), expected.sort());
  });

  test('installed, it brings no dependency and runs no script at install time', () => {
    const installed = join(prefix, 'lib/node_modules/c8y-token');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      scripts?: Record<string, string>;
    };
    assert.equal(manifest.dependencies, undefined);
    assert.equal(existsSync(join(installed, 'node_modules')), false, 'nothing installed beside the package');
    const installScripts = ['preinstall', 'install', 'postinstall', 'prepare'].filter(
      (name) => manifest.scripts?.[name],
    );
    assert.deepEqual(installScripts, []);
  });

  test('installed with npm install -g, c8y-token --version runs', async () => {
    const { stdout } = await run(join(prefix, 'bin', 'c8y-token'), ['--version'], { env });
    assert.equal(stdout, `${version}\n`);
    assert.ok(existsSync(join(prefix, 'share/man/man1/c8y-token.1')), 'npm links the man page');
  });

  test('installed, the library imports by name, with types that need no other package', async () => {
    const lib = join(prefix, 'lib');
    // Without skipLibCheck, a type the package imports from a package not installed fails the check; the expected
    // error about the dispatcher is missing (and so fails the check too) when such a type has become `any`.
    writeFileSync(
      join(lib, 'check.ts'),
      `import { C8yTokenError, getToken, type C8yFetchOptions, type GetTokenOptions } from 'c8y-token';
const options: GetTokenOptions = { timeoutMs: 1000 };
// @ts-expect-error a dispatcher is undici's Dispatcher
const notADispatcher: C8yFetchOptions = { dispatcher: 42 };
export const check: [typeof getToken, GetTokenOptions, C8yFetchOptions, number] = [getToken, options, notADispatcher, new C8yTokenError('usage', 'x').exitCode];
`,
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--types', 'node'];
    await run(process.execPath, [
      tsc,
      ...flags,
      '--typeRoots',
      join(ROOT, 'node_modules/@types'),
      join(lib, 'check.ts'),
    ]);
    writeFileSync(join(lib, 'check.mjs'), "import { getToken } from 'c8y-token';\nconsole.log(typeof getToken);\n");
    const { stdout } = await run(process.execPath, [join(lib, 'check.mjs')]);
    assert.equal(stdout, 'function\n');
  });

  test("npx c8y-token runs the project's CLI", async () => {
    const { stdout } = await run('npx', ['--no-install', 'c8y-token', '--version'], { cwd: ROOT, env });
    assert.equal(stdout, `${version}\n`);
  });
});
