import { link, readFile, rename, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomHex } from '../random.ts';
import { createExclusive } from './private-file.ts';

/**
 * A lock file that lets one process ask the bridge while the others wait for its result. It is created with O_EXCL and
 * names its holder (pid and process start time) and the time by which the holder will have given up.
 *
 * Creating the lock needs nothing else: O_EXCL lets exactly one process create it. Removing it is the hard part, as
 * no file system call removes a file only if it is still the one that was read. So every removal, the holder's release
 * and a waiter's takeover of a stale lock alike, happens under a second lock, the gate (`<lock>.gate`), held for a
 * few system calls: under the gate, the lock read is the lock removed, because nobody else may remove it meanwhile,
 * and nobody can create one while it exists.
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
  const content = await recordFor(until);
  if (!(await createWith(path, content))) return undefined;
  return { release: () => removeIfStill(path, content) };
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
  const gone = await holderGone(record);
  if (gone) return stale(gone);
  if (nowMs > record.until) return stale(`its holder (pid ${record.pid}) should have given up by now`);
  return { status: 'held', pid: record.pid };
}

/** Removes a stale lock, unless it has been replaced since it was found stale. */
export function breakLock(path: string, staleContent: string): Promise<void> {
  return removeIfStill(path, staleContent);
}

/** Creates `path` holding `content`; false when it exists. */
async function createWith(path: string, content: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof createExclusive>>;
  try {
    handle = await createExclusive(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
  } catch (error) {
    // An empty lock (a full disk) would hold the others off until it is old enough to count as stale.
    await unlink(path).catch(() => {});
    throw error;
  } finally {
    await handle.close();
  }
  return true;
}

/** How often a process waits for the gate, and for how long at most: its holders hold it for a few system calls. */
const GATE_POLL_MS = 2;
const GATE_PATIENCE_MS = 2000;

/**
 * Removes the lock at `path` if it still holds `content`. Without the gate (its holder hangs, or the directory has
 * become unwritable) the lock is left: it is stale by then or soon, and the next process takes it over.
 */
async function removeIfStill(path: string, content: string): Promise<void> {
  const gate = `${path}.gate`;
  const gateContent = await recordFor(Number.MAX_SAFE_INTEGER);
  const giveUpAt = Date.now() + GATE_PATIENCE_MS;
  for (;;) {
    const entered = await createWith(gate, gateContent).catch(() => undefined);
    if (entered === undefined) return;
    if (entered) break;
    await breakStaleGate(gate);
    if (Date.now() > giveUpAt) return;
    await sleep(GATE_POLL_MS);
  }
  try {
    if ((await readFile(path, 'utf8').catch(() => undefined)) === content) await unlink(path).catch(() => {});
  } finally {
    await unlink(gate).catch(() => {});
  }
}

/**
 * A gate is stale only when its holder died inside those few system calls. It is moved aside (rename is atomic) and
 * put back if it turns out to be a live holder's. This check-then-act is the one the gate cannot cover; it needs a
 * process to die while holding the gate and others to race over its removal within microseconds.
 */
async function breakStaleGate(gate: string): Promise<void> {
  const content = await readFile(gate, 'utf8').catch(() => undefined);
  const record = content === undefined ? undefined : parseRecord(content);
  if (!record || !(await holderGone(record))) return;
  const aside = `${gate}.${process.pid}-${randomHex(4)}.tmp`;
  try {
    await rename(gate, aside);
  } catch {
    return;
  }
  if ((await readFile(aside, 'utf8').catch(() => content)) !== content) await link(aside, gate).catch(() => {});
  await unlink(aside).catch(() => {});
}

async function recordFor(until: number): Promise<string> {
  const record: LockRecord = { pid: process.pid, started: await processStart(process.pid), until, id: randomHex(8) };
  return JSON.stringify(record);
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

/** Why the record's holder is no longer running, or undefined while it is. */
async function holderGone({ pid, started }: LockRecord): Promise<string | undefined> {
  if (!isAlive(pid)) return `its holder (pid ${pid}) has died`;
  if (started !== null && (await processStart(pid)) !== started)
    return `its holder (pid ${pid}) is gone: that pid now belongs to another process`;
  return undefined;
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
