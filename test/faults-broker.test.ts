import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBridge, type Bridge } from '../sim/bridge.ts';
import { startBroker, type Broker } from '../sim/broker.ts';
import { brokerEnv, runCli } from './harness/cli.ts';

let broker: Broker;

before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker.stop();
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(20);
}

describe('faults between the CLI and the cloud bridge', () => {
  test('the broker restarts while the CLI waits: it reconnects and still gets the token', async () => {
    const bridge: Bridge = await startBridge(broker, { topicPrefix: 'restart', silent: true });
    try {
      const run = runCli(['get', '--topic-prefix', 'restart', '--timeout', '20', '--republish', '300ms', '--verbose'], {
        env: brokerEnv(broker),
      });
      await until(() => bridge.requests > 0);
      await broker.stop();
      await sleep(300);
      await broker.start();
      bridge.options.silent = false;
      const result = await run;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${bridge.issued.at(-1)}\n`);
      assert.match(result.stderr, /connection to .* lost; reconnecting/);
    } finally {
      await bridge.stop();
    }
  });

  test('the broker goes away and stays away: exit 28 at --timeout, saying the connection was lost', async () => {
    const bridge = await startBridge(broker, { topicPrefix: 'gone', silent: true });
    try {
      const run = runCli(['get', '--topic-prefix', 'gone', '--timeout', '2'], { env: brokerEnv(broker) });
      await until(() => bridge.requests > 0);
      await broker.stop();
      const result = await run;
      assert.equal(result.code, 28, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /was lost and could not be restored/);
    } finally {
      await broker.start();
      await bridge.stop();
    }
  });

  test('a slow bridge, answering close to the timeout, still delivers', async () => {
    const bridge = await startBridge(broker, { topicPrefix: 'slow', latencyMs: 1500 });
    try {
      const result = await runCli(['get', '--topic-prefix', 'slow', '--timeout', '3', '--republish', '10s'], {
        env: brokerEnv(broker),
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${bridge.issued.at(-1)}\n`);
    } finally {
      await bridge.stop();
    }
  });
});
