import { lstatSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { cacheDirectory } from '../core/cache/location.ts';

/** Node 22.1+; Node 18 and 20 have no compile cache (and @types/node 18 does not know the function). */
const { enableCompileCache: nodeEnableCompileCache } = module as { enableCompileCache?: (dir: string) => unknown };

/**
 * Turns on Node's cache of compiled code between runs (start-up dominates a command this short), loaded by
 * bin/c8y-token before the CLI's bundle so that the bundle is compiled through it. Node's default place is the
 * shared temporary directory, where another local user could plant compiled code that this user (say, a root cron
 * job) then runs: the cache goes into the token cache directory instead, and only while that is private (a real
 * directory of this user's that group and others cannot enter). Otherwise it stays off; the first command that
 * stores a token creates the directory.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  if (!nodeEnableCompileCache) return;
  const dir = cacheDirectory(env);
  if (isPrivateDirectory(dir)) nodeEnableCompileCache(join(dir, 'compile-cache'));
}

function isPrivateDirectory(dir: string): boolean {
  try {
    const stats = lstatSync(dir);
    return stats.isDirectory() && stats.uid === process.getuid?.() && (stats.mode & 0o077) === 0;
  } catch {
    return false;
  }
}
