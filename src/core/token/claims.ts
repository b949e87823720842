import { decodeJwt, type JWTPayload } from 'jose';
import { usageError } from '../errors.ts';

/** The claims of a Cumulocity device token, with the time claims as numbers (seconds since the epoch). */
export interface TokenClaims extends JWTPayload {
  /** Tenant host, a bare host name in real tokens (`t12345.eu-latest.cumulocity.com`). */
  iss?: string;
  /** Device user (`device_<external id>`). */
  sub?: string;
  /** Tenant id. */
  ten?: string;
  exp?: number;
  nbf?: number;
  iat?: number;
}

export interface DeviceToken {
  /** The JWT itself: the value for `Authorization: Bearer`. */
  token: string;
  claims: TokenClaims;
  /** `https://<iss>`, or `iss` itself when it already carries a scheme; undefined without `iss`. */
  baseUrl: string | undefined;
  tenant: string | undefined;
  user: string | undefined;
  expiresAt: Date | undefined;
}

const TIME_CLAIMS = ['exp', 'nbf', 'iat'] as const;
/** Device and cloud clocks drift; a token is not refused for being valid a minute from now. */
const CLOCK_SKEW_S = 60;

/** Thrown by decodeToken for anything that is not a JWT; the message says why. */
export function decodeToken(jwt: string): DeviceToken {
  const token = jwt.trim();
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch (error) {
    throw usageError(`not a JWT: ${(error as Error).message}`, 'pass the token alone, as printed by `c8y-token get`');
  }
  const claims: TokenClaims = { ...payload };
  for (const name of TIME_CLAIMS) {
    const value: unknown = payload[name];
    if (value === undefined) continue;
    const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
      throw usageError(`not a usable JWT: claim '${name}' is not a number`);
    }
    claims[name] = seconds;
  }
  for (const name of ['iss', 'sub', 'ten'] as const) {
    if (claims[name] !== undefined && typeof claims[name] !== 'string') {
      throw usageError(`not a usable JWT: claim '${name}' is not a string`);
    }
  }
  return {
    token,
    claims,
    baseUrl: claims.iss ? tenantBaseUrl(claims.iss) : undefined,
    tenant: claims.ten,
    user: claims.sub,
    expiresAt: claims.exp === undefined ? undefined : new Date(claims.exp * 1000),
  };
}

export function tenantBaseUrl(issuer: string): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(issuer) ? issuer : `https://${issuer}`;
  return url.replace(/\/+$/, '');
}

/** Why a decoded token cannot be used to call the tenant now, or undefined when it can. */
export function unusableReason(token: DeviceToken, nowMs: number = Date.now()): string | undefined {
  const { exp, nbf } = token.claims;
  if (!token.claims.iss) return "it has no 'iss' claim (tenant host)";
  if (exp === undefined) return "it has no 'exp' claim";
  if (exp * 1000 <= nowMs) return `it expired at ${new Date(exp * 1000).toISOString()}`;
  if (nbf !== undefined && (nbf - CLOCK_SKEW_S) * 1000 > nowMs) {
    return `it is not valid before ${new Date(nbf * 1000).toISOString()}`;
  }
  return undefined;
}

/** Milliseconds until the token expires (negative once expired). */
export function remainingValidity(token: DeviceToken, nowMs: number = Date.now()): number {
  return token.expiresAt ? token.expiresAt.getTime() - nowMs : Number.NEGATIVE_INFINITY;
}
