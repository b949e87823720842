import { usageError } from './errors.ts';
import type { DeviceToken } from './token/claims.ts';

export interface TenantUrl {
  /** Base URL without a trailing slash. */
  url: string;
  /** Set when an override points at another host than the token's issuer (legitimate for custom domains). */
  warning: string | undefined;
}

/** The tenant's base URL: `--url`, else $C8Y_URL, else `https://<iss>` from the token. */
export function tenantUrl(
  token: DeviceToken,
  url: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): TenantUrl {
  const [origin, given] = url?.trim() ? ['--url', url.trim()] : ['C8Y_URL', env.C8Y_URL?.trim()];
  if (!given) return { url: token.baseUrl!, warning: undefined };
  let parsed: URL;
  try {
    parsed = new URL(given);
  } catch {
    throw usageError(
      `${origin}: '${given}' is not a URL`,
      'use the tenant address, e.g. https://t12345.eu-latest.cumulocity.com',
    );
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw usageError(`${origin}: '${given}' is not an http or https URL`);
  }
  const issuerHost = token.baseUrl ? new URL(token.baseUrl).host : undefined;
  const warning =
    parsed.host === issuerHost
      ? undefined
      : `${origin} points at ${parsed.host}, not at the token's issuer ${issuerHost ?? '(none)'}`;
  return { url: given.replace(/\/+$/, ''), warning };
}
