import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError, C8yTokenError, throwIfAborted } from '../errors.ts';
import { describeSystemError } from '../system-errors.ts';
import type { Logger } from '../logger.ts';
import { remainingValidity, unusableReason, type DeviceToken } from '../token/claims.ts';
import { formatDuration, formatSeconds } from '../duration.ts';
import type { DirectoryCheck } from './location.ts';
import { acquireLock, breakLock, inspectLock, type HeldLock } from './lock.ts';
import { entryBaseName, evictEntry, readEntry, writeEntry, type CacheKey } from './store.ts';

export interface CachedRequestOptions {
  dir: string;
  /** Checks `dir` as checkCacheDirectory(dir, true) does; the caller may share one check between uses. */
  checkDirectory: () => Promise<DirectoryCheck>;
  /** A cached token is reused only while it stays valid at least this long. */
  minValidityMs: number;
  /** Bounds the whole call: waiting for another process included. */
  timeoutMs: number;
  /**
   * The token the tenant has just refused: evicted from the cache, never returned from it. `request` may still give it
   * back (the bridge had no other); it is then returned, and not cached again.
   */
  exclude?: string | undefined;
  /** Why a cached token is not to be used although valid (its issuer, say); undefined when it is. */
  refuse?: ((token: DeviceToken) => string | undefined) | undefined;
  signal?: AbortSignal | undefined;
  log: Logger;
}

/** Waiters look this often for the holder's result: short against a bridge round trip, cheap for a few processes. */
const POLL_MS = 50;

/**
 * Returns the cached token for the broker and bridge, or asks for one with `request`. When many processes find no
 * usable token at once, one of them (the lock holder) asks; the others wait for its result, and take over if it dies.
 * Without a usable cache directory, `request` is called directly.
 */
export async function cachedRequest(
  key: CacheKey,
  options: CachedRequestOptions,
  request: (timeoutMs: number) => Promise<DeviceToken>,
): Promise<DeviceToken> {
  const { dir, log, signal } = options;
  const directory = await options.checkDirectory();
  if (!directory.usable) {
    log(`not using the token cache: ${directory.reason}`);
    return request(options.timeoutMs);
  }
  const call: Call = { key, options, deadline: Date.now() + options.timeoutMs };
  const lockPath = join(dir, `${entryBaseName(key)}.lock`);
  for (;;) {
    throwIfAborted(signal);
    const cached = await reusable(call);
    if (cached) return cached;
    const lock = await acquireLock(lockPath, call.deadline).catch((error: NodeJS.ErrnoException) => {
      log(`not using the token cache: cannot create a lock in ${dir}: ${describeSystemError(error)}`);
      return null;
    });
    if (lock === null) return request(timeLeft(call));
    if (lock) return holding(call, lock, request);
    await waitForHolder(call, lockPath);
  }
}

/** What one cachedRequest call learns as it goes. */
interface Call {
  key: CacheKey;
  options: CachedRequestOptions;
  deadline: number;
  /**
   * The token cached when the call began. Any other token found later was written while this call waited: it is as
   * fresh as a token can be, even when it does not meet minValidity (asking again would get the same lifetime).
   */
  initial?: { token: string | undefined };
  /** The process holding the lock, once it is known. */
  waitingFor?: number;
}

/** The cached token, if it may be used: valid long enough (or newly written), not refused, not excluded. */
async function reusable(call: Call): Promise<DeviceToken | undefined> {
  const { key, options } = call;
  const { dir, log } = options;
  const stored = await readEntry(dir, key);
  const cached = stored && 'token' in stored ? stored.token : undefined;
  const first = call.initial === undefined;
  call.initial ??= { token: cached?.token };
  const problem =
    stored && 'problem' in stored ? stored.problem : cached && (unusableReason(cached) ?? options.refuse?.(cached));
  if (problem && first) log(`ignoring the cached entry: ${problem}`);
  if (!cached || problem) return undefined;
  if (cached.token === options.exclude) {
    log('evicting the cached token the tenant refused');
    await evictEntry(dir, key, cached.token);
    return undefined;
  }
  const left = remainingValidity(cached);
  if (left >= options.minValidityMs || cached.token !== call.initial.token) {
    log(`using the cached token (valid for ${formatDuration(left)})`);
    return cached;
  }
  if (first)
    log(
      `the cached token is valid for ${formatDuration(left)} only, less than the validity asked for: asking for a new one`,
    );
  return undefined;
}

/** The time left until the call's deadline; a timeout error naming the lock holder once there is none. */
function timeLeft(call: Call): number {
  const left = call.deadline - Date.now();
  if (left > 0) return left;
  const holder = call.waitingFor === undefined ? '' : ` (pid ${call.waitingFor})`;
  throw new C8yTokenError(
    'timeout',
    `no token received within ${formatSeconds(call.options.timeoutMs)}: another c8y-token process${holder} is still asking for one`,
    { hint: 'check that tedge-mapper-c8y is running and connected (`tedge connect c8y --test`)' },
  );
}

/** As the lock holder: asks for the token and caches it for the processes waiting. */
async function holding(
  call: Call,
  lock: HeldLock,
  request: (timeoutMs: number) => Promise<DeviceToken>,
): Promise<DeviceToken> {
  const { dir, log, signal, exclude } = call.options;
  try {
    // The previous holder may have written its token between the look before and taking the lock.
    const written = await reusable(call);
    if (written) return written;
    const token = await request(timeLeft(call));
    if (token.token === exclude) return token;
    await writeEntry(dir, call.key, token, signal).catch((error: NodeJS.ErrnoException) => {
      throwIfAborted(signal);
      log(`could not write the token cache in ${dir}: ${describeSystemError(error)}`);
    });
    return token;
  } finally {
    await lock.release();
  }
}

/** Another process holds the lock: breaks it if that process is gone, else waits a little for its result. */
async function waitForHolder(call: Call, lockPath: string): Promise<void> {
  const { log, signal, timeoutMs } = call.options;
  const state = await inspectLock(lockPath, timeoutMs);
  if (state.status === 'stale') {
    log(`taking over a stale lock: ${state.reason}`);
    await breakLock(lockPath, state.content);
    return;
  }
  if (state.status === 'held' && state.pid !== undefined && state.pid !== call.waitingFor) {
    call.waitingFor = state.pid;
    log(`waiting for process ${state.pid}, which is asking the bridge for a token`);
  }
  await sleep(Math.min(POLL_MS, timeLeft(call)), undefined, { signal }).catch(() => {
    throw abortError(signal!);
  });
}
