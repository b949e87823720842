import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeSystemError } from '../system-errors.ts';

/**
 * Where cached tokens live: $C8Y_TOKEN_CACHE_DIR, else $XDG_RUNTIME_DIR/c8y-token (a per-user tmpfs that is gone at
 * logout or reboot), else ~/.cache/c8y-token.
 */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.C8Y_TOKEN_CACHE_DIR?.trim();
  if (explicit) return explicit;
  const runtime = env.XDG_RUNTIME_DIR?.trim();
  if (runtime) return join(runtime, 'c8y-token');
  return join(env.HOME?.trim() || homedir(), '.cache', 'c8y-token');
}

export type DirectoryCheck = { usable: true } | { usable: false; missing: boolean; reason: string };

const PRIVATE_DIR = 0o700;

/**
 * Checks that the cache directory is safe to keep credentials in: a real directory (not a symbolic link) owned by
 * this user. With `create` (the commands that write tokens), a missing directory is made and a directory of ours with
 * looser permissions is tightened to 0700 whatever the umask; without it, nothing on disk is changed.
 */
export async function checkCacheDirectory(dir: string, create: boolean): Promise<DirectoryCheck> {
  const refuse = (reason: string, missing = false): DirectoryCheck => ({
    usable: false,
    missing,
    reason: `${dir} ${reason}`,
  });
  if (create) {
    try {
      await mkdir(dirname(dir), { recursive: true, mode: PRIVATE_DIR });
      await mkdir(dir, { mode: PRIVATE_DIR });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        return refuse(`cannot be created: ${describeSystemError(error)}`);
    }
  }
  let stats: Stats;
  try {
    stats = await lstat(dir);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return refuse(missing ? 'does not exist' : `cannot be read: ${describeSystemError(error)}`, missing);
  }
  if (stats.isSymbolicLink()) return refuse('is a symbolic link');
  if (!stats.isDirectory()) return refuse('is not a directory');
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid)
    return refuse(`is owned by uid ${stats.uid}, not by this user (uid ${uid})`);
  // mkdir's mode is masked by the umask (which can only take permissions away); chmod makes it exactly 0700.
  if (create && (stats.mode & 0o777) !== PRIVATE_DIR) {
    try {
      await chmod(dir, PRIVATE_DIR);
    } catch (error) {
      return refuse(
        `has mode ${(stats.mode & 0o777).toString(8)} and cannot be made private: ${describeSystemError(error)}`,
      );
    }
  }
  return { usable: true };
}
