import { join } from 'node:path';
import { cacheDirectory, checkCacheDirectory } from '../cache/location.ts';
import { readPrivateFile, writePrivateFile } from '../cache/private-file.ts';
import type { Logger } from '../logger.ts';
import { describeSystemError } from '../system-errors.ts';

/** In the token cache directory; not `.json`, so that `cache status` does not take it for a token. */
const FILE = 'trust-anchors';
const MAX_BYTES = 256 * 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * For each tenant origin whose certificate only the system's CAs verify: the CA that verified it last (its DER,
 * base64). A context of that one CA is built in a fraction of the time all the system's take, and it is used only
 * while the system still trusts that CA, so what it lets through is never more than the system's CAs would.
 */
export interface TrustAnchors {
  recall(origin: string): Promise<string | undefined>;
  remember(origin: string, anchor: string): Promise<void>;
}

/** The trust anchors remembered in the token cache directory, under the cache's safety rules (see location.ts). */
export function rememberedTrustAnchors(env: NodeJS.ProcessEnv, log: Logger): TrustAnchors {
  const dir = cacheDirectory(env);
  const file = join(dir, FILE);
  let loaded: Promise<Record<string, string>> | undefined;
  const load = () => (loaded ??= readAnchors(dir, file));
  return {
    recall: async (origin) => (await load())[origin],
    remember: async (origin, anchor) => {
      if (!(await checkCacheDirectory(dir, true)).usable) return;
      const anchors = { ...(await load()), [origin]: anchor };
      await writePrivateFile(file, `${JSON.stringify(anchors)}\n`).catch((error: unknown) =>
        log(`could not remember the CA of ${origin} in ${file}: ${describeSystemError(error)}`),
      );
    },
  };
}

async function readAnchors(dir: string, file: string): Promise<Record<string, string>> {
  if (!(await checkCacheDirectory(dir, false)).usable) return {};
  const read = await readPrivateFile(file, MAX_BYTES);
  if (!read || 'problem' in read) return {};
  try {
    const data = JSON.parse(read.text) as unknown;
    if (typeof data !== 'object' || data === null) return {};
    return Object.fromEntries(Object.entries(data).filter((entry): entry is [string, string] => isBase64(entry[1])));
  } catch {
    return {};
  }
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && BASE64.test(value);
}
