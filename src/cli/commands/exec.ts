import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { C8yTokenError, throwIfAborted } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { describeSystemError } from '../../core/system-errors.ts';
import { getTokenVariables, type TokenVariables, type TokenVariablesOptions } from '../../core/token/variables.ts';
import { terminalStanding } from '../job-control.ts';
import { warn } from '../output.ts';
import { inFlags } from '../reporting.ts';

export interface ExecCommandOptions extends TokenVariablesOptions {
  command: string;
  args: string[];
  /** Called once the command runs: from then on, signals are the command's to handle, not an interruption. */
  onSpawn?: () => void;
}

/** Signals that stop or steer a process: the command gets each once, and decides what it means. */
const PASSED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
type PassedSignal = (typeof PASSED_SIGNALS)[number];

/** What a terminal sends to its whole foreground process group (Ctrl-C, Ctrl-\). */
const TERMINAL_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGQUIT']);

/** Signals whose default action dumps core: the core would be Node's, not the command's. */
const CORE_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set([
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGSEGV',
  'SIGSYS',
  'SIGXCPU',
  'SIGXFSZ',
]);

type Ending = { code: number } | { signal: NodeJS.Signals };

/** Runs the command with the token in its environment (never in its arguments) and ends as it does. */
export async function exec(options: ExecCommandOptions): Promise<void> {
  const { variables, warning } = await getTokenVariables({ ...options, warn });
  if (warning) warn(inFlags(warning));
  throwIfAborted(options.signal);
  const ending = await run(options, variables);
  process.exitCode = 'code' in ending ? ending.code : dieBy(ending.signal);
}

interface SignalPlan {
  /** The command gets a session and process group of its own (Node's `detached` is setsid). */
  detached: boolean;
  /** Whether c8y-token sends the command its own copy of a signal it received, or the command has one already. */
  forwards: (signal: PassedSignal) => boolean;
  explanation: string;
}

/**
 * How the command runs so that it gets each signal once. Node shows no signal's sender, so where it came from is
 * judged by where c8y-token stands (docs/reliability.md, "exec and signals", says what this leaves):
 * - in its terminal's foreground, the command joins c8y-token's process group: the terminal's signals (Ctrl-C,
 *   Ctrl-\, Ctrl-Z) and a hang-up relayed by the shell reach it directly, as if run without c8y-token, and are not
 *   forwarded; the signals no terminal sends (SIGTERM, SIGUSR1, SIGUSR2) are;
 * - elsewhere (cron, systemd, scripts, background jobs) the command has a group of its own, which no signal aimed at
 *   c8y-token's group reaches, and every signal c8y-token receives is forwarded.
 */
function signalPlan(): SignalPlan {
  const { foreground, sessionLeader } = terminalStanding();
  if (!foreground) {
    return {
      detached: true,
      forwards: () => true,
      explanation: 'in a session of its own; every signal c8y-token receives is forwarded to it',
    };
  }
  return {
    detached: false,
    // The kernel sends a terminal's hang-up to the session's leader alone: the shell that leads it relays it to its
    // jobs' process groups; when c8y-token leads the session itself, the command has no copy but c8y-token's.
    forwards: (signal) => !TERMINAL_SIGNALS.has(signal) && (signal !== 'SIGHUP' || sessionLeader),
    explanation: "in c8y-token's process group, the terminal's foreground: the terminal's signals reach it directly",
  };
}

function run(options: ExecCommandOptions, variables: TokenVariables): Promise<Ending> {
  const { command, args } = options;
  const log: Logger = options.log ?? (() => {});
  const env = { ...process.env };
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const plan = signalPlan();
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: 'inherit', env, detached: plan.detached });
  } catch (error) {
    // Some failures (ETXTBSY: the file is open for writing) are thrown rather than emitted as 'error'.
    throw spawnError(command, error as NodeJS.ErrnoException);
  }
  options.onSpawn?.();
  log(`running ${command} ${plan.explanation}`);
  const relay = (signal: PassedSignal) => {
    if (!plan.forwards(signal)) return log(`${signal} not forwarded: the command had it from the terminal too`);
    log(`${signal} forwarded to the command`);
    child.kill(signal);
  };
  for (const signal of PASSED_SIGNALS) process.on(signal, relay);
  return new Promise((resolve, reject) => {
    const done = () => {
      for (const signal of PASSED_SIGNALS) process.off(signal, relay);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return;
      done();
      reject(spawnError(command, error));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(signal ? { signal } : { code: code ?? 0 });
    });
  });
}

/**
 * Ends c8y-token by the signal that ended the command, as the command itself would have ended, so that the calling
 * shell sees that: a shell that gets Ctrl-C while it waits stops its loop or script only when its child died by
 * SIGINT. A signal that dumps core is an exit code, 128 + its number, as a shell reports it.
 */
function dieBy(signal: NodeJS.Signals): number {
  const code = 128 + constants.signals[signal];
  if (CORE_SIGNALS.has(signal)) return code;
  if (signal !== 'SIGKILL') {
    // A listener added and removed leaves the signal at its default action (libuv restores SIG_DFL), also where Node
    // ignores it (SIGPIPE) or takes it itself (SIGUSR1 would start the inspector instead).
    const none = () => {};
    process.on(signal, none).off(signal, none);
  }
  // Delivered before kill() returns, to this unblocked thread: what follows runs only if the signal is blocked.
  process.kill(process.pid, signal);
  return code;
}

function spawnError(command: string, error: NodeJS.ErrnoException): C8yTokenError {
  if (error.code === 'ENOENT') {
    return new C8yTokenError('commandNotFound', `command not found: ${command}`, { hint: 'check the name and PATH' });
  }
  return new C8yTokenError('commandNotExecutable', `cannot run ${command}: ${describeSystemError(error)}`, {
    hint: 'check that it is an executable file',
  });
}
