import { C8yTokenError, usageError, wording, type Wording } from '../errors.ts';
import type { DeviceToken } from './claims.ts';

export interface TenantUrl {
  /** Base URL without a trailing slash, query or fragment. */
  url: string;
  /** Set when an override sends the token to a host other than its issuer (custom domains do that legitimately). */
  warning: Wording | undefined;
}

/**
 * The tenant's base URL: `--url`, else $C8Y_URL, else `https://<iss>` from the token (an issuer that names http://
 * only when set explicitly: a token must not travel in clear text on a local publisher's say). `env`, `exec`, `curl`
 * and `doctor` all take it from here, so they agree on where the token goes.
 */
export function tenantUrl(
  token: DeviceToken,
  url: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): TenantUrl {
  const override = urlOverride(url, env);
  if (!override) {
    const issuer = issuerUrl(token);
    if (!issuer)
      throw usageError(
        "the token has no 'iss' claim, so the tenant is unknown",
        wording`pass {url} https://<tenant host>`,
      );
    if (issuer.protocol === 'http:') {
      throw usageError(
        `the token's issuer ${token.baseUrl} is not https: the token is not sent there unasked`,
        wording`if that is the tenant, pass {url} ${token.baseUrl} or set C8Y_URL`,
      );
    }
    return { url: baseOf(issuer), warning: undefined };
  }
  const { origin, parsed } = override;
  // The override is the user's choice: an issuer that is not a host name is only named in the warning, as it is.
  const iss = token.claims.iss;
  const issuer = iss ? (validIssuer(token.baseUrl!, iss)?.hostname ?? JSON.stringify(iss)) : undefined;
  const warning =
    issuer !== undefined && issuer !== parsed.hostname
      ? wording`warning: ${origin} sends the token to ${parsed.hostname}, not to its issuer ${issuer}`
      : undefined;
  return { url: baseOf(parsed), warning };
}

/**
 * The tenant the token names: `https://<iss>`, `iss` being a host name with an optional port, or `iss` itself when it
 * is an http or https URL (a test tenant's). Undefined without `iss`; anything else is an error that shows the claim.
 */
function issuerUrl(token: DeviceToken): URL | undefined {
  const iss = token.claims.iss;
  if (!iss) return undefined;
  const url = validIssuer(token.baseUrl!, iss);
  if (!url) {
    throw new C8yTokenError('other', `the token's 'iss' claim is not a host name: ${JSON.stringify(iss)}`, {
      hint: wording`pass {url} https://<tenant host>; \`c8y-token decode\` shows the whole token`,
    });
  }
  return url;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** A host name, an IPv4 address or a bracketed IPv6 address, then an optional port. */
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.?(?::\d+)?$|^\[[0-9a-f:.]+\](?::\d+)?$/i;

function validIssuer(baseUrl: string, iss: string): URL | undefined {
  if (!URL.canParse(baseUrl)) return undefined;
  const url = new URL(baseUrl);
  const plain = !url.username && !url.password && !url.search && !url.hash;
  if (!plain || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  return SCHEME.test(iss) || HOST.test(iss) ? url : undefined;
}

/** Throws the usage error tenantUrl would for a bad --url or $C8Y_URL: called before a token is fetched for nothing. */
export function checkTenantUrl(url: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  urlOverride(url, env);
}

/** The base URL set explicitly: `--url`, else $C8Y_URL; undefined when neither is. */
export function explicitUrl(url: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return url?.trim() || env.C8Y_URL?.trim() || undefined;
}

function urlOverride(url: string | undefined, env: NodeJS.ProcessEnv): { origin: Origin; parsed: URL } | undefined {
  const [origin, given]: [Origin, string | undefined] = url?.trim()
    ? [wording`{url}`, url.trim()]
    : ['C8Y_URL', env.C8Y_URL?.trim()];
  return given ? { origin, parsed: parseUrl(given, origin) } : undefined;
}

/** Where the URL was set: the `url` setting, or C8Y_URL. */
type Origin = Wording | 'C8Y_URL';

function parseUrl(text: string, origin: Origin): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(
      wording`${origin}: '${text}' is not a URL`,
      'use the tenant address, e.g. https://t12345.eu-latest.cumulocity.com',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usageError(wording`${origin}: '${text}' is not an http or https URL`);
  }
  return url;
}

function baseOf(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
