import type { DeviceToken } from './claims.ts';

/**
 * Which issuers (`iss`) a token may have to be taken. Any local process can publish on the reply topic, and the
 * issuer decides where requests and their bodies go: when thin-edge names the tenant, only a token from that host or
 * one of its subdomains is taken (a device configured with the instance domain `eu-latest.cumulocity.com` gets tokens
 * from `t12345.eu-latest.cumulocity.com`), unless the base URL set explicitly names the token's host.
 */
export interface IssuerPolicy {
  /** The tenant host thin-edge is connected to (c8y.url), lower case; undefined when thin-edge does not say. */
  tenantHost: string | undefined;
  /** The host of the base URL set explicitly (--url, $C8Y_URL); undefined when none is. */
  explicitHost: string | undefined;
}

/** `issuer`: the host, or the URL when its scheme is the trouble. */
export type IssuerRefusal = { issuer: string; reason: string };

export function issuerPolicy(tenant: string | undefined, explicitUrl: string | undefined): IssuerPolicy {
  return { tenantHost: hostOf(tenant), explicitHost: hostOf(explicitUrl) };
}

/** Why the token's issuer is not taken under the policy; undefined when it is. */
export function issuerRefusal(token: DeviceToken, policy: IssuerPolicy): IssuerRefusal | undefined {
  if (!token.baseUrl) return undefined;
  const host = hostOf(token.baseUrl);
  if (policy.explicitHost === undefined && /^http:/i.test(token.baseUrl)) {
    return { issuer: token.baseUrl, reason: `issuer ${token.baseUrl} is not https, and no base URL is set explicitly` };
  }
  if (!host || host === policy.explicitHost || !policy.tenantHost) return undefined;
  if (belongsTo(host, policy.tenantHost)) return undefined;
  return {
    issuer: host,
    reason: `issuer ${host} is neither thin-edge's tenant ${policy.tenantHost} nor a subdomain of it`,
  };
}

/** Whether the host is the tenant's, or a subdomain of it. */
export function belongsTo(host: string, tenantHost: string): boolean {
  return host === tenantHost || host.endsWith(`.${tenantHost}`);
}

/** The host of `t12345.eu-latest.cumulocity.com`, `…:443` or `https://…/`: thin-edge's URL settings take all three. */
export function hostOf(hostOrUrl: string | undefined): string | undefined {
  const text = hostOrUrl?.trim();
  if (!text) return undefined;
  try {
    return (
      new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`).hostname.toLowerCase() || undefined
    );
  } catch {
    return undefined;
  }
}
