import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SimulatedDevice, startSimulatedDevice } from '../sim/device.ts';
import { fakeTedge } from '../test/harness/tedge.ts';

/**
 * The simulated thin-edge device (mosquitto, cloud bridge, fake tenant) with the bridge answering after `latencyMs`
 * (the round trip through the cloud), and a `tedge` command on PATH whose configuration points at the broker, as on
 * a standard install.
 */
export interface Device extends SimulatedDevice {
  /** The environment c8y-token runs in: the fake tedge on PATH, a private HOME and token cache. */
  env: NodeJS.ProcessEnv;
}

export async function startDevice(latencyMs: number): Promise<Device> {
  const device = await startSimulatedDevice();
  const { broker } = device;
  device.bridge.options.latencyMs = latencyMs;
  const tedge = await fakeTedge({ 'mqtt.client.host': broker.host, 'mqtt.client.port': String(broker.port) });
  const home = await mkdtemp(join(tmpdir(), 'c8y-token-bench-'));
  const env: NodeJS.ProcessEnv = {
    PATH: `${tedge.dir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    LANG: 'C.UTF-8',
    TEDGE_CONFIG_DIR: tedge.configDir,
    C8Y_TOKEN_CACHE_DIR: join(home, 'token-cache'),
    // The tokens name the tenant's host, as real ones do; the fake tenant speaks http on a port of its own.
    C8Y_URL: device.tenant.url,
  };
  // The bench runs outside the tests' temporary root: what it made in the temporary directory goes with the device.
  const stop = async () => {
    await device.stop();
    for (const dir of [home, tedge.dir]) await rm(dir, { recursive: true, force: true });
  };
  return { ...device, env, stop };
}
