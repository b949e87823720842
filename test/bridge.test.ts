import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import mqtt from 'mqtt';
import { builtInHealthTopic, startBridge, type Bridge } from '../sim/bridge.ts';
import { startBroker, type Broker } from '../sim/broker.ts';
import {
  mosquittoBridgeUnavailable,
  startMosquittoBridge,
  type MosquittoBridgeDevice,
} from '../sim/mosquitto-bridge.ts';
import { startTenant, type Tenant } from '../sim/tenant.ts';
import { brokerEnv, collect, runCli, waitFor } from './harness/cli.ts';

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const TIME = '\\d\\d:\\d\\d:\\d\\d';
// CI installs mosquitto and must run these; elsewhere they are skipped when it is missing.
const skip = process.env.C8Y_TOKEN_TEST_BROKER === 'mosquitto' ? false : (mosquittoBridgeUnavailable() ?? false);

async function publishRetained(broker: Broker, topic: string, payload: string): Promise<void> {
  const client = await mqtt.connectAsync({ host: broker.host, port: broker.port, reconnectPeriod: 0 });
  await client.publishAsync(topic, payload, { qos: 1, retain: true });
  await client.endAsync();
}

/** The --verbose lines from the bridge going down to its coming up again: no request may go out in between. */
function requestsWhileDown(stderr: string, service: string): string[] {
  const lines = stderr.split('\n');
  const down = lines.findIndex((line) => line.includes(`${service} reports down`));
  const up = lines.findIndex((line, n) => n > down && line.includes(`${service} reports up`));
  assert.ok(down !== -1 && up !== -1, `the bridge went down, then up:\n${stderr}`);
  assert.match(lines[up + 1] ?? '', /publishing request to \S+\/s\/uat/, 'the request goes out the moment it is up');
  return lines.slice(down, up).filter((line) => line.includes('publishing request'));
}

describe("thin-edge's mosquitto bridge (a real one, to a cloud mosquitto)", { skip }, () => {
  let device: MosquittoBridgeDevice;
  let tenant: Tenant;
  const env = () => brokerEnv(device.device);

  before(async () => {
    tenant = await startTenant();
    device = await startMosquittoBridge({ cumulocity: { token: { claims: { iss: tenant.url } } } });
  });
  after(async () => {
    await device?.stop();
    await tenant?.stop();
  });

  test('get: the token comes through the bridge from the cloud', async () => {
    const before = device.cumulocity.requests;
    const result = await runCli(['get'], { env: { ...env(), C8Y_URL: tenant.url } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout.trim(), JWT);
    assert.equal(result.stdout.trim(), device.cumulocity.issued.at(-1));
    assert.equal(device.cumulocity.requests - before, 1, 'the request reached the cloud');
  });

  test('the cloud stopped: get ends with exit 28 naming the bridge, its state and since when', async () => {
    await device.cloud.stop();
    try {
      await device.reported('down');
      const result = await runCli(['get', '--timeout', '1'], { env: { ...env(), C8Y_URL: tenant.url } });
      assert.equal(result.code, 28, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(
          `no token received within 1s: the cloud bridge mosquitto-c8y-bridge has reported down since before ${TIME}\n`,
        ),
      );
      assert.match(result.stderr, /\n {2}mosquitto's bridge cannot reach Cumulocity: .*journalctl -u mosquitto/);
    } finally {
      await device.cloud.start();
      await device.reported('up');
    }
  });

  test('get waits while the bridge is down and asks the moment mosquitto reports it up', async () => {
    await device.cloud.stop();
    await device.reported('down');
    // No republishing within the run: the token can only come from the request sent when the bridge reports up.
    const run = runCli(['get', '--verbose', '--timeout', '60', '--republish', '60s'], {
      env: { ...env(), C8Y_URL: tenant.url },
    });
    const stderr = collect(run.child.stderr!);
    try {
      await waitFor(() => stderr().includes('not asking for a token until the cloud bridge reports up'));
    } finally {
      await device.cloud.start();
    }
    const result = await run;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), device.cumulocity.issued.at(-1));
    assert.deepEqual(requestsWhileDown(result.stderr, 'mosquitto-c8y-bridge'), []);
  });

  test('doctor: the bridge check names the mosquitto bridge; down, the token check says since when', async () => {
    const up = await runCli(['doctor'], { env: { ...env(), C8Y_URL: tenant.url } });
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(up.stdout, /\nok +bridge +cloud bridge is up \(mosquitto-c8y-bridge\)/);
    await device.cloud.stop();
    try {
      await device.reported('down');
      const down = await runCli(['doctor', '--timeout', '1'], { env: { ...env(), C8Y_URL: tenant.url } });
      assert.equal(down.code, 1, down.stdout + down.stderr);
      assert.match(
        down.stdout,
        /\nfailed +bridge +cloud bridge is down \(mosquitto-c8y-bridge\)\n +hint: mosquitto's bridge/,
      );
      assert.match(
        down.stdout,
        new RegExp(
          `\nfailed +token +no token received within 1s: the cloud bridge mosquitto-c8y-bridge has reported down since before ${TIME}\n`,
        ),
      );
    } finally {
      await device.cloud.start();
      await device.reported('up');
    }
  });
});

