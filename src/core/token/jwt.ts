/**
 * The payload of a compact JWT (header.payload.signature), unverified: the token comes from the local bridge and only
 * the tenant checks its signature. Our own few lines rather than jose: that is all of jose the code used, and jose 6
 * no longer supports Node 18. Throws an Error saying what is wrong.
 */
export function decodeJwtPayload(token: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`it has ${parts.length} part(s), a JWT has 3 (header.payload.signature)`);
  const encoded = parts[1]!;
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw new Error('the payload is not base64url');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new Error('the payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new Error('the payload is not a JSON object');
  }
  return payload as Record<string, unknown>;
}
