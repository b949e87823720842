import { resolveSettings, type ResolvedSettings } from '../../core/settings/resolve.ts';
import { describeThinEdge, thinEdgeFacts } from './thin-edge.ts';
import { C8yTokenError } from '../../core/errors.ts';
import { describeFailure } from '../reporting.ts';
import type { GetTokenOptions } from '../../core/get-token.ts';
import { remainingValidity, type DeviceToken } from '../../core/token/claims.ts';
import { DEFAULT_TIMEOUT_MS } from '../../core/defaults.ts';
import { requestToken } from '../../core/token/request.ts';
import { formatDuration } from '../../core/duration.ts';
import { bridgeDownHint, type BridgeHealth } from '../../core/token/bridge-health.ts';
import { belongsTo, hostOf } from '../../core/token/issuer.ts';
import { explicitUrl } from '../../core/token/tenant-url.ts';
import { describeClockOffset, TIME_SYNC_HINT } from '../../core/token/clock.ts';
import { probeBroker } from './health.ts';
import { probeTenant, type TenantProbe } from './tenant.ts';
import type { ProxySettings } from '../../core/http/proxy.ts';
import type { TrustSettings } from '../../core/http/trust.ts';

export type CheckStatus = 'ok' | 'warn' | 'failed';

export interface DoctorCheck {
  name: 'configuration' | 'broker' | 'bridge' | 'token' | 'claims' | 'issuer' | 'tenant' | 'clock';
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

/** Every check, in the order they run; `issuer` only when thin-edge names the tenant. */
export const CHECK_NAMES: readonly DoctorCheck['name'][] = [
  'configuration',
  'broker',
  'bridge',
  'token',
  'claims',
  'issuer',
  'tenant',
  'clock',
];

/** Tokens this close to expiry work for one more script at most: worth a warning. */
const SHORT_VALIDITY_MS = 5 * 60_000;

/**
 * Runs the checks in the order a token travels: configuration, broker, bridge health, token round trip, claims, the
 * tenant accepting it, and the device clock against the tenant's. A check that leaves nothing to test further (no configuration, no broker, no token) ends
 * the run. The token is always a fresh one from the bridge: a cached one would prove nothing about the round trip.
 */
export async function runDoctor(
  options: DoctorOptions,
  onCheck: (check: DoctorCheck) => void = () => {},
  onStart: (name: DoctorCheck['name']) => void = () => {},
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const report = (check: DoctorCheck) => {
    checks.push(check);
    onCheck(check);
    return check.status !== 'failed';
  };
  /** Runs what a check tests; a failure is reported, and leaves nothing further to check (undefined). */
  const attempt = async <T>(name: DoctorCheck['name'], probe: () => Promise<T>): Promise<T | undefined> => {
    onStart(name);
    try {
      return await probe();
    } catch (error) {
      report(failedCheck(name, error));
      return undefined;
    }
  };

  const settings = await attempt('configuration', () =>
    resolveSettings(options, options.env ? { env: options.env } : {}),
  );
  if (!settings) return checks;
  const env = options.env ?? process.env;
  const thinEdge = await thinEdgeFacts(options.configDir ?? (env.TEDGE_CONFIG_DIR || undefined), env);
  report({
    name: 'configuration',
    status: 'ok',
    summary: `${describeSettings(settings)}; ${describeThinEdge(thinEdge, settings)}`,
    details: { ...settings, ...thinEdge },
  });

  const broker = `${settings.caFile || settings.caDir ? 'mqtts' : 'mqtt'}://${settings.host}:${settings.port}`;
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

  report(claimsCheck(token));

  const issuer = issuerCheck(token, settings, explicitUrl(options.url, options.env));
  if (issuer && !report(issuer)) return checks;

  const tenant = await attempt('tenant', () =>
    probeTenant(token, { ...options, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS }),
  );
  if (tenant) report(tenantCheck(tenant));
  // The token's iat tells the time even when the tenant could not be reached.
  report(clockCheck(token, tenant));
  return checks;
}

function failedCheck(name: DoctorCheck['name'], error: unknown): DoctorCheck {
  const known =
    error instanceof C8yTokenError ? error : new C8yTokenError('other', String((error as Error)?.message ?? error));
  const { message, hint } = describeFailure(known);
  return { name, status: 'failed', summary: message, error: known, ...(hint && { hint }) };
}

function claimsCheck(token: DeviceToken): DoctorCheck {
  const left = remainingValidity(token);
  return {
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
  };
}

function tenantCheck(tenant: TenantProbe): DoctorCheck {
  return {
    name: 'tenant',
    status: 'ok',
    summary: `HTTP ${tenant.status} from GET ${tenant.url.href} in ${tenant.latencyMs} ms, user ${tenant.user ?? '?'}`,
    details: { url: tenant.url.href, status: tenant.status, user: tenant.user, latencyMs: tenant.latencyMs },
  };
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
  const cas = [
    ...(settings.caFile ? [`CA ${settings.caFile} (${from('caFile')})`] : []),
    ...(settings.caDir ? [`CA directory ${settings.caDir} (${from('caDir')})`] : []),
  ];
  const tls = cas.length > 0 ? `TLS with ${cas.join(' and ')}` : 'no TLS';
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

/**
 * The device clock against the tenant's: by the tenant's `Date` header when it answered, else by the token's `iat`.
 * Off by more than a minute is a warning, not a failure: tokens are judged in the tenant's time, but whatever else on
 * the device reads the clock (certificates, logs, schedules) is wrong too.
 */
export function clockCheck(token: DeviceToken, tenant: TenantProbe | undefined): DoctorCheck {
  const byDate = tenant?.clockOffsetMs !== undefined;
  const offsetMs = byDate ? tenant!.clockOffsetMs! : token.clockOffsetMs;
  const source = byDate ? `the tenant's Date header, ${tenant!.date}` : "the token's iat";
  const details = {
    clockOffsetMs: offsetMs,
    source: byDate ? 'date header' : 'token',
    tokenClockOffsetMs: token.clockOffsetMs,
  };
  if (offsetMs === 0) {
    return {
      name: 'clock',
      status: 'ok',
      summary: `the device clock is within a minute of the tenant's (by ${source})`,
      details,
    };
  }
  return {
    name: 'clock',
    status: 'warn',
    summary: `the device clock is ${describeClockOffset(offsetMs)} the tenant's (by ${source}); tokens are judged in the tenant's time`,
    hint: TIME_SYNC_HINT,
    details,
  };
}