describe("thin-edge's built-in bridge (simulated): its health, retained", () => {
  let broker: Broker;
  let bridge: Bridge;
  const prefix = 'builtin';
  const get = (...args: string[]) => runCli(['get', '--topic-prefix', prefix, ...args], { env: brokerEnv(broker) });

  before(async () => {
    broker = await startBroker();
    bridge = await startBridge(broker, { topicPrefix: prefix });
  });
  after(async () => {
    await bridge?.stop();
    await broker?.stop();
  });

  test('down until the timeout: exit 28 naming the built-in bridge, with its hint', async () => {
    await bridge.report('down');
    try {
      const result = await get('--timeout', '1');
      assert.equal(result.code, 28, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`the cloud bridge tedge-mapper-bridge-${prefix} has reported down since before ${TIME}\n`),
      );
      assert.match(result.stderr, /\n {2}tedge-mapper-c8y's built-in bridge .*journalctl -u tedge-mapper-c8y/);
    } finally {
      await bridge.report('up');
    }
  });

  test('down, then up while waiting: the request goes out at once and the token is printed', async () => {
    await bridge.report('down');
    const before = bridge.requests;
    // Republishing often, for nothing to go out while the bridge is down.
    const run = get('--verbose', '--timeout', '60', '--republish', '50ms');
    const stderr = collect(run.child.stderr!);
    try {
      await waitFor(() => stderr().includes('not asking for a token until the cloud bridge reports up'));
      await setTimeout(300);
    } finally {
      await bridge.report('up');
    }
    const result = await run;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), bridge.issued.at(-1));
    assert.deepEqual(requestsWhileDown(result.stderr, `tedge-mapper-bridge-${prefix}`), []);
    assert.ok(bridge.requests - before >= 1);
  });

  test('a bridge that went down while waiting, reported live: since when is the time it said so', async () => {
    bridge.options.silent = true;
    const run = get('--verbose', '--timeout', '2');
    const stderr = collect(run.child.stderr!);
    try {
      await waitFor(() => stderr().includes('publishing request'));
      await bridge.report('down');
      const result = await run;
      assert.equal(result.code, 28, result.stderr);
      assert.match(result.stderr, new RegExp(`has reported down since ${TIME}\n`));
    } finally {
      await bridge.report('up');
    }
  });

  test('a health message that is neither JSON nor 1/0: a --verbose line, and the token comes', async () => {
    await bridge.report('up and running');
    try {
      const result = await get('--verbose');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout.trim(), JWT);
      assert.match(
        result.stderr,
        new RegExp(`ignored a health message on ${builtInHealthTopic(prefix)}: neither JSON nor 1 or 0\n`),
      );
    } finally {
      await bridge.report('up');
    }
  });

  test('an old bridge kind still saying down does not hold the request back while the other says up', async () => {
    const mosquittoHealth = `te/device/main/service/mosquitto-${prefix}-bridge/status/health`;
    await bridge.report('up');
    await publishRetained(broker, mosquittoHealth, '0');
    try {
      const result = await get('--verbose');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`mosquitto-${prefix}-bridge reports down \\(retained\\)`));
      assert.doesNotMatch(result.stderr, /not asking for a token/);
    } finally {
      await publishRetained(broker, mosquittoHealth, '');
    }
  });
});
