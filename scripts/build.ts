import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDtsBundle } from 'dts-bundle-generator';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from '../src/cli/completion/scripts.ts';
import { buildProgram } from '../src/cli/program.ts';
import { describeProgram } from '../src/cli/program-spec.ts';
import { thirdPartyLicenses } from './licenses.ts';
import { manPage } from './man-page.ts';

/** The repository root, from dist/scripts/ where the compiled script runs. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Two levels below package.json, like the bundle's entry: src/cli/main.ts reads the version from '../../package.json'. */
const CLI_DIR = resolve(ROOT, 'dist/cli');
const LIB_DIR = resolve(ROOT, 'dist/lib');
/** Which source files and packages went into which output file; the tests read it to see what a command loads. */
const METAFILE = resolve(ROOT, 'dist/cli.meta.json');
const MAN_PAGE = resolve(ROOT, 'dist/man/c8y-token.1');
/** What `c8y-token completion SHELL` prints, in dist/completions/SHELL/, named as each shell looks for it. */
const COMPLETIONS_DIR = resolve(ROOT, 'dist/completions');
const COMPLETION_FILES: Record<CompletionShell, string> = {
  bash: 'c8y-token',
  zsh: '_c8y-token',
  fish: 'c8y-token.fish',
};

/** CommonJS dependencies (mqtt, commander) call require() for Node's built-in modules; ESM has none of its own. */
const REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);";

/**
 * mqtt.js and bl take their streams from readable-stream, a copy of Node's own stream module for browsers and old
 * Nodes; readable-stream itself hands out Node's when READABLE_STREAM=disable. The bundle does so always: it runs on
 * Node >= 18.19 only, and a cache miss no longer compiles ~215 KB of duplicate stream code (~13 ms of `get --no-cache`).
 */
const nodeStreams: Plugin = {
  name: 'node-streams',
  setup(build) {
    build.onResolve({ filter: /^readable-stream$/ }, () => ({ path: 'node:stream', external: true }));
  },
};

/** What both bundles share: ESM for Node >= 18.19, lazy chunks for each dynamic import(), every package inlined. */
const bundle = {
  absWorkingDir: ROOT,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node18.19',
  banner: { js: REQUIRE_SHIM },
  metafile: true,
  plugins: [nodeStreams],
  logLevel: 'warning',
} satisfies BuildOptions;

/**
 * Bundles the CLI with its dependencies: Node then reads a few files at start-up instead of hundreds, and the
 * Debian package needs no node_modules. Code splitting keeps each command's dynamic import() lazy: `decode`
 * of a given token never reads the chunk holding mqtt.
 */
await rm(CLI_DIR, { recursive: true, force: true });
const cli = await build({
  ...bundle,
  entryPoints: { 'c8y-token': 'src/cli/main.ts', 'compile-cache': 'src/cli/compile-cache.ts' },
  outdir: CLI_DIR,
});
await writeFile(METAFILE, JSON.stringify(cli.metafile, null, 2));
await writeFile(resolve(CLI_DIR, 'THIRD-PARTY-LICENSES'), await thirdPartyLicenses('command-line', cli.metafile, ROOT));

/**
 * The library, bundled apart from the CLI so that its imports do not shape the chunks the CLI loads at start-up: the
 * npm package then needs no dependencies installed. Its types are tsc's, in one file, with undici's Dispatcher
 * (C8yFetchOptions.dispatcher) inlined: a type imported from 'undici' would not resolve where undici is not installed.
 */
await rm(LIB_DIR, { recursive: true, force: true });
const lib = await build({ ...bundle, entryPoints: { index: 'src/index.ts' }, outdir: LIB_DIR });
await writeFile(resolve(LIB_DIR, 'THIRD-PARTY-LICENSES'), await thirdPartyLicenses('library', lib.metafile, ROOT));
const [types] = generateDtsBundle(
  [
    {
      filePath: resolve(ROOT, 'dist/src/index.d.ts'),
      libraries: { inlinedLibraries: ['undici'] },
      output: { exportReferencedTypes: false, noBanner: true },
    },
  ],
  { preferredConfigPath: resolve(ROOT, 'tsconfig.json') },
);
await writeFile(resolve(LIB_DIR, 'index.d.ts'), types!);

const { version } = JSON.parse(await readFile(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };
// Reproducible builds (Debian's) set SOURCE_DATE_EPOCH; the page's date is then the source's, not the build's.
const date = process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000) : new Date();
const program = describeProgram(buildProgram(version));
await mkdir(dirname(MAN_PAGE), { recursive: true });
await writeFile(MAN_PAGE, manPage(program, version, date));
await rm(COMPLETIONS_DIR, { recursive: true, force: true });
for (const shell of COMPLETION_SHELLS) {
  await mkdir(resolve(COMPLETIONS_DIR, shell), { recursive: true });
  await writeFile(resolve(COMPLETIONS_DIR, shell, COMPLETION_FILES[shell]), completionScript(program, shell));
}
