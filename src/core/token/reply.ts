import { C8yTokenError } from '../errors.ts';
import { decodeToken, isoTime, issuedAt, junkReason, unusableReason, type DeviceToken } from './claims.ts';
import { clockOffset } from './clock.ts';

/** Real device tokens are 1-2 KiB; anything far larger is not a token and is not worth decoding. */
export const MAX_REPLY_BYTES = 64 * 1024;
const TOKEN_MESSAGE_ID = '71';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A usable token, or the reason to keep waiting. `expiredIssuedAt` marks a token refused only for its `exp` being in
 * the device's past although it was valid when issued (at that time, in seconds): a stale message, or a device clock
 * that is ahead.
 */
export type Reply = { token: DeviceToken } | { ignored: string; expiredIssuedAt?: number };

/**
 * Classifies one message seen on `<prefix>/s/dat` at the device's `nowMs`: a usable token, or the reason to keep
 * waiting. A message that is not retained has just been published by the bridge, so a token in it has just been
 * issued: its `iat` (or `nbf`) is the tenant's time, and the token is judged in it (see clockOffsetMs).
 */
export function parseReply(payload: Uint8Array, retained: boolean, nowMs: number = Date.now()): Reply {
  if (retained) return { ignored: 'retained message (a stale reply left on the broker)' };
  if (payload.length === 0) return { ignored: 'empty message' };
  if (payload.length > MAX_REPLY_BYTES)
    return { ignored: `message of ${payload.length} bytes is too large for a token` };
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ignored: 'message is not UTF-8 text' };
  }
  const comma = text.indexOf(',');
  const messageId = comma === -1 ? text.trim() : text.slice(0, comma).trim();
  if (messageId !== TOKEN_MESSAGE_ID)
    return { ignored: `message id '${printable(messageId)}' is not ${TOKEN_MESSAGE_ID}` };
  const jwt = comma === -1 ? '' : text.slice(comma + 1).trim();
  if (jwt === '') return { ignored: `'${TOKEN_MESSAGE_ID}' message without a token` };
  let token: DeviceToken;
  try {
    token = decodeToken(jwt);
  } catch (error) {
    return { ignored: error instanceof C8yTokenError ? error.message : 'token could not be decoded' };
  }
  const junk = junkReason(token.claims);
  if (junk) return { ignored: `token refused: ${junk}` };
  const exp = token.claims.exp!;
  const issued = issuedAt(token.claims);
  // A token that expired by the device's clock may be an old message: its issue time says nothing about today.
  if (exp * 1000 <= nowMs) {
    const validWhenIssued = issued !== undefined && !unusableReason(token, issued * 1000);
    return {
      ignored: `token refused: it expired at ${isoTime(exp)}`,
      ...(validWhenIssued && { expiredIssuedAt: issued }),
    };
  }
  const fresh = { ...token, clockOffsetMs: issued === undefined ? 0 : clockOffset(issued * 1000, nowMs) };
  const reason = unusableReason(fresh, nowMs);
  return reason ? { ignored: `token refused: ${reason}` } : { token: fresh };
}

/** Text from the wire ends up in messages and --verbose output: keep it short and free of control characters. */
export function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 20 ? `${clean.slice(0, 20)}…` : clean;
}
