import type { Writable } from 'node:stream';
import { C8yTokenError, EXIT_CODES } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { describeSystemError } from '../core/system-errors.ts';

/**
 * Resolves once the text is handed to the OS, so setting process.exitCode afterwards cannot cut output short; rejects
 * with writeError when it cannot be written.
 */
export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) =>
    stream.write(text, (error) => (error ? reject(writeError('stdout', error)) : resolve())),
  );
}

/** curl's exit 23, in words: `cannot write to stdout: the reader closed the pipe`. */
export function writeError(name: string, error: unknown): C8yTokenError {
  return new C8yTokenError('write', `cannot write to ${name}: ${describeSystemError(error)}`, {
    hint:
      name === 'stdout'
        ? 'whatever read the output stopped reading'
        : 'check the path: does its directory exist, may it be written?',
  });
}

let carriesData = false;

/** Said by `get`, `env` and `curl`: their output is the data a script asked for, so losing it is a failure. */
export function stdoutCarriesData(): void {
  carriesData = true;
}

/**
 * The one handling of a closed stdout or stderr, for every command. A text command (help, completion, doctor, decode,
 * cache) has said enough once its reader has gone (`| head -1`): it ends quietly with exit 0, as git does. For a data
 * command the write that failed reports it (curl's exit 23, one line). A closed stderr leaves nowhere to report to:
 * the command goes on, and its exit code still tells.
 */
export function handleClosedOutput(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (carriesData) return;
    if (error.code !== 'EPIPE') process.stderr.write(`c8y-token: ${writeError('stdout', error).message}\n`);
    process.exit(error.code === 'EPIPE' ? 0 : EXIT_CODES.write);
  });
  process.stderr.on('error', () => {});
}

let diagnostics: Writable = process.stderr;

/** Where messages for humans go: stderr, unless `curl --stderr` named another place. */
export function diagnosticStream(): Writable {
  return diagnostics;
}

/** For `curl --stderr`: every later warning, trace and error message goes to `stream`. */
export function redirectDiagnostics(stream: Writable): void {
  // A destination that fails leaves nowhere to report to, as with a closed stderr.
  if (stream !== process.stdout) stream.on('error', () => {});
  diagnostics = stream;
}

/** Ends a --stderr file once the last message is written to it (stderr itself stays open). */
export async function endDiagnostics(): Promise<void> {
  const stream = diagnostics;
  diagnostics = process.stderr;
  if (stream === process.stderr || stream === process.stdout) return;
  await new Promise<void>((resolve) => stream.end(resolve));
}

/** The --verbose channel: stderr, prefixed, silent when not verbose. */
export function verboseLogger(verbose: boolean): Logger {
  return verbose ? (line) => diagnostics.write(`c8y-token: ${line}\n`) : () => {};
}

export function warn(line: string): void {
  diagnostics.write(`c8y-token: ${line}\n`);
}

/** Passes on the first line only: for a warning worth one line per run however often its cause is seen. */
export function once(warning: (line: string) => void): (line: string) => void {
  let warned = false;
  return (line) => {
    if (!warned) warning(line);
    warned = true;
  };
}
