import { after, before } from 'node:test';
import { startBridge, type Bridge, type BridgeOptions } from '../../sim/bridge.ts';
import { startBroker, type Broker } from '../../sim/broker.ts';
import { startSimulatedDevice, type SimulatedDevice } from '../../sim/device.ts';
import { makeCertificate, startTenant, type Tenant, type TenantOptions } from '../../sim/tenant.ts';
import { brokerEnv, runCli, type RunOptions } from './cli.ts';

/** A simulated device (broker, bridge, tenant) and a way to run `curl` on it. */
export interface CurlFixture extends SimulatedDevice {
  /** Points the CLI at the broker. */
  env: Record<string, string>;
  /** Runs `c8y-token curl <args>` with `env` (plus options.env). */
  curl(args: string[], options?: RunOptions): ReturnType<typeof runCli>;
}

export async function startCurlFixture(options: TenantOptions = {}): Promise<CurlFixture> {
  const device = await startSimulatedDevice(options);
  // The tokens name the tenant's host, as real ones do; the tenant speaks http on a port of its own: C8Y_URL says so.
  const env = { ...brokerEnv(device.broker), C8Y_URL: device.tenant.url };
  return {
    ...device,
    env,
    curl: (args, run = {}) => runCli(['curl', ...args], { ...run, env: { ...env, ...run.env } }),
  };
}

/**
 * A CurlFixture for the whole test file: started before its first test, stopped after its last. Read its members
 * inside tests (they exist once the file's `before` hook has run).
 */
export function useCurlFixture(): CurlFixture {
  const fixture = {} as CurlFixture;
  before(async () => {
    Object.assign(fixture, await startCurlFixture());
  });
  after(() => fixture.stop());
  return fixture;
}

/**
 * A broker with a bridge on it for the whole test file: started before its first test, stopped after its last.
 * Read `broker` and `bridge` inside tests (they exist once the file's `before` hook has run).
 */
export function useBrokerAndBridge(options: BridgeOptions = {}): { readonly broker: Broker; readonly bridge: Bridge } {
  const world = {} as { broker: Broker; bridge: Bridge };
  before(async () => {
    world.broker = await startBroker();
    world.bridge = await startBridge(world.broker, options);
  });
  after(async () => {
    await world.bridge.stop();
    await world.broker.stop();
  });
  return world;
}

/**
 * An HTTPS tenant (a self-signed certificate, `certFile`) for the whole describe block it is called in: started
 * before its first test, stopped after its last. Read its members inside tests.
 */
export function useHttpsTenant(): { readonly tenant: Tenant; readonly certFile: string } {
  const fixture = {} as { tenant: Tenant; certFile: string };
  before(async () => {
    const certificate = await makeCertificate();
    fixture.certFile = certificate.certFile;
    fixture.tenant = await startTenant({ tls: certificate });
  });
  after(() => fixture.tenant.stop());
  return fixture;
}
