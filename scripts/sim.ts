import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shellExports, shQuote } from '../src/cli/shell-exports.ts';
import { startStandaloneDevice } from '../sim/standalone.ts';

/**
 * npm run sim: the simulated device alone, to try c8y-token on by hand, until Ctrl-C. The `export` lines that point
 * c8y-token at it go to stdout (and to a file to source); everything else to stderr. Ctrl-C, SIGTERM or a closed
 * terminal stop it: every process it started and its directory are gone when it exits, with 0.
 */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

async function sim(): Promise<void> {
  // Ctrl-C reaches npm and mosquitto too (npm passes a second copy on): any signal after the first is ignored.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of STOP_SIGNALS) process.on(signal, () => resolve(signal));
  });
  const standalone = await startStandaloneDevice('c8y-token-sim-');
  try {
    const exports = shellExports(standalone.variables, 'sh');
    const envFile = join(standalone.dir, 'env');
    await writeFile(envFile, exports);
    process.stderr.write(`${standalone.description.join('\n')}\n\n`);
    process.stdout.write(exports);
    process.stderr.write(
      [
        '',
        `In another shell, paste the lines above or run: . ${shQuote(envFile)}`,
        'then, in this directory, try for example:',
        '  bin/c8y-token doctor',
        '  bin/c8y-token curl /user/currentUser',
        'Press Ctrl-C to stop the simulated device.',
        '',
      ].join('\n'),
    );
    await stopped;
  } finally {
    await standalone.stop();
  }
  process.stderr.write('Stopped the simulated device.\n');
}

sim().catch((error: Error) => {
  process.stderr.write(`npm run sim: ${error.message}\n`);
  process.exitCode = 1;
});
