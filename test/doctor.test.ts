import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { startBridge, type Bridge } from '../sim/bridge.ts';
import { freePort, startBroker, type Broker } from '../sim/broker.ts';
import { baseEnv, brokerEnv, runCli, runCliInTerminal } from './harness/cli.ts';
import { fakeTedge, writeMapperToml } from './harness/tedge.ts';
import { startTenant, type Tenant } from '../sim/tenant.ts';

let broker: Broker;
let bridge: Bridge;
let tenant: Tenant;

before(async () => {
  broker = await startBroker();
  tenant = await startTenant();
  bridge = await startBridge(broker, { topicPrefix: 'doc', token: { claims: { iss: tenant.url } } });
});
after(async () => {
  await bridge.stop();
  await tenant.stop();
  await broker.stop();
});
afterEach(() => tenant.reset());

/** The simulated tenant speaks http: its tokens' issuer is taken only when the base URL is set explicitly. */
const tenantEnv = () => ({ ...brokerEnv(broker), C8Y_URL: tenant.url });

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function publishRetained(topic: string, payload: string): Promise<void> {
  const client = await mqtt.connectAsync({ host: broker.host, port: broker.port, reconnectPeriod: 0 });
  await client.publishAsync(topic, payload, { qos: 1, retain: true });
  await client.endAsync();
}

