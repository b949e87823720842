import { readFileSync } from 'node:fs';
import { uptime } from 'node:os';
import { CLOCK_SKEW_MS, clockOffset } from '../token/clock.ts';

/**
 * A point on the device's timeline: which boot, the device clock then, and the time since boot (which no clock
 * setting moves). Two marks of the same boot tell whether the clock was set in between, as time sync does once it
 * succeeds; undefined where the boot cannot be told (not Linux).
 */
export interface ClockMark {
  bootId: string;
  atMs: number;
  uptimeMs: number;
}

export function clockMark(atMs: number = Date.now()): ClockMark | undefined {
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return { bootId, atMs, uptimeMs: Math.round(uptime() * 1000) };
  } catch {
    return undefined;
  }
}

/**
 * The clock offset measured at `then`, as it stands `now`: when the device clock was set in between by more than a
 * minute, the offset shrinks by as much. Another boot leaves nothing of it (0: the device clock is trusted, and a token
 * that then looks unusable is replaced, which measures the offset again).
 */
export function offsetNow(
  offsetMs: number,
  then: ClockMark | undefined,
  now: ClockMark | undefined = clockMark(),
): number {
  if (!then || !now) return offsetMs;
  if (then.bootId !== now.bootId) return 0;
  const step = now.atMs - then.atMs - (now.uptimeMs - then.uptimeMs);
  return Math.abs(step) > CLOCK_SKEW_MS ? clockOffset(offsetMs - step, 0) : offsetMs;
}

/** The mark as stored in a cache entry, or undefined when it is not one. */
export function parseClockMark(value: unknown): ClockMark | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { bootId, atMs, uptimeMs } = value as Record<string, unknown>;
  const numbers = [atMs, uptimeMs].every((n) => typeof n === 'number' && Number.isFinite(n));
  return typeof bootId === 'string' && numbers
    ? { bootId, atMs: atMs as number, uptimeMs: uptimeMs as number }
    : undefined;
}
