import { startBridge, type Bridge } from './bridge.ts';
import { startBroker, type Broker } from './broker.ts';
import { brokerEnv, runCli, type RunOptions } from './cli.ts';
import { startTenant, type Tenant, type TenantOptions } from './tenant.ts';

/** A broker, a bridge issuing tokens whose issuer is the fake tenant's URL, and the tenant: what `curl` needs. */
export interface CurlFixture {
  broker: Broker;
  bridge: Bridge;
  tenant: Tenant;
  /** Points the CLI at the broker. */
  env: Record<string, string>;
  /** Runs `c8y-token curl <args>` with `env` (plus options.env). */
  curl(args: string[], options?: RunOptions): ReturnType<typeof runCli>;
  stop(): Promise<void>;
}

export async function startCurlFixture(options: TenantOptions = {}): Promise<CurlFixture> {
  const broker = await startBroker();
  const tenant = await startTenant(options);
  const bridge = await startBridge(broker, { token: { claims: { iss: tenant.url } } });
  const env = brokerEnv(broker);
  return {
    broker,
    bridge,
    tenant,
    env,
    curl: (args, run = {}) => runCli(['curl', ...args], { ...run, env: { ...env, ...run.env } }),
    async stop() {
      await bridge.stop();
      await tenant.stop();
      await broker.stop();
    },
  };
}
