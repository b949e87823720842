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
