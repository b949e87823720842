/**
 * Random bytes as hex, from the global Web Crypto object: Node loads it on first use, so that a command which writes
 * nothing (a cached `get`) does not pay for loading node:crypto.
 */
export function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}
