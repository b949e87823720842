import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startSimulatedDevice, type SimulatedDevice } from '../../sim/device.ts';
import { ROOT } from '../harness/cli.ts';
import { docExamples } from '../harness/doc-examples.ts';

/**
 * The examples of docs/library.md, against the package as users install it: packed, installed in a scratch project,
 * each `js` example run as an ES module on the simulated device, each `ts` example type-checked against the shipped
 * types.
 */
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'c8y-token-examples-'));
const project = join(dir, 'project');
/** The machine's npm and this test's node first. */
const npmEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
const examples = docExamples('docs/library.md');
let device: SimulatedDevice;

before(async () => {
  // The examples take the tenant's address from the token (`baseUrl`), as on a real device.
  device = await startSimulatedDevice({ issuer: 'url' });
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: ROOT,
    env: npmEnv,
  });
  const [pack] = JSON.parse(stdout) as Array<{ filename: string }>;
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), '{ "name": "scratch", "private": true, "type": "module" }\n');
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, pack!.filename)], {
    cwd: project,
    env: npmEnv,
  });
  // The @c8y/client example's client: c8y-token's development dependency, as installed for the suite.
  symlinkSync(join(ROOT, 'node_modules/@c8y'), join(project, 'node_modules/@c8y'));
});

after(async () => {
  await device?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A device's environment pointing at the simulated device, with a token cache of its own for each example. */
function deviceEnv(n: number): NodeJS.ProcessEnv {
  const config = join(dir, `tedge-${n}`);
  mkdirSync(config);
  return {
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: dir,
    TEDGE_CONFIG_DIR: config,
    C8Y_TOKEN_CACHE_DIR: join(dir, `cache-${n}`),
    TEDGE_MQTT_CLIENT_HOST: device.broker.host,
    TEDGE_MQTT_CLIENT_PORT: String(device.broker.port),
    C8Y_URL: device.tenant.url,
  };
}

describe('the examples of docs/library.md, from the packed package', () => {
  test('there are examples in both languages', () => {
    assert.ok(examples.filter((example) => example.lang === 'js').length >= 3);
    assert.ok(examples.some((example) => example.lang === 'ts'));
  });

  for (const [n, example] of examples.entries()) {
    if (example.lang !== 'js') continue;
    test(`example ${n + 1} runs as an ES module (${example.code.split('\n')[0]})`, async () => {
      const file = join(project, `example-${n + 1}.mjs`);
      writeFileSync(file, example.code);
      const { stdout } = await run(process.execPath, [file], { cwd: project, env: deviceEnv(n) });
      assert.notEqual(stdout.trim(), '', 'it printed what it got');
      assert.doesNotMatch(stdout, /undefined|false/, stdout);
    });
  }

  test('the TypeScript examples type-check against the shipped types', async () => {
    const files = examples.flatMap((example, n) => {
      if (example.lang !== 'ts') return [];
      const file = join(project, `example-${n + 1}.ts`);
      writeFileSync(file, example.code);
      return [file];
    });
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', '--types', 'node'];
    const result = await run(
      process.execPath,
      [tsc, ...flags, '--typeRoots', join(ROOT, 'node_modules/@types'), ...files],
      {
        cwd: project,
      },
    ).catch((error: { stdout: string }) => ({ stdout: error.stdout, failed: true }));
    assert.ok(!('failed' in result), result.stdout);
  });
});
