import type { BrokerSettings } from '../../core/settings/resolve.ts';
import { brokerClientOptions, connectBroker } from '../../core/mqtt/broker-connection.ts';
import { BridgeHealth } from '../../core/token/bridge-health.ts';

export interface BrokerProbe {
  connectMs: number;
  /** The bridges' health as found, retained, on their health topics. */
  health: BridgeHealth;
}

/**
 * Connects once, reads the retained bridge health messages and disconnects.
 * Rejects with a 'connect' C8yTokenError when the broker cannot be reached.
 */
export async function probeBroker(
  settings: BrokerSettings,
  signal: AbortSignal | undefined,
  waitMs = 500,
): Promise<BrokerProbe> {
  const options = await brokerClientOptions(settings, 5000, 'c8y-token-doctor');
  const started = Date.now();
  const client = await connectBroker(options, signal);
  const connectMs = Date.now() - started;
  const health = new BridgeHealth(settings.topicPrefix);
  const topics = health.topics.map((bridge) => bridge.topic);
  try {
    const allRetained = new Promise<void>((resolve) => {
      let seen = 0;
      client.on('message', (topic, payload, packet) => {
        if (!packet.retain || !topics.includes(topic)) return;
        health.update(topic, payload, true);
        if (++seen === topics.length) resolve();
      });
    });
    await client.subscribeAsync(topics, { qos: 0 });
    // Retained messages arrive right after the SUBACK; absent ones never do, so the wait is bounded.
    await Promise.race([allRetained, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
  } finally {
    await client.endAsync();
  }
  return { connectMs, health };
}
