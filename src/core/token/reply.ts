import { C8yTokenError } from '../errors.ts';
import { decodeToken, unusableReason, type DeviceToken } from './claims.ts';

/** Real device tokens are 1-2 KiB; anything far larger is not a token and is not worth decoding. */
export const MAX_REPLY_BYTES = 64 * 1024;
const TOKEN_MESSAGE_ID = '71';
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type Reply = { token: DeviceToken } | { ignored: string };

/** Classifies one message seen on `<prefix>/s/dat`: a usable token, or the reason to keep waiting. */
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
  const reason = unusableReason(token, nowMs);
  return reason ? { ignored: `token refused: ${reason}` } : { token };
}

/** Message ids from the wire end up in --verbose output: keep them short and free of control characters. */
function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 20 ? `${clean.slice(0, 20)}…` : clean;
}
