import type { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * Random bytes as hex, from Web Crypto. Node 19+ has it as a global that loads on first use, so that a command which
 * writes nothing (a cached `get`) does not pay for loading node:crypto; Node 18 has the global only behind a flag,
 * and there it comes from node:crypto, also on first use.
 */
export function randomHex(bytes: number): string {
  return Buffer.from(webCrypto().getRandomValues(new Uint8Array(bytes))).toString('hex');
}

function webCrypto(): webcrypto.Crypto {
  const global = (globalThis as { crypto?: webcrypto.Crypto }).crypto;
  if (global) return global;
  return (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).webcrypto;
}
