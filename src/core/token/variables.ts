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

export const SHELLS = ['sh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/**
 * Commands that set the variables in the shell, for `eval "$(c8y-token env)"`: every value is quoted, and every
 * command ends with `;` so that an unquoted `eval $(c8y-token env)` works too.
 */
export function shellExports(variables: Partial<Record<string, string | undefined>>, shell: Shell): string {
  return Object.entries(variables)
    .map(([name, value]) => {
      if (shell === 'fish') return value === undefined ? `set -e ${name}` : `set -gx ${name} ${fishQuote(value)}`;
      return value === undefined ? `unset ${name}` : `export ${name}=${shQuote(value)}`;
    })
    .map((line) => `${line};\n`)
    .join('');
}

/** POSIX sh: nothing is special inside single quotes; a quote itself is closed, escaped and reopened. */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** fish: inside single quotes only backslash and the quote are special. */
export function fishQuote(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}
