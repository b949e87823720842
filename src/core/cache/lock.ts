import { link, readFile, rename, stat, unlink } from 'node:fs/promises';
import { randomHex } from '../random.ts';
import { createExclusive } from './private-file.ts';

/**
 * A lock file that lets one process ask the bridge while the others wait for its result. It is created with O_EXCL and
 * names its holder (pid and process start time) and the time by which the holder will have given up.
 */
interface LockRecord {
  pid: number;
  /** The holder's start time (Linux: jiffies since boot): a pid reused by a later process is not the holder. */
  started: string | null;
  /** Epoch ms after which the holder has given up on its request, alive or not. */
  until: number;
  /** Tells this holder's lock from a later one at the same path. */
  id: string;
}

export interface HeldLock {
  /** Removes the lock if it is still this holder's (it may have been taken over as stale). */
  release(): Promise<void>;
}

export type LockState =
  | { status: 'free' }
  /** pid is unknown while the holder is still writing the lock file. */
  | { status: 'held'; pid: number | undefined }
  | { status: 'stale'; reason: string; content: string };

/** Takes the lock; undefined when another process holds it. Other failures (permissions, disk) are thrown. */
export async function acquireLock(path: string, until: number): Promise<HeldLock | undefined> {
  const record: LockRecord = {
    pid: process.pid,
    started: await processStart(process.pid),
    until,
    id: randomHex(8),
  };
  const content = JSON.stringify(record);
  try {
    const handle = await createExclusive(path);
    try {
      await handle.writeFile(content);
    } catch (error) {
      // An empty lock (a full disk) would hold the others off until it is old enough to count as stale.
      await unlink(path).catch(() => {});
      throw error;
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
  return {
    async release() {
      if ((await readFile(path, 'utf8').catch(() => '')) === content) await unlink(path).catch(() => {});
    },
  };
}

/**
 * Whether the lock is held by a live process that has not yet given up. A lock whose content cannot be read (its
 * holder died between creating and writing it) is stale once older than `unreadableAfterMs`.
 */
export async function inspectLock(
  path: string,
  unreadableAfterMs: number,
  nowMs: number = Date.now(),
): Promise<LockState> {
  let content: string;
  let modifiedMs: number;
  try {
    [content, modifiedMs] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mtimeMs)]);
  } catch {
    return { status: 'free' };
  }
  const stale = (reason: string): LockState => ({ status: 'stale', reason, content });
  const record = parseRecord(content);
  if (!record)
    return nowMs - modifiedMs > unreadableAfterMs
      ? stale('the lock file is unreadable')
      : { status: 'held', pid: undefined };
  if (!isAlive(record.pid)) return stale(`its holder (pid ${record.pid}) has died`);
  if (record.started !== null && (await processStart(record.pid)) !== record.started) {
    return stale(`its holder (pid ${record.pid}) is gone: that pid now belongs to another process`);
  }
  if (nowMs > record.until) return stale(`its holder (pid ${record.pid}) should have given up by now`);
  return { status: 'held', pid: record.pid };
}

/**
 * Removes a stale lock. Several waiters may find the same stale lock: each moves the lock aside first (rename is
 * atomic), and puts back one that turns out to be a fresh lock another waiter has just taken.
 */
export async function breakLock(path: string, staleContent: string): Promise<void> {
  const aside = `${path}.${process.pid}-${randomHex(4)}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  if ((await readFile(aside, 'utf8').catch(() => staleContent)) !== staleContent)
    await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
}

function parseRecord(content: string): LockRecord | undefined {
  try {
    const record = JSON.parse(content) as Partial<LockRecord>;
    const valid =
      Number.isInteger(record.pid) &&
      (record.started === null || typeof record.started === 'string') &&
      typeof record.until === 'number' &&
      typeof record.id === 'string';
    return valid ? (record as LockRecord) : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat; null where there is no /proc (the pid alone then identifies the holder). */
async function processStart(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
