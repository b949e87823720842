import { formatDuration } from '../duration.ts';

/**
 * Device and cloud clocks drift: clocks that agree within a minute are taken to agree, and a token is not refused for
 * being valid a minute from now.
 */
export const CLOCK_SKEW_MS = 60_000;

/** The hint for every message that blames the device clock. */
export const TIME_SYNC_HINT = 'check the time sync of the device (`timedatectl status`; `timedatectl set-ntp true`)';

/**
 * The offset (the tenant's time minus the device's) that a time from the tenant shows: `tenantMs` read by the tenant's
 * clock at the device's `deviceMs`. 0 when the two agree within a minute.
 */
export function clockOffset(tenantMs: number, deviceMs: number): number {
  const offset = Math.round(tenantMs - deviceMs);
  return Math.abs(offset) > CLOCK_SKEW_MS ? offset : 0;
}

/**
 * "2h 0m behind", "5m 0s ahead of": how the device clock stands against the tenant's, to the minute (a token's times
 * are whole seconds, and the message takes its time to arrive).
 */
export function describeClockOffset(offsetMs: number): string {
  const minutes = Math.max(1, Math.round(Math.abs(offsetMs) / 60_000));
  return `${formatDuration(minutes * 60_000)} ${offsetMs > 0 ? 'behind' : 'ahead of'}`;
}

/** The warning for a device clock that is off: by what it was measured, and what that means. */
export function clockWarning(offsetMs: number, source: string): string {
  return `the device clock is ${describeClockOffset(offsetMs)} the tenant's (${source}); ${TIME_SYNC_HINT}`;
}

/** The warning for a token judged in the tenant's time. */
export function tokenClockWarning(offsetMs: number): string {
  return clockWarning(offsetMs, "by the token's iat: the token is judged in the tenant's time");
}

/**
 * The offset that an HTTP answer's `Date` header shows, received at the device's `receivedMs`: undefined without a
 * readable header. The header has whole seconds, well within the minute that counts.
 */
export function dateHeaderOffset(date: string | string[] | undefined, receivedMs: number): number | undefined {
  const tenantMs = typeof date === 'string' ? Date.parse(date) : Number.NaN;
  return Number.isNaN(tenantMs) ? undefined : clockOffset(tenantMs, receivedMs);
}

/** What to add where a token's remaining validity is shown: nothing when the clocks agree. */
export function clockNote(offsetMs: number): string {
  return offsetMs === 0
    ? ''
    : `, in the tenant's time: the device clock is ${describeClockOffset(offsetMs)} the tenant's`;
}
