import { startBridge, type Bridge } from './bridge.ts';
import { startBroker, type Broker } from './broker.ts';
import { startTenant, type Tenant, type TenantOptions } from './tenant.ts';

/**
 * A thin-edge device connected to Cumulocity, simulated on loopback: an MQTT broker, a cloud bridge answering token
 * requests with tokens issued by the fake tenant, and the tenant. What the tests of `curl` and `doctor` need, and what
 * `npm run demo` and `npm run sim` start.
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

export interface DeviceOptions extends TenantOptions {
  /**
   * What the tokens name as their issuer (`iss`, and `aud`): the tenant's host, as a real token names its tenant's
   * (default; the tenant's http port then has to be given, in C8Y_URL), or the tenant's URL, for code that takes
   * the tenant's address from the token alone (`DeviceToken.baseUrl`).
   */
  issuer?: 'host' | 'url';
}

export async function startSimulatedDevice(options: DeviceOptions = {}): Promise<SimulatedDevice> {
  const broker = await startBroker();
  let tenant: Tenant | undefined;
  try {
    tenant = await startTenant(options);
    const issuer = options.issuer === 'url' ? tenant.url : new URL(tenant.url).hostname;
    const bridge = await startBridge(broker, { token: { claims: { iss: issuer, aud: issuer } } });
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
