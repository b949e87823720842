import { C8yTokenError } from '../core/errors.ts';
import { diagnosticStream } from './output.ts';

/** What the parsed command line says about reporting a failure. */
export interface Reporting {
  verbose: boolean;
  quiet: boolean;
}

/** The one place where failures become exit codes and messages. */
export function reportError(error: unknown, { verbose, quiet }: Reporting): number {
  if (error instanceof C8yTokenError) {
    // curl's -s hides failures, not mistakes on the command line.
    if (quiet && error.kind !== 'usage') return error.exitCode;
    const lines = [`c8y-token: ${error.message}`];
    if (error.hint) lines.push(`  ${error.hint}`);
    if (verbose && error.detail) lines.push(`  detail: ${error.detail}`);
    diagnosticStream().write(`${lines.join('\n')}\n`);
    return error.exitCode;
  }
  diagnosticStream().write(
    `c8y-token: unexpected error; please report it with the output of --verbose\n${(error as Error)?.stack ?? String(error)}\n`,
  );
  return 1;
}
