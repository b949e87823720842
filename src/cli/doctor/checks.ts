import { resolveSettings, type ResolvedSettings } from '../../core/settings/resolve.ts';
import { C8yTokenError } from '../../core/errors.ts';
import type { GetTokenOptions } from '../../core/get-token.ts';
import { remainingValidity, type DeviceToken } from '../../core/token/claims.ts';
import { DEFAULT_TIMEOUT_MS } from '../../core/defaults.ts';
import { requestToken } from '../../core/token/request.ts';
import { formatDuration } from '../../core/duration.ts';
import { bridgeDownHint, type BridgeHealth } from '../../core/token/bridge-health.ts';
import { belongsTo, hostOf } from '../../core/token/issuer.ts';
import { explicitUrl } from '../../core/token/tenant-url.ts';
import { probeBroker } from './health.ts';
import { probeTenant } from './tenant.ts';
import type { ProxySettings } from '../../core/http/proxy.ts';
import type { TrustSettings } from '../../core/http/trust.ts';

export type CheckStatus = 'ok' | 'warn' | 'failed';

export interface DoctorCheck {
  name: 'configuration' | 'broker' | 'bridge' | 'token' | 'claims' | 'issuer' | 'tenant';
  status: CheckStatus;
  summary: string;
  hint?: string;
  /** The failure behind a failed check, so a caller can map it to an exit code. */
  error?: C8yTokenError;
  details?: Record<string, unknown>;
}

export interface DoctorOptions extends GetTokenOptions, Omit<TrustSettings, 'env'>, Omit<ProxySettings, 'env'> {
  /** --url: the tenant's base URL for the last check; else $C8Y_URL; else `https://<iss>` from the token. */
  url?: string | undefined;
}

/** Tokens this close to expiry work for one more script at most: worth a warning. */
const SHORT_VALIDITY_MS = 5 * 60_000;

/**
 * Runs the checks in the order a token travels: configuration, broker, bridge health, token round trip, claims, and
 * the tenant accepting it. A check that leaves nothing to test further (no configuration, no broker, no token) ends
 * the run. The token is always a fresh one from the bridge: a cached one would prove nothing about the round trip.
 */
export async function runDoctor(
  options: DoctorOptions,
  onCheck: (check: DoctorCheck) => void = () => {},
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const report = (check: DoctorCheck) => {
    checks.push(check);
    onCheck(check);
    return check.status !== 'failed';
  };
  const failed = (name: DoctorCheck['name'], error: unknown): DoctorCheck => {
    const known =
      error instanceof C8yTokenError ? error : new C8yTokenError('other', String((error as Error)?.message ?? error));
    return { name, status: 'failed', summary: known.message, error: known, ...(known.hint && { hint: known.hint }) };
  };
  /** Runs what a check tests; a failure is reported, and leaves nothing further to check (undefined). */
  const attempt = async <T>(name: DoctorCheck['name'], probe: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await probe();
    } catch (error) {
      report(failed(name, error));
      return undefined;
    }
  };

  const settings = await attempt('configuration', () =>
    resolveSettings(options, options.env ? { env: options.env } : {}),
  );
  if (!settings) return checks;
  report({ name: 'configuration', status: 'ok', summary: describeSettings(settings), details: { ...settings } });

  const broker = `${settings.caFile ? 'mqtts' : 'mqtt'}://${settings.host}:${settings.port}`;
  const probe = await attempt('broker', () => probeBroker(settings, options.signal));
  if (!probe) return checks;
  report({
    name: 'broker',
    status: 'ok',
    summary: `connected to ${broker} in ${probe.connectMs} ms`,
    details: { connectMs: probe.connectMs },
  });

  report(bridgeCheck(probe.health));

  const started = Date.now();
  const token = await attempt('token', () => requestToken(settings, options));
  if (!token) return checks;
  const roundTripMs = Date.now() - started;
  report({ name: 'token', status: 'ok', summary: `token received in ${roundTripMs} ms`, details: { roundTripMs } });

  const left = remainingValidity(token);
  report({
    name: 'claims',
    status: left < SHORT_VALIDITY_MS ? 'warn' : 'ok',
    summary: `tenant ${token.tenant ?? '?'} at ${token.baseUrl}, user ${token.user ?? '?'}, valid for ${formatDuration(left)}`,
    details: {
      tenant: token.tenant,
      user: token.user,
      baseUrl: token.baseUrl,
      expiresAt: token.expiresAt?.toISOString(),
    },
    ...(left < SHORT_VALIDITY_MS && {
      hint: "the tenant issues short-lived tokens: check the tenant's OAI-Secure session settings",
    }),
  });

  const issuer = issuerCheck(token, settings, explicitUrl(options.url, options.env));
  if (issuer && !report(issuer)) return checks;

  const tenant = await attempt('tenant', () =>
    probeTenant(token, { ...options, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS }),
  );
  if (!tenant) return checks;
  report({
    name: 'tenant',
    status: 'ok',
    summary: `HTTP ${tenant.status} from GET ${tenant.url.href} in ${tenant.latencyMs} ms, user ${tenant.user ?? '?'}`,
    details: { url: tenant.url.href, status: tenant.status, user: tenant.user, latencyMs: tenant.latencyMs },
  });
  return checks;
}

