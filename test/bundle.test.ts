import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { signToken } from '../sim/bridge.ts';
import { freePort } from '../sim/broker.ts';
import { ROOT, runCli } from './harness/cli.ts';

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

const metafile = JSON.parse(readFileSync(join(ROOT, 'dist/cli.meta.json'), 'utf8')) as Metafile;

/** Runs the CLI and returns the npm packages of the bundle chunks it loaded, and every module URL it loaded. */
async function loadedBy(args: string[]): Promise<{ packages: Set<string>; urls: string[] }> {
  const log = join(mkdtempSync(join(tmpdir(), 'c8y-token-modules-')), 'log');
  const hook = pathToFileURL(fileURLToPath(new URL('./harness/module-log.js', import.meta.url))).href;
  await runCli(args, { env: { NODE_OPTIONS: `--import ${hook}`, C8Y_TOKEN_MODULE_LOG: log } });
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const packages = new Set<string>();
  for (const url of urls.filter((u) => u.startsWith('file:'))) {
    const output = metafile.outputs[fileURLToPath(url).slice(ROOT.length + 1)];
    for (const input of Object.keys(output?.inputs ?? {})) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input)?.[1];
      if (name) packages.add(name);
    }
  }
  return { packages, urls };
}

describe('the bundled CLI', () => {
  test('bin/c8y-token runs the bundle, not the compiled sources', async () => {
    const { urls } = await loadedBy(['--version']);
    assert.ok(
      urls.some((url) => url.endsWith('/dist/cli/c8y-token.js')),
      urls.join('\n'),
    );
    assert.deepEqual(
      urls.filter((url) => url.includes('/dist/src/') || url.includes('/node_modules/')),
      [],
    );
  });

  test('decode of a given token loads neither mqtt nor undici', async () => {
    const { packages } = await loadedBy(['decode', await signToken()]);
    assert.ok(packages.has('jose'), 'jose decodes the token');
    assert.equal(packages.has('mqtt'), false);
    assert.equal(packages.has('undici'), false);
  });

  test('get loads mqtt but not undici', async () => {
    const { packages } = await loadedBy(['get', '--mqtt-port', String(await freePort()), '--timeout', '1']);
    assert.ok(packages.has('mqtt'));
    assert.equal(packages.has('undici'), false);
  });
});
