import { createWriteStream, openSync } from 'node:fs';
import { skipWasmTierUp } from '../../core/http/agent.ts';
import { describeSystemError } from '../../core/system-errors.ts';
import { curl as request, type CurlOptions } from '../curl/run.ts';
import { diagnosticStream, redirectDiagnostics, stdoutCarriesData } from '../output.ts';

export interface CurlCommandOptions extends CurlOptions {
  /** --stderr: where warnings, traces and error messages go instead of stderr (`-`: stdout). */
  stderr?: string | undefined;
}

export async function curl({ stderr, ...options }: CurlCommandOptions): Promise<void> {
  stdoutCarriesData();
  if (stderr !== undefined) redirectStderr(stderr, options.silent === true);
  await skipWasmTierUp();
  await request(options, { stdin: process.stdin, stdout: process.stdout, stderr: diagnosticStream() });
}

/** As curl does: a file that cannot be opened is a warning, and stderr stays where it was. */
function redirectStderr(path: string, silent: boolean): void {
  if (path === '-') {
    redirectDiagnostics(process.stdout);
    return;
  }
  try {
    // Opened at once, as curl does, so that the file exists (empty) whatever comes next.
    redirectDiagnostics(createWriteStream('', { fd: openSync(path, 'w') }));
  } catch (error) {
    if (!silent)
      process.stderr.write(`c8y-token: warning: --stderr: cannot open ${path}: ${describeSystemError(error)}\n`);
  }
}
