import { C8yTokenError } from '../../core/errors.ts';
import { receiving, statusError } from '../../core/http/failures.ts';
import { prepareRequest, requestAt } from '../curl/request.ts';
import { send } from '../../core/http/send.ts';
import { targetUrl } from '../../core/http/target.ts';
import { loadAgent } from '../../core/http/agent.ts';
import { tenantDispatcher } from '../../core/http/dispatcher.ts';
import type { ProxySettings } from '../../core/http/proxy.ts';
import { tenantTrust, type TrustSettings } from '../../core/http/trust.ts';
import { tenantUrl } from '../../core/token/tenant-url.ts';
import type { DeviceToken } from '../../core/token/claims.ts';
import { formatDuration } from '../../core/duration.ts';
import { dateHeaderOffset } from '../../core/token/clock.ts';

/** The proxy and the CAs are curl's: the same flags and environment variables, read the same way. */
export interface TenantProbeOptions extends Omit<TrustSettings, 'env'>, Omit<ProxySettings, 'env'> {
  /** --url: the tenant's base URL; else $C8Y_URL; else `https://<iss>` from the token. */
  url?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Bounds the whole request, connecting included. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface TenantProbe {
  url: URL;
  status: number;
  /** `userName` from the answer: the user the tenant took the token for. */
  user: string | undefined;
  latencyMs: number;
  /** The answer's `Date` header, and the offset it shows (see dateHeaderOffset); both undefined without one. */
  date: string | undefined;
  clockOffsetMs: number | undefined;
}

/**
 * GET /user/currentUser with the token, once: a token only proves itself when the tenant accepts it. A refused token
 * is reported, not replaced (curl would fetch a fresh one). Rejects with a C8yTokenError of curl's kind for the
 * failure: 'http' for a status >= 400, 'resolve', 'connect', 'timeout', 'tls', 'certificate', 'receive' (a proxy
 * refused the tunnel), 'proxyResolve', 'caFile'.
 */
export async function probeTenant(token: DeviceToken, options: TenantProbeOptions): Promise<TenantProbe> {
  const base = new URL(tenantUrl(token, options.url, options.env).url);
  const prepared = await prepareRequest({});
  const request = requestAt(prepared, targetUrl(base, '/user/currentUser'));
  request.headers.push(['Authorization', `Bearer ${token.token}`]);
  const [undici, trust] = await Promise.all([loadAgent(), tenantTrust(options)]);
  const dispatcher = tenantDispatcher(undici, trust, { ...options, connectTimeoutMs: options.timeoutMs });
  const started = performance.now();
  try {
    const exchange = await send(request, { dispatcher, maxTimeMs: options.timeoutMs, signal: options.signal });
    const clockOffsetMs = dateHeaderOffset(exchange.headers.date, Date.now());
    const date = typeof exchange.headers.date === 'string' ? exchange.headers.date : undefined;
    const body = await receiving(exchange.url, () => exchange.body.text());
    const latencyMs = Math.round(performance.now() - started);
    if (exchange.status >= 400) throw statusError(exchange.status, exchange.method, exchange.url, body);
    return { url: request.url, status: exchange.status, user: userName(body), latencyMs, date, clockOffsetMs };
  } catch (error) {
    if (error instanceof C8yTokenError && error.kind === 'timeout') {
      throw new C8yTokenError('timeout', `no answer from ${base.host} within ${formatDuration(options.timeoutMs)}`, {
        hint: 'the tenant or the network is slow (try a longer --timeout), or a proxy or firewall drops the traffic',
        detail: error.message,
      });
    }
    throw error;
  } finally {
    await dispatcher.destroy();
  }
}

function userName(body: string): string | undefined {
  try {
    const { userName: name } = JSON.parse(body) as { userName?: unknown };
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
