import { usageError } from './errors.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/;

/** Parses "15", "1.5", "500ms", "30s", "5m" or "1h" (a bare number is seconds) into milliseconds. */
export function parseDuration(text: string, option: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) {
    throw usageError(
      `${option}: '${text}' is not a duration`,
      'use seconds (15), or a number with ms, s, m or h (500ms, 30s, 5m, 1h)',
    );
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? 's']!;
  if (!Number.isFinite(ms) || ms > 2 ** 31 - 1) {
    throw usageError(`${option}: '${text}' is too long`, 'use at most 24 days');
  }
  return Math.round(ms);
}

export function parsePositiveDuration(text: string, option: string): number {
  const ms = parseDuration(text, option);
  if (ms <= 0) throw usageError(`${option}: must be greater than zero`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (Math.abs(ms) < 1000) return `${Math.round(Math.abs(ms))}ms`;
  const total = Math.round(Math.abs(ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** "15s", "0.5s": a timeout as the user gave it, give or take the milliseconds spent before the wait began. */
export function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
