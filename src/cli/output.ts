import type { Writable } from 'node:stream';
import type { Logger } from '../core/logger.ts';

/** Resolves once the text is handed to the OS, so setting process.exitCode afterwards cannot cut output short. */
export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}

/** The --verbose channel: stderr, prefixed, silent when not verbose. */
export function verboseLogger(verbose: boolean): Logger {
  return verbose ? (line) => process.stderr.write(`c8y-token: ${line}\n`) : () => {};
}

export function warn(line: string): void {
  process.stderr.write(`c8y-token: ${line}\n`);
}

/** Passes on the first line only: for a warning worth one line per run however often its cause is seen. */
export function once(warning: (line: string) => void): (line: string) => void {
  let warned = false;
  return (line) => {
    if (!warned) warning(line);
    warned = true;
  };
}
