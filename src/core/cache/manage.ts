import { C8yTokenError } from '../errors.ts';
import { cacheDirectory, checkCacheDirectory } from './location.ts';
import { clearEntries, listEntries, type StoredEntry } from './store.ts';

export interface CacheContents {
  dir: string;
  /** Empty when the directory does not exist yet. */
  entries: StoredEntry[];
}

/** The token cache's entries, usable or not (see `cacheDirectory` for where it is). */
export async function listCachedTokens(env: NodeJS.ProcessEnv = process.env): Promise<CacheContents> {
  const dir = await existingCacheDirectory(env);
  return { dir: dir.path, entries: dir.exists ? await listEntries(dir.path) : [] };
}

/** Removes every cached token; resolves with how many there were. */
export async function clearTokenCache(env: NodeJS.ProcessEnv = process.env): Promise<{ dir: string; removed: number }> {
  const dir = await existingCacheDirectory(env);
  return { dir: dir.path, removed: dir.exists ? await clearEntries(dir.path) : 0 };
}

async function existingCacheDirectory(env: NodeJS.ProcessEnv): Promise<{ path: string; exists: boolean }> {
  const path = cacheDirectory(env);
  const check = await checkCacheDirectory(path, false);
  if (check.usable || check.missing) return { path, exists: check.usable };
  throw new C8yTokenError('other', `refusing to use the token cache: ${check.reason}`, {
    hint: 'remove it, or point C8Y_TOKEN_CACHE_DIR at a directory of your own',
  });
}
