import { startBridge, type Bridge } from './bridge.ts';
import { startBroker, type Broker } from './broker.ts';
import { startTenant, type Tenant, type TenantOptions } from './tenant.ts';

/**
 * A thin-edge device connected to Cumulocity, simulated on loopback: an MQTT broker, a cloud bridge answering token
 * requests with tokens whose issuer (`iss`) is the fake tenant's URL, and the tenant. What the tests of `curl` and
 * `doctor` need, and what `npm run demo` shows.
 */
export interface SimulatedDevice {
  broker: Broker;
  bridge: Bridge;
  tenant: Tenant;
  /**
   * Sets the tenant's clock this far ahead of the device's (negative: behind), in ms: the tokens the bridge issues and
   * the tenant's Date header. The tests cannot change the device's clock; from the device, this is the same.
   */
  setTenantClock(offsetMs: number): void;
  stop(): Promise<void>;
}

export async function startSimulatedDevice(options: TenantOptions = {}): Promise<SimulatedDevice> {
  const broker = await startBroker();
  let tenant: Tenant | undefined;
  try {
    tenant = await startTenant(options);
    const bridge = await startBridge(broker, { token: { claims: { iss: tenant.url } } });
    return {
      broker,
      bridge,
      tenant,
      setTenantClock(offsetMs) {
        bridge.options.token = { ...bridge.options.token, clockOffsetMs: offsetMs };
        tenant!.clockOffsetMs = offsetMs;
      },
      async stop() {
        await bridge.stop();
        await tenant!.stop();
        await broker.stop();
      },
    };
  } catch (error) {
    await tenant?.stop();
    await broker.stop();
    throw error;
  }
}
