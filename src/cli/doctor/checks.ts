import { resolveSettings, type ResolvedSettings } from '../../core/settings/resolve.ts';
import { C8yTokenError } from '../../core/errors.ts';
import type { GetTokenOptions } from '../../core/get-token.ts';
import { remainingValidity } from '../../core/token/claims.ts';
import { DEFAULT_TIMEOUT_MS } from '../../core/defaults.ts';
import { requestToken } from '../../core/token/request.ts';
import { formatDuration } from '../../core/duration.ts';
import { bridgeHealthTopics, probeBroker } from './health.ts';
import { probeTenant } from './tenant.ts';

export type CheckStatus = 'ok' | 'warn' | 'failed';

export interface DoctorCheck {
  name: 'configuration' | 'broker' | 'bridge' | 'token' | 'claims' | 'tenant';
  status: CheckStatus;
  summary: string;
  hint?: string;
  /** The failure behind a failed check, so a caller can map it to an exit code. */
  error?: C8yTokenError;
  details?: Record<string, unknown>;
}

export interface DoctorOptions extends GetTokenOptions {
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

  const up = probe.health.find((health) => health.up);
  const topics = bridgeHealthTopics(settings.topicPrefix);
  if (up) {
    report({ name: 'bridge', status: 'ok', summary: `cloud bridge is up (${serviceName(up.topic)})` });
  } else if (probe.health.length > 0) {
    const down = probe.health[0]!;
    report({
      name: 'bridge',
      status: 'failed',
      summary: `cloud bridge is ${down.status} (${serviceName(down.topic)})`,
      hint: 'run `tedge connect c8y --test`; check `systemctl status tedge-mapper-c8y mosquitto` and the network to the tenant',
    });
  } else {
    report({
      name: 'bridge',
      status: 'warn',
      summary: `no bridge health status on ${topics.builtIn} or ${topics.mosquitto}`,
      hint: 'is thin-edge connected to Cumulocity (`tedge connect c8y`)? an older thin-edge may not publish it',
    });
  }

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

function describeSettings(settings: ResolvedSettings): string {
  const from = (key: keyof ResolvedSettings['sources']) => settings.sources[key];
  const tls = settings.caFile ? `TLS with CA ${settings.caFile} (${from('caFile')})` : 'no TLS';
  return (
    `broker ${settings.host} (${from('host')}) port ${settings.port} (${from('port')}), ` +
    `topic prefix ${settings.topicPrefix} (${from('topicPrefix')}), ${tls}`
  );
}

function serviceName(topic: string): string {
  return topic.split('/')[4] ?? topic;
}
