import { cacheDirectory, checkCacheDirectory, type DirectoryCheck } from './cache/location.ts';
import { cachedRequest } from './cache/single-flight.ts';
import { cachedTedgeConfig } from './settings/remembered-tedge.ts';
import { DEFAULT_MIN_VALIDITY_MS, DEFAULT_TIMEOUT_MS } from './defaults.ts';
import { resolveSettings, type ResolveOptions, type SettingsInput } from './settings/resolve.ts';
import { assertSettingFilesReadable } from './settings/setting-files.ts';
import { usageError } from './errors.ts';
import type { DeviceToken } from './token/claims.ts';
import type { RequestOptions } from './token/request.ts';
import { issuerPolicy, issuerRefusal } from './token/issuer.ts';
import { explicitUrl } from './token/tenant-url.ts';
import { parseDuration } from './duration.ts';
import { tokenClockWarning } from './token/clock.ts';

export interface GetTokenOptions extends SettingsInput, RequestOptions {
  /** Environment for the settings and the cache location (default: process.env). */
  env?: ResolveOptions['env'];
  /**
   * Reuse a cached token and store new ones (default true); false neither reads nor writes cached tokens. thin-edge's
   * remembered settings are used either way: they are checked against tedge.toml and tedge on every call.
   */
  cache?: boolean;
  /**
   * Reuse a cached token only while it stays valid at least this long (default 5 minutes). A number is milliseconds,
   * like timeoutMs; a string is a duration as on the command line ('300', '30s', '5m', '1h'; a bare number is seconds).
   */
  minValidity?: number | string;
  /**
   * Receives a line for a human when the token is judged in the tenant's time because the device clock is more than
   * a minute off (see DeviceToken.clockOffsetMs): how far, and what to check.
   */
  warn?: (line: string) => void;
  /**
   * The tenant's base URL set explicitly (the CLI's --url; default $C8Y_URL). A token whose issuer is its host is taken
   * even when thin-edge names another tenant, and a token whose issuer is an http:// URL is taken at all.
   */
  url?: string | undefined;
}

/**
 * Resolves the broker settings as the CLI does, and returns the cached device token for that broker, bridge and
 * tenant when it stays valid long enough, else asks the cloud bridge for a new one (once, however many processes ask
 * at the same time) and caches it. Only tokens from thin-edge's tenant are taken (see IssuerPolicy). With `exclude`,
 * a cached token equal to it is evicted and a new one is asked for; when the bridge gives back that same token, it is
 * returned (not cached), so that the caller can tell. The token is judged in the tenant's time (its clockOffsetMs
 * says how far the device clock is off); `warn` hears of it.
 */
export async function getToken(options: GetTokenOptions = {}): Promise<DeviceToken> {
  const token = await cachedOrRequested(options);
  if (token.clockOffsetMs !== 0) options.warn?.(tokenClockWarning(token.clockOffsetMs));
  return token;
}

async function cachedOrRequested(options: GetTokenOptions): Promise<DeviceToken> {
  const env = options.env ?? process.env;
  const minValidityMs = parseMinValidity(options.minValidity);
  const dir = cacheDirectory(env);
  const log = options.log ?? (() => {});
  // The remembered settings and the token live in the same directory: it is checked once, when first needed.
  let checked: Promise<DirectoryCheck> | undefined;
  const checkDirectory = () => (checked ??= checkCacheDirectory(dir, true));
  const settings = await resolveSettings(options, {
    env,
    readTedgeConfig: (configDir) => cachedTedgeConfig(configDir, { dir, checkDirectory, env, log }),
  });
  await assertSettingFilesReadable(settings);
  const issuer = issuerPolicy(settings.tenantUrl, explicitUrl(options.url, env));
  const request = { ...options, issuer };
  if (options.cache === false) return (await loadRequest())(settings, request);
  const { host, port, topicPrefix } = settings;
  return cachedRequest(
    { host, port, topicPrefix, tenant: issuer.tenantHost ?? '' },
    {
      dir,
      checkDirectory,
      minValidityMs,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      exclude: options.exclude,
      refuse: (token) => issuerRefusal(token, issuer)?.reason,
      signal: options.signal,
      log,
    },
    async (timeoutMs) => (await loadRequest())(settings, { ...request, timeoutMs }),
  );
}

/** The MQTT side, loaded only when the bridge must be asked: a cached token needs none of it. */
async function loadRequest(): Promise<typeof import('./token/request.ts').requestToken> {
  return (await import('./token/request.ts')).requestToken;
}

/** GetTokenOptions.minValidity in milliseconds. */
export function parseMinValidity(value: number | string | undefined): number {
  if (value === undefined) return DEFAULT_MIN_VALIDITY_MS;
  if (typeof value === 'string') return parseDuration(value, 'minValidity');
  if (!(value >= 0)) throw usageError(`minValidity: ${value} is not a duration in milliseconds`);
  return value;
}
