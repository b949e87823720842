import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './harness/cli.ts';

/**
 * src/core/http/agent.ts and src/core/mqtt/broker-connection.ts import files inside undici and mqtt.js (a start-up
 * saving, see there), which no release promises to keep. So those two packages are pinned to exact versions, and
 * this test fails when a new version is taken without checking that the files are still there and still hold what
 * the code takes from them. They are devDependencies: the build bundles these very files into the CLI and the
 * library (scripts/build.ts), and the package installs no dependency.
 */
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const installed = (name: string) =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

for (const name of ['undici', 'mqtt']) {
  test(`${name} is pinned to an exact version, the one installed`, () => {
    assert.match(
      pkg.devDependencies[name]!,
      /^\d+\.\d+\.\d+$/,
      `package.json: "${name}": "${pkg.devDependencies[name]}"`,
    );
    assert.equal(installed(name), pkg.devDependencies[name]);
  });
}

test("undici's internal files hold Agent, Dispatcher, its request API and buildConnector", async () => {
  const [agent, dispatcher, api, connect] = await Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/dispatcher/dispatcher.js'),
    import('undici/lib/api/index.js'),
    import('undici/lib/core/connect.js'),
  ]);
  assert.ok(agent.default.prototype instanceof dispatcher.default, 'Agent is a Dispatcher');
  assert.equal(typeof api.default.request, 'function');
  assert.equal(typeof connect.default, 'function');
});

test("mqtt.js's lib/client holds the MqttClient class", async () => {
  const { default: client } = await import('mqtt/lib/client');
  assert.equal(typeof client.default, 'function');
  assert.equal(typeof client.default.prototype.publish, 'function');
  assert.equal(typeof client.default.prototype.subscribe, 'function');
});
