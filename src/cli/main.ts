import { readFileSync } from 'node:fs';
import { curlOptions, DEFAULT_FLAGS, tokenOptions } from './flags.ts';
import { get } from './commands/get.ts';
import { listenForInterruptions } from './interruption.ts';
import { endDiagnostics, handleClosedOutput } from './output.ts';
import { type Reporting, reportError } from './reporting.ts';

/** The CLI's entry: the one place where failures become exit codes and messages. */
export async function main(argv: string[] = process.argv): Promise<void> {
  const reporting: Reporting = { verbose: false, quiet: false };
  listenForInterruptions(true);
  handleClosedOutput();
  try {
    const [command, path, ...rest] = argv.slice(2);
    // `c8y-token get` and `c8y-token curl PATH`, what scripts run most, have nothing to parse: they skip loading
    // commander and defining every command (docs/performance.md), and run with the flags commander would give them.
    // Any other command line goes to commander.
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
    await endDiagnostics();
  }
}

/** Read here, in the bundle's entry, two levels below package.json as dist/cli/c8y-token.js is. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
