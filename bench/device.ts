import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge, type Bridge } from '../test/harness/bridge.ts';
import { startBroker, type Broker } from '../test/harness/broker.ts';
import { startTenant, type Tenant } from '../test/harness/tenant.ts';
import { fakeTedge } from '../test/harness/tedge.ts';

/**
 * A simulated thin-edge device, built from the test harness: mosquitto, a cloud bridge answering token requests
 * after `latencyMs` (the round trip through the cloud), a fake tenant, and a `tedge` command on PATH whose
 * configuration points at the broker, as on a standard install.
 */
export interface Device {
  broker: Broker;
  bridge: Bridge;
  tenant: Tenant;
  /** The environment c8y-token runs in: the fake tedge on PATH, a private HOME and token cache. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startDevice(latencyMs: number): Promise<Device> {
  const broker = await startBroker();
  const tenant = await startTenant();
  const bridge = await startBridge(broker, { latencyMs, token: { claims: { iss: tenant.url } } });
  const tedge = await fakeTedge({ 'mqtt.client.host': broker.host, 'mqtt.client.port': String(broker.port) });
  const home = await mkdtemp(join(tmpdir(), 'c8y-token-bench-'));
  const configDir = join(home, 'tedge');
  await mkdir(configDir);
  await writeFile(join(configDir, 'tedge.toml'), `[mqtt.client]\nport = ${broker.port}\n`);
  const env: NodeJS.ProcessEnv = {
    PATH: `${tedge.dir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    LANG: 'C.UTF-8',
    TEDGE_CONFIG_DIR: configDir,
    C8Y_TOKEN_CACHE_DIR: join(home, 'token-cache'),
  };
  return {
    broker,
    bridge,
    tenant,
    env,
    async stop() {
      await bridge.stop();
      await tenant.stop();
      await broker.stop();
    },
  };
}
