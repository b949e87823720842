import { usageError, wording, type Wording } from './errors.ts';

export function parsePort(text: string, option: string | Wording): number {
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw usageError(wording`${option}: '${text}' is not a port number`, 'use a number from 1 to 65535');
  }
  return port;
}

/** Parses a whole number from `min` to `max` (--retry, --page-size). */
export function parseCount(text: string, option: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max))
    throw usageError(`${option}: '${text}' is not a whole number from ${min} to ${max}`);
  return value;
}
