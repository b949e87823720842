import { usageError } from '../errors.ts';
import { CLOCK_SKEW_MS } from './clock.ts';
import { decodeJwtPayload } from './jwt.ts';

/** The claims of a Cumulocity device token, with the time claims as numbers (seconds since the epoch). */
export interface TokenClaims {
  [name: string]: unknown;
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
  /**
   * The tenant's clock minus the device's, in milliseconds (positive when the device clock is behind), as measured
   * when the token arrived; 0 when they agree within a minute, or nothing was measured (a token given by hand). The
   * token's validity is judged at the device's time plus this.
   */
  clockOffsetMs: number;
}

const TIME_CLAIMS = ['exp', 'nbf', 'iat'] as const;

/** Thrown by decodeToken for anything that is not a JWT; the message says why. */
export function decodeToken(jwt: string): DeviceToken {
  const token = jwt.trim();
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwtPayload(token);
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
    clockOffsetMs: 0,
  };
}

export function tenantBaseUrl(issuer: string): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(issuer) ? issuer : `https://${issuer}`;
  return url.replace(/\/+$/, '');
}

/** When the token was issued, in seconds: its `iat`, else its `nbf`. */
export function issuedAt(claims: TokenClaims): number | undefined {
  return claims.iat ?? claims.nbf;
}

/** The tenant's time when the device's clock shows `deviceMs`, by the offset measured with the token. */
export function tenantTime(token: DeviceToken, deviceMs: number = Date.now()): number {
  return deviceMs + token.clockOffsetMs;
}

/** Why the token can never be used, whatever the time: no tenant, no expiry, or a lifetime that ends as it begins. */
export function junkReason(claims: TokenClaims): string | undefined {
  const { exp, nbf, iat } = claims;
  if (!claims.iss) return "it has no 'iss' claim (tenant host)";
  if (exp === undefined) return "it has no 'exp' claim";
  if (iat !== undefined && exp <= iat) return `its exp (${isoTime(exp)}) is not after its iat (${isoTime(iat)})`;
  if (nbf !== undefined && exp <= nbf) return `its exp (${isoTime(exp)}) is not after its nbf (${isoTime(nbf)})`;
  return undefined;
}

/**
 * Why a decoded token cannot be used to call the tenant now, or undefined when it can: valid when
 * `nbf <= the tenant's time < exp`, the tenant's time being the device's `nowMs` plus the token's clock offset.
 */
export function unusableReason(token: DeviceToken, nowMs: number = Date.now()): string | undefined {
  const junk = junkReason(token.claims);
  if (junk) return junk;
  const { exp, nbf } = token.claims;
  const now = tenantTime(token, nowMs);
  if (exp! * 1000 <= now) return `it expired at ${isoTime(exp!)}`;
  if (nbf !== undefined && nbf * 1000 - CLOCK_SKEW_MS > now) return `it is not valid before ${isoTime(nbf)}`;
  return undefined;
}

/** Milliseconds until the token expires, in the tenant's time (negative once expired). */
export function remainingValidity(token: DeviceToken, nowMs: number = Date.now()): number {
  return token.expiresAt ? token.expiresAt.getTime() - tenantTime(token, nowMs) : Number.NEGATIVE_INFINITY;
}

/** A claim's time for a message; a claim too large for a date stays a number. */
export function isoTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}
