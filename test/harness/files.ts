import { spawnSync } from 'node:child_process';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every regular file under `dir`, however deep, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files.sort();
}

/**
 * Runs `work` while `file` is open for writing, as while something copies over it: running the file then fails with
 * ETXTBSY. Undefined, without running `work`, where the system runs such a file anyway (not every kernel and file
 * system refuses it).
 */
export async function whileOpenForWriting<T>(file: string, work: () => Promise<T>): Promise<T | undefined> {
  const writer = await open(file, 'r+');
  try {
    const probe = spawnSync(file, [], { stdio: 'ignore' });
    if ((probe.error as NodeJS.ErrnoException | undefined)?.code !== 'ETXTBSY') return undefined;
    return await work();
  } finally {
    await writer.close();
  }
}
