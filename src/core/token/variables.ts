import { getToken, type GetTokenOptions } from '../get-token.ts';
import { checkTenantUrl, tenantUrl } from './tenant-url.ts';
import type { DeviceToken } from './claims.ts';
import type { Wording } from '../errors.ts';

/** The variables `env` prints and `exec` hands to its command; undefined means "unset it". */
export type TokenVariables = Record<'C8Y_TOKEN' | 'C8Y_URL' | 'C8Y_TENANT' | 'C8Y_HEADER', string | undefined>;

export function tokenVariables(token: DeviceToken, baseUrl: string): TokenVariables {
  return {
    C8Y_TOKEN: token.token,
    C8Y_URL: baseUrl,
    C8Y_TENANT: token.tenant,
    C8Y_HEADER: `Authorization: Bearer ${token.token}`,
  };
}

export interface TokenVariablesOptions extends GetTokenOptions {
  /** Tenant base URL (default: $C8Y_URL, else `https://<iss>` from the token). */
  url?: string | undefined;
}

/**
 * Gets a token (cached, as getToken does) and the variables that carry it, with a warning when the URL override
 * points at another host than the token's issuer.
 */
export async function getTokenVariables(
  options: TokenVariablesOptions = {},
): Promise<{ variables: TokenVariables; warning: Wording | undefined }> {
  checkTenantUrl(options.url, options.env);
  const token = await getToken(options);
  const { url, warning } = tenantUrl(token, options.url, options.env);
  return { variables: tokenVariables(token, url), warning };
}
