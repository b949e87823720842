import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** thin-edge's own default, where `tedge` looks without --config-dir. */
export const DEFAULT_CONFIG_DIR = '/etc/tedge';

export interface TedgeFile {
  path: string;
  /** Undefined when the file does not exist (or cannot be seen). */
  stats: Stats | undefined;
}

/**
 * The files `tedge config list` reads: `<config dir>/tedge.toml` (all of thin-edge 1.x's settings) and, for 2.x, one
 * `mapper.toml` in each directory under `<config dir>/mappers/` (`c8y/`, `c8y.<profile>/`, other clouds'). Every
 * directory there is listed, with or without its file, so that one added or removed is seen.
 */
export async function tedgeConfigFiles(configDir: string | undefined): Promise<TedgeFile[]> {
  const dir = configDir ?? DEFAULT_CONFIG_DIR;
  const mappers = join(dir, 'mappers');
  const entries = await readdir(mappers).catch(() => []);
  const paths = [join(dir, 'tedge.toml'), ...entries.sort().map((entry) => join(mappers, entry, 'mapper.toml'))];
  return Promise.all(paths.map(async (path) => ({ path, stats: await stat(path).catch(() => undefined) })));
}

/** Changes whenever the file is edited, replaced or removed. */
export function signature(stats: Stats | undefined): string {
  return stats ? `${stats.mtimeMs}/${stats.size}/${stats.ino}` : 'missing';
}

/** The first executable file of that name on PATH, as execvp would find it. */
export async function findExecutable(name: string, path: string): Promise<{ path: string; stats: Stats } | undefined> {
  for (const directory of path.split(delimiter)) {
    if (!directory) continue;
    const candidate = join(directory, name);
    const stats = await stat(candidate).catch(() => undefined);
    if (stats?.isFile() && (stats.mode & 0o111) !== 0) return { path: candidate, stats };
  }
  return undefined;
}
