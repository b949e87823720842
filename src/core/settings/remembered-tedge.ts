import { join } from 'node:path';
import { readTedgeConfig } from './resolve.ts';
import { findExecutable, signature, tedgeConfigFiles } from './tedge-files.ts';
import type { Logger } from '../logger.ts';
import type { DirectoryCheck } from '../cache/location.ts';
import { readPrivateFile, writePrivateFile } from '../cache/private-file.ts';
import { describeSystemError } from '../system-errors.ts';

/** In the token cache directory; not `.json`, so that `cache status` does not take it for a token. */
const FILE = 'tedge-config';
const MAX_BYTES = 64 * 1024;
/** The settings c8y-token reads: only these are kept, so the file never holds anything else thin-edge knows. */
const USED_KEYS = /^(mqtt\.client\.|mqtt\.bridge\.built_in$|c8y\.(profiles\.[^.]+\.)?(bridge\.topic_prefix|url)$)/;

export interface TedgeConfigCacheOptions {
  /** The token cache directory (checked as for tokens: ours, private, not a link). */
  dir: string;
  /** Checks `dir` as checkCacheDirectory(dir, true) does; the caller may share one check between uses. */
  checkDirectory: () => Promise<DirectoryCheck>;
  /** Supplies PATH (to find tedge) and the TEDGE_* variables that tedge itself reads. */
  env: NodeJS.ProcessEnv;
  log: Logger;
}

/**
 * thin-edge's settings as `tedge config list` gives them, remembered in the cache directory: a process spawn costs
 * more than the rest of a cached `c8y-token get`. The remembered answer is used while the tedge executable, the files
 * it reads (tedge.toml and every mappers/NAME/mapper.toml, see tedgeConfigFiles) and the TEDGE_* environment are what
 * they were (path, modification time, size and inode of each file, and which mappers directories exist); anything
 * else asks tedge again. Without tedge on PATH there is nothing to ask, and nothing is spawned.
 */
export async function cachedTedgeConfig(
  configDir: string | undefined,
  options: TedgeConfigCacheOptions,
): Promise<Map<string, string> | undefined> {
  const { dir, env, log, checkDirectory } = options;
  const tedge = await findExecutable('tedge', env.PATH ?? '');
  if (!tedge) return undefined;
  const file = join(dir, FILE);
  const key = JSON.stringify([
    tedge.path,
    signature(tedge.stats),
    configDir ?? null,
    (await tedgeConfigFiles(configDir)).map((file) => [file.path, signature(file.stats)]),
    Object.entries(env)
      .filter(([name]) => name.startsWith('TEDGE_'))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  ]);
  const directory = await checkDirectory();
  if (directory.usable) {
    const remembered = parse(await readPrivateFile(file, MAX_BYTES), key);
    if (remembered) {
      log(`using thin-edge's settings remembered in ${file}`);
      return remembered;
    }
  }
  log(`asking thin-edge for its settings: ${tedge.path} config list`);
  const values = await readTedgeConfig(configDir, tedge.path);
  if (!values) return undefined;
  const used = new Map([...values].filter(([name]) => USED_KEYS.test(name)));
  if (directory.usable) {
    await writePrivateFile(file, `${JSON.stringify({ key, values: Object.fromEntries(used) })}\n`).catch(
      (error: unknown) => log(`could not remember thin-edge's settings in ${file}: ${describeSystemError(error)}`),
    );
  }
  return used;
}

function parse(read: Awaited<ReturnType<typeof readPrivateFile>>, key: string): Map<string, string> | undefined {
  if (!read || 'problem' in read) return undefined;
  try {
    const data = JSON.parse(read.text) as { key?: unknown; values?: Record<string, unknown> };
    if (data.key !== key || typeof data.values !== 'object' || data.values === null) return undefined;
    const entries = Object.entries(data.values);
    return entries.every(([, value]) => typeof value === 'string')
      ? new Map(entries as Array<[string, string]>)
      : undefined;
  } catch {
    return undefined;
  }
}
