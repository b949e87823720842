import type { BrokerSettings } from '../../core/settings/resolve.ts';
import { brokerClientOptions, connectBroker } from '../../core/mqtt/broker-connection.ts';

/** thin-edge publishes the bridge's health, retained, on one of these topics depending on which bridge runs. */
export function bridgeHealthTopics(topicPrefix: string): { builtIn: string; mosquitto: string } {
  return {
    builtIn: `te/device/main/service/tedge-mapper-bridge-${topicPrefix}/status/health`,
    mosquitto: `te/device/main/service/mosquitto-${topicPrefix}-bridge/status/health`,
  };
}

export type BridgeHealth = { topic: string; up: boolean; status: string };

export interface BrokerProbe {
  connectMs: number;
  /** Health messages found, retained, on the bridge health topics. */
  health: BridgeHealth[];
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
  const topics = Object.values(bridgeHealthTopics(settings.topicPrefix));
  const health: BridgeHealth[] = [];
  try {
    const allRetained = new Promise<void>((resolve) => {
      client.on('message', (topic, payload, packet) => {
        if (!packet.retain || !topics.includes(topic)) return;
        health.push({ topic, ...parseHealth(payload.toString('utf8')) });
        if (health.length === topics.length) resolve();
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

/** The built-in bridge publishes `{"status":"up"}`; mosquitto's bridge notification publishes `1` or `0`. */
export function parseHealth(payload: string): { up: boolean; status: string } {
  const text = payload.trim();
  if (text === '1' || text === '0') return { up: text === '1', status: text === '1' ? 'up' : 'down' };
  try {
    const status = (JSON.parse(text) as { status?: unknown }).status;
    if (typeof status === 'string') return { up: status === 'up', status };
  } catch {
    // not JSON: reported as unknown below
  }
  return { up: false, status: 'unknown' };
}
