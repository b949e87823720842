import mqtt from 'mqtt';
import { startBridge, type Bridge, type BridgeOptions } from './bridge.ts';
import { findMosquitto, startMosquitto, type Broker } from './broker.ts';

/**
 * A thin-edge device whose cloud bridge is mosquitto's own, as `tedge connect c8y` configures it on thin-edge 1.x (and
 * on 2.x with `mqtt.bridge.built_in=false`): a device mosquitto bridged to a "cloud" mosquitto on loopback, where a
 * simulated Cumulocity answers `s/uat` with `71,<JWT>` on `s/dat`. Stopping the cloud makes the device's mosquitto
 * report the bridge down (`0`, retained), starting it again makes it report up (`1`).
 */
export interface MosquittoBridgeDevice {
  /** The device's broker, the one c8y-token connects to. */
  device: Broker;
  /** The broker standing for Cumulocity's MQTT endpoint. */
  cloud: Broker;
  /** The simulated Cumulocity on the cloud broker. */
  cumulocity: Bridge;
  /** Where the device's mosquitto reports the bridge's health. */
  healthTopic: string;
  /** Resolves once the device's mosquitto reports the bridge as `1` (up) or `0` (down). */
  reported(status: 'up' | 'down'): Promise<void>;
  stop(): Promise<void>;
}

/** Why the tests of the mosquitto bridge cannot run here, or undefined when they can. */
export function mosquittoBridgeUnavailable(): string | undefined {
  return findMosquitto() ? undefined : 'mosquitto is not installed (apt-get install mosquitto)';
}

/**
 * thin-edge's bridge configuration for Cumulocity (crates/core/tedge/src/bridge/c8y.rs), the token topics only, with
 * plain TCP on loopback instead of certificates. restart_timeout is ours: mosquitto's default waits 5 s or more before
 * it reconnects, which would only make the tests slow (2.0.11 ignores a single value: it takes base and cap).
 */
export function bridgeConfig(cloudPort: number, topicPrefix = 'c8y'): string {
  return `
connection edge_to_c8y
address 127.0.0.1:${cloudPort}
remote_clientid rpi4-d83add90fe56
local_clientid Cumulocity
try_private false
start_type automatic
restart_timeout 1 1
cleansession true
local_cleansession false
notifications true
notifications_local_only true
notification_topic te/device/main/service/mosquitto-${topicPrefix}-bridge/status/health
bridge_attempt_unsubscribe false
keepalive_interval 60
topic s/uat out 0 ${topicPrefix}/ ""
topic s/dat in 0 ${topicPrefix}/ ""
`;
}

export async function startMosquittoBridge(
  options: { topicPrefix?: string; cumulocity?: BridgeOptions } = {},
): Promise<MosquittoBridgeDevice> {
  const executable = findMosquitto();
  if (!executable) throw new Error(mosquittoBridgeUnavailable());
  const topicPrefix = options.topicPrefix ?? 'c8y';
  const healthTopic = `te/device/main/service/mosquitto-${topicPrefix}-bridge/status/health`;
  const cloud = await startMosquitto(executable);
  const started: Array<{ stop(): Promise<void> }> = [cloud];
  // The device first: a bridge whose cloud has gone would only try to reconnect.
  const stopAll = async () => {
    for (const part of [...started].reverse()) await part.stop();
  };
  try {
    const cumulocity = await startBridge(cloud, { ...options.cumulocity, cumulocity: true });
    started.push(cumulocity);
    const device = await startMosquitto(executable, bridgeConfig(cloud.port, topicPrefix));
    started.push(device);
    const reported = (status: 'up' | 'down') => healthReported(device, healthTopic, status === 'up' ? '1' : '0');
    await reported('up');
    return {
      device,
      cloud,
      cumulocity,
      healthTopic,
      reported,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Resolves when the retained health message on the device's broker is `payload`. */
async function healthReported(device: Broker, topic: string, payload: string): Promise<void> {
  const client = await mqtt.connectAsync({ host: device.host, port: device.port, reconnectPeriod: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic} did not become ${payload} within 10 s`)), 10_000);
      client.on('message', (_topic, message) => {
        if (message.toString() !== payload) return;
        clearTimeout(timer);
        resolve();
      });
      client.subscribe(topic, { qos: 0 });
    });
  } finally {
    await client.endAsync(true);
  }
}
