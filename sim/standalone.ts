import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtInHealthTopic } from './bridge.ts';
import { startSimulatedDevice, type SimulatedDevice } from './device.ts';

/**
 * The simulated device on its own, for a person to try c8y-token on: what `npm run demo` and `npm run sim` start.
 * Its tokens are shaped like real ones (their issuer is the tenant's bare host), its bridge reports its health as
 * thin-edge's built-in bridge does, and `variables` point c8y-token at it, with a token cache and thin-edge
 * configuration directory of its own in `dir`, which stop() removes.
 */
export interface StandaloneDevice {
  device: SimulatedDevice;
  dir: string;
  /** The environment that points c8y-token at the simulated device, and at nothing of the machine's own thin-edge. */
  variables: Record<string, string>;
  /** What runs where, for a person: one line each. */
  description: string[];
  stop(): Promise<void>;
}

const TOPIC_PREFIX = 'c8y';

export async function startStandaloneDevice(dirPrefix: string): Promise<StandaloneDevice> {
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  let device: SimulatedDevice | undefined;
  try {
    device = await startSimulatedDevice();
    await device.bridge.report('up');
    const configDir = join(dir, 'tedge');
    await mkdir(configDir);
    const variables = deviceVariables(device, configDir, join(dir, 'cache'));
    const stop = async () => {
      await device!.stop();
      await rm(dir, { recursive: true, force: true });
    };
    return { device, dir, variables, description: describe(device, variables), stop };
  } catch (error) {
    await device?.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function deviceVariables(device: SimulatedDevice, configDir: string, cacheDir: string): Record<string, string> {
  const { broker, tenant } = device;
  return {
    // thin-edge's own overrides of its settings, as on a device with the broker and the tenant below.
    TEDGE_MQTT_CLIENT_HOST: broker.host,
    TEDGE_MQTT_CLIENT_PORT: String(broker.port),
    TEDGE_C8Y_BRIDGE_TOPIC_PREFIX: TOPIC_PREFIX,
    TEDGE_MQTT_BRIDGE_BUILT_IN: 'true',
    TEDGE_C8Y_URL: new URL(tenant.url).hostname,
    // An installed tedge reads this empty directory: the machine's own thin-edge settings stay out.
    TEDGE_CONFIG_DIR: configDir,
    C8Y_TOKEN_CACHE_DIR: cacheDir,
    // A real tenant is https://<the token's issuer>; the fake one speaks http on a port of its own.
    C8Y_URL: tenant.url,
  };
}

function describe(device: SimulatedDevice, variables: Record<string, string>): string[] {
  const { broker, tenant } = device;
  const brokerName = broker.kind === 'mosquitto' ? 'mosquitto' : 'embedded broker (aedes; install mosquitto to use it)';
  const issuer = variables.TEDGE_C8Y_URL;
  return [
    'A simulated thin-edge device, on loopback:',
    `  MQTT broker    ${brokerName} on ${broker.host}:${broker.port}`,
    `  cloud bridge   answers ${TOPIC_PREFIX}/s/uat with 71,<token> on ${TOPIC_PREFIX}/s/dat; reports up on ` +
      builtInHealthTopic(TOPIC_PREFIX),
    `  Cumulocity     a fake tenant at ${tenant.url}; its tokens name ${issuer} as their issuer (iss), as real ones ` +
      "name their tenant's host",
    `                 (C8Y_URL: a real tenant is https://<iss>, this one speaks http on port ${new URL(tenant.url).port})`,
    `  token cache    ${variables.C8Y_TOKEN_CACHE_DIR}`,
  ];
}
