import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeToken, type DeviceToken } from '../token/claims.ts';
import { clockMark, offsetNow, parseClockMark } from './clock-mark.ts';
import { readPrivateFile, TEMP_SUFFIX, writePrivateFile } from './private-file.ts';

/**
 * One cache entry per broker, bridge and tenant: a device with two cloud profiles has two tokens, and after
 * `tedge reconnect` to another tenant the old tenant's token is never served.
 */
export interface CacheKey {
  host: string;
  port: number;
  topicPrefix: string;
  /** The tenant host thin-edge names (c8y.url), '' when it names none. */
  tenant: string;
}

export interface CacheEntry extends CacheKey {
  token: DeviceToken;
}

/** What a file in the cache directory holds; `problem` says why an entry cannot be used (it is then replaced). */
export type StoredEntry = { file: string } & ({ entry: CacheEntry } | { problem: string });

const ENTRY_SUFFIX = '.json';
/** A device token is 1-2 KiB: a much larger file is not one of ours. */
const MAX_ENTRY_BYTES = 64 * 1024;

/**
 * The file name for a broker and bridge: a hash, so that host names never become paths. FNV-1a (64 bits) rather than
 * node:crypto, slow to load for a cached `get` (docs/performance.md); the entry names its broker and bridge, and
 * readEntry checks them, so even a collision cannot hand out another broker's token.
 */
export function entryBaseName(key: CacheKey): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(`${key.host}\0${key.port}\0${key.topicPrefix}\0${key.tenant}`)) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  }
  return hash.toString(16).padStart(16, '0');
}

function entryPath(dir: string, key: CacheKey): string {
  return join(dir, `${entryBaseName(key)}${ENTRY_SUFFIX}`);
}

/** The cached token for a broker and bridge: undefined when there is none, else the token or why it cannot be used. */
export async function readEntry(
  dir: string,
  key: CacheKey,
): Promise<{ token: DeviceToken } | { problem: string } | undefined> {
  const stored = await readStored(entryPath(dir, key));
  if (!stored || 'problem' in stored) return stored;
  const { entry } = stored;
  const matches =
    entry.host === key.host &&
    entry.port === key.port &&
    entry.topicPrefix === key.topicPrefix &&
    entry.tenant === key.tenant;
  return matches ? { token: entry.token } : { problem: 'it was written for another broker, bridge or tenant' };
}

/** Undefined when there is no such file. */
async function readStored(file: string): Promise<StoredEntry | undefined> {
  const read = await readPrivateFile(file, MAX_ENTRY_BYTES);
  if (!read) return undefined;
  if ('problem' in read) return { file, problem: read.problem };
  try {
    const data = JSON.parse(read.text) as Record<string, unknown>;
    const { host, port, topicPrefix, tenant, token, clockOffsetMs = 0 } = data;
    if (
      typeof host !== 'string' ||
      typeof port !== 'number' ||
      typeof topicPrefix !== 'string' ||
      typeof tenant !== 'string' ||
      typeof token !== 'string' ||
      typeof clockOffsetMs !== 'number' ||
      !Number.isFinite(clockOffsetMs)
    ) {
      return { file, problem: 'not a cache entry' };
    }
    const offset = offsetNow(clockOffsetMs, parseClockMark(data.clockMark));
    return {
      file,
      entry: { host, port, topicPrefix, tenant, token: { ...decodeToken(token), clockOffsetMs: offset } },
    };
  } catch {
    return { file, problem: 'corrupt' };
  }
}

/**
 * Writes the entry atomically, so that a reader sees the old token or the new one, never half a file. When the signal
 * is aborted first, nothing is left behind. The entry keeps the clock offset measured when the token arrived, and
 * a clock mark that lets a reader follow a later setting of the device clock: a cached token is judged in the
 * tenant's time as a fresh one is.
 */
export async function writeEntry(dir: string, key: CacheKey, token: DeviceToken, signal?: AbortSignal): Promise<void> {
  const { host, port, topicPrefix, tenant } = key;
  const { clockOffsetMs } = token;
  const entry = { host, port, topicPrefix, tenant, token: token.token, clockOffsetMs, clockMark: clockMark() };
  await writePrivateFile(entryPath(dir, key), `${JSON.stringify(entry)}\n`, signal);
}

/** Removes the entry if it still holds this token: another process may already have replaced it with a good one. */
export async function evictEntry(dir: string, key: CacheKey, token: string): Promise<void> {
  const cached = await readEntry(dir, key);
  if (cached && 'token' in cached && cached.token.token === token) await unlink(entryPath(dir, key)).catch(() => {});
}

/** Every entry in the cache directory, usable or not, in a stable order. */
export async function listEntries(dir: string): Promise<StoredEntry[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(ENTRY_SUFFIX)).sort();
  const entries = await Promise.all(names.map((name) => readStored(join(dir, name))));
  return entries.filter((entry) => entry !== undefined);
}

/** Removes every entry, and temporary files left by a process killed while writing; returns how many entries went. */
export async function clearEntries(dir: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir)) {
    if (!name.endsWith(ENTRY_SUFFIX) && !name.endsWith(TEMP_SUFFIX)) continue;
    try {
      await unlink(join(dir, name));
      if (name.endsWith(ENTRY_SUFFIX)) removed++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return removed;
}