describe('c8y-token doctor', () => {
  test('a healthy device: every check ok, where each setting came from, the round trip and the claims', async () => {
    await publishRetained('te/device/main/service/tedge-mapper-bridge-doc/status/health', '{"status":"up","pid":42}');
    try {
      const result = await runCli(['doctor', '--topic-prefix', 'doc'], { env: tenantEnv() });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const lines = result.stdout.trimEnd().split('\n');
      assert.deepEqual(
        lines.map((line) => line.split(/\s+/).slice(0, 2).join(' ')),
        ['ok configuration', 'ok broker', 'ok bridge', 'ok token', 'ok claims', 'ok tenant', 'ok clock'],
      );
      assert.match(
        lines[0]!,
        new RegExp(
          `broker 127\\.0\\.0\\.1 \\(env\\) port ${broker.port} \\(env\\), topic prefix doc \\(flag\\), no TLS`,
        ),
      );
      assert.match(lines[2]!, /tedge-mapper-bridge-doc/);
      // exp is in whole seconds, an hour after the second the token was signed in: what is left rounds to 59m 59s
      // or to 1h 0m depending on how much of that second had gone.
      assert.match(
        lines[4]!,
        new RegExp(
          `tenant t12345 at ${escapeRegExp(tenant.url)}, user device_rpi4-d83add90fe56, valid for (59m \\d+s|1h 0m)$`,
        ),
      );
      assert.match(
        lines[5]!,
        new RegExp(
          `HTTP 200 from GET ${escapeRegExp(tenant.url)}/user/currentUser in \\d+ ms, user device_rpi4-d83add90fe56$`,
        ),
      );
      assert.match(
        lines[6]!,
        /the device clock is within a minute of the tenant's \(by the tenant's Date header, \w{3}, /,
      );
      assert.deepEqual(
        tenant.requests.map((request) => [request.method, request.url, request.headers.authorization]),
        [['GET', '/user/currentUser', `Bearer ${bridge.issued.at(-1)}`]],
        'the fresh token, sent once to the tenant',
      );
      assert.ok(!result.stdout.includes(bridge.issued.at(-1)!), 'the token is never shown');
    } finally {
      await publishRetained('te/device/main/service/tedge-mapper-bridge-doc/status/health', '');
    }
  });

  test('a mosquitto bridge reported down fails the bridge check; --json says so for machines', async () => {
    await publishRetained('te/device/main/service/mosquitto-doc-bridge/status/health', '0');
    try {
      const result = await runCli(['doctor', '--topic-prefix', 'doc', '--json'], { env: brokerEnv(broker) });
      assert.equal(result.code, 1, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.equal(report.ok, false);
      const bridgeCheck = report.checks.find((check: { name: string }) => check.name === 'bridge');
      assert.equal(bridgeCheck.status, 'failed');
      assert.match(bridgeCheck.summary, /cloud bridge is down \(mosquitto-doc-bridge\)/);
      assert.match(bridgeCheck.hint, /tedge connect c8y --test/);
      assert.equal(result.stderr, '', 'the report and nothing after it');
    } finally {
      await publishRetained('te/device/main/service/mosquitto-doc-bridge/status/health', '');
    }
  });

  test('a missing --mqtt-cafile fails the broker check with exit 2, in words', async () => {
    const result = await runCli([
      'doctor',
      '--mqtt-cafile',
      '/no/such/ca.pem',
      '--mqtt-port',
      String(await freePort()),
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /\nfailed +broker +cannot read the MQTT CA file \/no\/such\/ca\.pem: no such file\n/);
  });

  test('on a terminal: a line as each check starts, the skipped checks and why, nothing after the report', async () => {
    const run = await runCliInTerminal(['doctor', '--mqtt-port', String(await freePort())]);
    if (!run) return;
    assert.equal(run.code, 7, run.output);
    const lines = run.output.replace(/\r\n/g, '\n').trimEnd().split('\n');
    assert.deepEqual(
      lines.filter((line) => !line.startsWith(' ')).map((line) => line.split(/\s+/).slice(0, 2).join(' ')),
      [
        'checking configuration',
        'ok configuration',
        'checking broker',
        'failed broker',
        ...['bridge', 'token', 'claims', 'tenant', 'clock'].map((name) => `skip ${name}`),
      ],
    );
    assert.match(lines.at(-1)!, /^skip +clock +not run: the broker check failed$/);
  });

  test('no broker: the broker check fails with exit 7 and the run stops there', async () => {
    const result = await runCli(['doctor', '--mqtt-port', String(await freePort())]);
    assert.equal(result.code, 7, result.stderr);
    assert.equal(result.stderr, '', 'the report and nothing after it; on a pipe, no progress lines');
    assert.match(
      result.stdout,
      /^ok +configuration .*\nfailed +broker +.*\(connection refused\)\n +hint: is mosquitto running/,
    );
    assert.doesNotMatch(result.stdout, /token/);
  });

  test('a silent bridge: no health status is a warning, the token check fails with exit 28', async () => {
    const silent = await startBridge(broker, { topicPrefix: 'mute', silent: true });
    try {
      const result = await runCli(['doctor', '--topic-prefix', 'mute', '--timeout', '1'], { env: brokerEnv(broker) });
      assert.equal(result.code, 28, result.stderr);
      assert.match(result.stdout, /\nwarn +bridge +no bridge health status/);
      assert.match(result.stdout, /\nfailed +token +no token received within 1s/);
    } finally {
      await silent.stop();
    }
  });

  test('a token valid for less than five minutes: the claims check warns and names the tenant setting', async () => {
    const brief = await startBridge(broker, {
      topicPrefix: 'brief',
      token: { lifetimeS: 120, claims: { iss: tenant.url } },
    });
    try {
      const result = await runCli(['doctor', '--topic-prefix', 'brief', '--timeout', '1'], { env: tenantEnv() });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /\nwarn +claims +tenant t\d+ at .*valid for (1m 59s|2m 0s)\n/);
      assert.match(result.stdout, /short-lived tokens: check the tenant's OAI-Secure session settings/);
    } finally {
      await brief.stop();
    }
  });

  test('a token the tenant refuses: the tenant check fails with exit 22, without asking for another token', async () => {
    tenant.authorize = () => false;
    const result = await runCli(['doctor', '--topic-prefix', 'doc'], { env: tenantEnv() });
    assert.equal(result.code, 22, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /\nfailed +tenant +HTTP 401 Unauthorized from GET \/user\/currentUser: security\/Unauthorized: .*\n +hint: the tenant refused the token/,
    );
    assert.equal(tenant.requests.length, 1, 'a refused token is reported, not replaced');
    assert.equal(result.stderr, '', 'the report and nothing after it');
  });

  test('an unreachable tenant (--url): the tenant check fails with exit 7; --json details the other checks', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await runCli(['doctor', '--topic-prefix', 'doc', '--url', url, '--json'], {
      env: brokerEnv(broker),
    });
    assert.equal(result.code, 7, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(
      report.checks.map((check: { name: string; status: string }) => `${check.status} ${check.name}`),
      ['ok configuration', 'ok broker', 'warn bridge', 'ok token', 'ok claims', 'failed tenant', 'ok clock'],
    );
    assert.match(report.checks.at(-1).summary, /within a minute of the tenant's \(by the token's iat\)/);
    assert.match(
      report.checks.at(-2).summary,
      new RegExp(`could not connect to ${escapeRegExp(url.slice(7))} \\(ECONNREFUSED\\)`),
    );
    assert.equal(tenant.requests.length, 0);
  });

  test('a tenant that does not answer: the tenant check fails with exit 28 after --timeout', async () => {
    tenant.route('GET', '/user/currentUser', () => {});
    const result = await runCli(['doctor', '--topic-prefix', 'doc', '--timeout', '1'], {
      env: tenantEnv(),
    });
    assert.equal(result.code, 28, result.stdout + result.stderr);
    assert.match(result.stdout, /\nfailed +tenant +no answer from 127\.0\.0\.1:\d+ within 1s\n +hint: .*--timeout/);
  });

  test("thin-edge's tenant and the token's issuer disagree: the issuer check fails, nothing is sent", async () => {
    const result = await runCli(['doctor', '--topic-prefix', 'doc'], {
      env: { ...brokerEnv(broker), TEDGE_C8Y_URL: 'eu-latest.cumulocity.com' },
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /\nfailed +issuer +the token's issuer 127\.0\.0\.1 is neither thin-edge's tenant eu-latest\.cumulocity\.com \(TEDGE_C8Y_URL\) nor a subdomain of it\n +hint: is the device connected to another tenant/,
    );
    assert.doesNotMatch(result.stdout, /^\w+ +tenant /m);
    assert.equal(tenant.requests.length, 0);
  });

  test('they agree: the issuer check is ok', async () => {
    const result = await runCli(['doctor', '--topic-prefix', 'doc'], {
      env: { ...tenantEnv(), TEDGE_C8Y_URL: '127.0.0.1' },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /\nok +issuer +the token comes from thin-edge's tenant 127\.0\.0\.1 \(TEDGE_C8Y_URL\)\nok +tenant/,
    );
  });

  test('an issuer that is an http:// URL, no base URL set: the token is not sent there', async () => {
    const result = await runCli(['doctor', '--topic-prefix', 'doc'], { env: brokerEnv(broker) });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stdout, /\nfailed +tenant +the token's issuer http:\/\/127\.0\.0\.1:\d+ is not https/);
    assert.equal(tenant.requests.length, 0);
  });

  test('what thin-edge says: which tedge read which files, the bridge kind, the broker user but never the password', async () => {
    const tedge = await fakeTedge({ 'mqtt.client.port': String(broker.port), 'mqtt.bridge.built_in': 'false' });
    const password = `pw-${Date.now()}-never-shown`;
    const passwordFile = join(tedge.dir, 'password');
    await writeFile(passwordFile, `${password}\n`);
    const mapper = await writeMapperToml(tedge.configDir, { 'bridge.topic_prefix': 'doc' });
    // A profile directory without its file yet: tedge reads nothing there.
    await mkdir(join(tedge.configDir, 'mappers', 'c8y.new'));
    const env = {
      ...tenantEnv(),
      PATH: `${tedge.dir}:${baseEnv().PATH}`,
      TEDGE_CONFIG_DIR: tedge.configDir,
      TEDGE_MQTT_CLIENT_AUTH_USERNAME: 'device',
      TEDGE_MQTT_CLIENT_AUTH_PASSWORD_FILE: passwordFile,
    };
    const text = await runCli(['doctor', '--verbose'], { env });
    assert.equal(text.code, 0, text.stdout + text.stderr);
    const toml = join(tedge.configDir, 'tedge.toml');
    assert.match(
      text.stdout.split('\n')[0]!,
      new RegExp(
        `; tedge ${escapeRegExp(join(tedge.dir, 'tedge'))} read ${escapeRegExp(`${toml}, ${mapper}`)}; ` +
          `mosquitto bridge \\(mqtt\\.bridge\\.built_in=false\\); ` +
          `broker user device \\(env\\), password from ${escapeRegExp(passwordFile)}$`,
      ),
    );
    const json = await runCli(['doctor', '--json'], { env });
    const configuration = JSON.parse(json.stdout).checks[0];
    assert.equal(configuration.details.tedge, join(tedge.dir, 'tedge'));
    assert.deepEqual(configuration.details.files, [toml, mapper]);
    assert.equal(configuration.details.bridgeKind, 'mosquitto');
    assert.equal(configuration.details.username, 'device');
    for (const output of [text.stdout, text.stderr, json.stdout, json.stderr]) assert.ok(!output.includes(password));
  });

  test('without tedge on PATH, doctor says so', async () => {
    const result = await runCli(['doctor', '--topic-prefix', 'doc'], { env: tenantEnv() });
    assert.match(
      result.stdout.split('\n')[0]!,
      /; tedge not found on PATH: thin-edge's settings unknown; bridge kind not configured; no broker user$/,
    );
  });

  test('its help does not offer the cache options: doctor always asks the bridge', async () => {
    const result = await runCli(['doctor', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--url <url>/);
    assert.doesNotMatch(result.stdout, /--no-cache|--min-validity/);
  });
});