/**
 * When thin-edge names the tenant, the token must come from it (or a subdomain), as `tedge connect c8y` checks: else
 * the device is connected to another tenant than configured, or another local process answered. Nothing is then sent
 * anywhere, unless the base URL set explicitly names the token's host.
 */
function issuerCheck(
  token: DeviceToken,
  settings: ResolvedSettings,
  explicit: string | undefined,
): DoctorCheck | undefined {
  const tenant = hostOf(settings.tenantUrl);
  const issuer = hostOf(token.baseUrl);
  if (!tenant || !issuer) return undefined;
  const origin = settings.sources.tenantUrl === 'env' ? 'TEDGE_C8Y_URL' : 'c8y.url';
  if (belongsTo(issuer, tenant)) {
    return { name: 'issuer', status: 'ok', summary: `the token comes from thin-edge's tenant ${tenant} (${origin})` };
  }
  const differs = `the token's issuer ${issuer} is neither thin-edge's tenant ${tenant} (${origin}) nor a subdomain of it`;
  if (issuer === hostOf(explicit)) {
    return { name: 'issuer', status: 'warn', summary: `${differs}; taken, as the base URL set explicitly names it` };
  }
  const error = new C8yTokenError('other', differs, {
    hint:
      'is the device connected to another tenant than configured (`tedge connect c8y --test` says so too)? ' +
      `if ${issuer} is right, pass --url or set C8Y_URL to it`,
  });
  return { name: 'issuer', status: 'failed', summary: error.message, error, hint: error.hint! };
}

function describeSettings(settings: ResolvedSettings): string {
  const from = (key: keyof ResolvedSettings['sources']) => settings.sources[key];
  const tls = settings.caFile ? `TLS with CA ${settings.caFile} (${from('caFile')})` : 'no TLS';
  return (
    `broker ${settings.host} (${from('host')}) port ${settings.port} (${from('port')}), ` +
    `topic prefix ${settings.topicPrefix} (${from('topicPrefix')}), ${tls}`
  );
}

/** Up when a bridge says so; failed when one says down (with what to check for that kind); else a warning. */
function bridgeCheck(health: BridgeHealth): DoctorCheck {
  const up = health.reports.find((state) => state.up);
  if (up) return { name: 'bridge', status: 'ok', summary: `cloud bridge is up (${up.bridge.service})` };
  const down = health.down;
  if (down) {
    return {
      name: 'bridge',
      status: 'failed',
      summary: `cloud bridge is ${down.status} (${down.bridge.service})`,
      hint: bridgeDownHint(down.bridge.kind),
    };
  }
  const [unreadable] = health.unreadable;
  return {
    name: 'bridge',
    status: 'warn',
    summary: unreadable
      ? `the bridge health message on ${unreadable[0]} is ${unreadable[1]}`
      : `no bridge health status on ${health.topics.map((bridge) => bridge.topic).join(' or ')}`,
    hint: 'is thin-edge connected to Cumulocity (`tedge connect c8y`)? an older thin-edge may not publish it',
  };
}
