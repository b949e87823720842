import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { signToken } from '../sim/bridge.ts';
import { freePort } from '../sim/broker.ts';
import { ROOT, runCli, tempCacheDir, type RunResult } from './harness/cli.ts';
import { startCurlFixture } from './harness/fixture.ts';

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

const metafile = JSON.parse(readFileSync(join(ROOT, 'dist/cli.meta.json'), 'utf8')) as Metafile;

/** Runs the CLI and returns the npm packages of the bundle chunks it loaded, and every module URL it loaded. */
async function loadedBy(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ packages: Set<string>; urls: string[]; result: RunResult }> {
  const log = join(mkdtempSync(join(tmpdir(), 'c8y-token-modules-')), 'log');
  const hook = pathToFileURL(fileURLToPath(new URL('./harness/module-log.js', import.meta.url))).href;
  const result = await runCli(args, { env: { ...env, NODE_OPTIONS: `--import ${hook}`, C8Y_TOKEN_MODULE_LOG: log } });
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const packages = new Set<string>();
  for (const url of urls.filter((u) => u.startsWith('file:'))) {
    const output = metafile.outputs[fileURLToPath(url).slice(ROOT.length + 1)];
    for (const input of Object.keys(output?.inputs ?? {})) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input)?.[1];
      if (name) packages.add(name);
    }
  }
  return { packages, urls, result };
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
    assert.equal(packages.has('mqtt'), false);
    assert.equal(packages.has('undici'), false);
  });

  test("get loads mqtt's client but not its other transports, readable-stream nor undici", async () => {
    const { packages } = await loadedBy(['get', '--mqtt-port', String(await freePort()), '--timeout', '1']);
    assert.ok(packages.has('mqtt'));
    for (const transport of ['ws', 'socks']) assert.equal(packages.has(transport), false, `${transport} was loaded`);
    assert.equal(packages.has('readable-stream'), false, "Node's own streams serve mqtt.js");
    assert.equal(packages.has('undici'), false);
  });

  for (const args of [['--version'], ['--help'], ['get', '--help']]) {
    test(`${args.join(' ')} loads neither mqtt nor undici`, async () => {
      const { packages, result } = await loadedBy(args);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual([...packages], ['commander']);
    });
  }

  test('a cached token: get, env, exec and decode load no mqtt, curl loads undici but no mqtt; bare get and curl PATH no commander', async () => {
    const fixture = await startCurlFixture();
    try {
      const env = { ...fixture.env, C8Y_TOKEN_CACHE_DIR: tempCacheDir() };
      const first = await runCli(['get'], { env });
      assert.equal(first.code, 0, first.stderr);
      for (const args of [['get'], ['env'], ['exec', '--', 'true'], ['decode']]) {
        const { packages, urls, result } = await loadedBy(args, env);
        assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
        assert.equal(packages.has('mqtt'), false, `${args.join(' ')} loaded mqtt`);
        assert.equal(packages.has('undici'), false, `${args.join(' ')} loaded undici`);
        // Nothing is hashed: loading node:crypto alone costs a call several milliseconds.
        assert.equal(urls.includes('node:crypto'), false, `${args.join(' ')} loaded node:crypto`);
        // A bare get has nothing to parse; the others need commander.
        assert.equal(packages.has('commander'), args.length > 1 || args[0] !== 'get', `${args.join(' ')}: commander`);
      }
      const { packages, result } = await loadedBy(['curl', '/user/currentUser'], env);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(packages.has('undici'));
      assert.equal(packages.has('mqtt'), false, 'curl loaded mqtt');
      assert.equal(packages.has('commander'), false, 'curl PATH has nothing to parse');
      const parsed = await loadedBy(['curl', '-s', '/user/currentUser'], env);
      assert.equal(parsed.result.code, 0, parsed.result.stderr);
      assert.ok(parsed.packages.has('commander'), 'curl -s PATH is parsed by commander');
      assert.equal(fixture.bridge.requests, 1, 'every run after the first used the cached token');
    } finally {
      await fixture.stop();
    }
  });
});
