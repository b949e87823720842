import { readFileSync } from 'node:fs';
import { curlOptions, DEFAULT_FLAGS, tokenOptions } from './command-flags.ts';
import { get } from './commands/get.ts';
import { C8yTokenError } from './errors.ts';
import { listenForInterruptions } from './interruption.ts';

/** What the parsed command line says about reporting a failure. */
export interface Reporting {
  verbose: boolean;
  quiet: boolean;
}

/** The CLI's entry: the one place where failures become exit codes and messages. */
export async function main(argv: string[] = process.argv): Promise<void> {
  const reporting: Reporting = { verbose: false, quiet: false };
  listenForInterruptions(true);
  try {
    const [command, path, ...rest] = argv.slice(2);
    // `c8y-token get` and `c8y-token curl PATH`, what scripts run most, have nothing to parse: loading commander and
    // defining every command took 12-15 ms of them. They run with the flags commander would give them; any other
    // command line goes to commander.
    if (command === 'get' && path === undefined) {
      await get({ ...tokenOptions(DEFAULT_FLAGS), format: 'token' });
    } else if (command === 'curl' && path !== undefined && !path.startsWith('-') && rest.length === 0) {
      const { curl } = await import('./commands/curl.ts');
      await curl(curlOptions(path, DEFAULT_FLAGS, [], version()));
    } else {
      await (await import('./program.ts')).runProgram(argv, version(), reporting);
    }
  } catch (error) {
    process.exitCode = reportError(error, reporting);
  } finally {
    listenForInterruptions(false);
  }
}

/** Read here, in the bundle's entry, two levels below package.json as dist/src/cli.js is. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function reportError(error: unknown, { verbose, quiet }: Reporting): number {
  if (error instanceof C8yTokenError) {
    if (quiet) return error.exitCode;
    const lines = [`c8y-token: ${error.message}`];
    if (error.hint) lines.push(`  ${error.hint}`);
    if (verbose && error.detail) lines.push(`  detail: ${error.detail}`);
    process.stderr.write(`${lines.join('\n')}\n`);
    return error.exitCode;
  }
  process.stderr.write(
    `c8y-token: unexpected error; please report it with the output of --verbose\n${(error as Error)?.stack ?? String(error)}\n`,
  );
  return 1;
}
