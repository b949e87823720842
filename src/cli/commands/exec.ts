import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { abortError, C8yTokenError } from '../../core/errors.ts';
import { describeSystemError } from '../../core/system-errors.ts';
import { warn } from '../output.ts';
import { inFlags } from '../reporting.ts';
import { getTokenVariables, type TokenVariables, type TokenVariablesOptions } from '../../core/token/variables.ts';

export interface ExecCommandOptions extends TokenVariablesOptions {
  command: string;
  args: string[];
  /** Called once the command runs: from then on, signals are the command's to handle, not an interruption. */
  onSpawn?: () => void;
}

/** Signals that stop or steer a process: passed on to the command, which decides what they mean. */
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Runs the command with the token in its environment (never in its arguments) and exits as it does. */
export async function exec(options: ExecCommandOptions): Promise<void> {
  const { variables, warning } = await getTokenVariables({ ...options, warn });
  if (warning) warn(inFlags(warning));
  if (options.signal?.aborted) throw abortError(options.signal);
  process.exitCode = await run(options.command, options.args, variables, options.onSpawn);
}

/** Resolves with the command's exit code, or 128 + the signal's number when a signal ended it (as shells report it). */
function run(
  command: string,
  args: string[],
  variables: TokenVariables,
  onSpawn: (() => void) | undefined,
): Promise<number> {
  const env = { ...process.env };
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const child = spawn(command, args, { stdio: 'inherit', env });
  onSpawn?.();
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  return new Promise((resolve, reject) => {
    const done = () => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return;
      done();
      reject(spawnError(command, error));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

function spawnError(command: string, error: NodeJS.ErrnoException): C8yTokenError {
  if (error.code === 'ENOENT') {
    return new C8yTokenError('commandNotFound', `command not found: ${command}`, { hint: 'check the name and PATH' });
  }
  return new C8yTokenError('commandNotExecutable', `cannot run ${command}: ${describeSystemError(error)}`, {
    hint: 'check that it is an executable file',
  });
}
