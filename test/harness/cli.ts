import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test/harness/ where the compiled harness runs. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = join(ROOT, 'bin', 'c8y-token');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout as it came, for output that need not be text. */
  stdoutBytes: Buffer;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  /** Leave stdin open after the input, as a reader that never closes it does (cron, `ssh host cmd`). */
  holdStdin?: boolean;
  /** Close this stream's reading end at once, as a reader that goes away does (`| head -1`). */
  closeReader?: 'stdout' | 'stderr';
  /** Kill the CLI after this long: a hung command fails its test instead of the whole suite. */
  killAfterMs?: number;
  /** The CLI's umask (default: the test runner's). */
  umask?: number;
  /** The CLI's working directory (default: the test runner's). */
  cwd?: string;
  /** Options for node itself, before bin/c8y-token (V8's trace flags, for what only V8 can tell). */
  nodeOptions?: string[];
}

/**
 * An environment like a device's, without the developer's: no TEDGE_* overrides, no real tedge on PATH
 * (PATH holds only node's directory and the system directories), and a private HOME.
 */
export function baseEnv(): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'c8y-token-home-'));
  return {
    PATH: [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    HOME: home,
    LANG: 'C.UTF-8',
    // The test process's own temporary directory (harness/temp-root.ts), removed when it exits.
    TMPDIR: tmpdir(),
  };
}

/** A fresh, empty directory for a token cache that several runs share. */
/**
 * Node options for runCli that preload test/harness/open-files-at-exit.ts: a file still open when the CLI exits is
 * named on its stderr.
 */
export const REPORT_OPEN_FILES = ['--import', fileURLToPath(new URL('./open-files-at-exit.js', import.meta.url))];

export function tempCacheDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'c8y-token-cache-')), 'cache');
}

/**
 * Runs the real bin/c8y-token as a user would; `child` is there to send it signals. Each run has its own empty token
 * cache unless options.env sets C8Y_TOKEN_CACHE_DIR (to share one) or removes it (to test the default location).
 */
export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> & { child: ChildProcess } {
  const base = baseEnv();
  const env: Record<string, string> = { ...base, C8Y_TOKEN_CACHE_DIR: join(base.HOME!, 'token-cache') };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  // spawn() forks synchronously: the child inherits the umask set here, and nothing else runs before it is restored.
  const umask = options.umask === undefined ? undefined : process.umask(options.umask);
  let child: ChildProcessWithoutNullStreams;
  try {
    // Its own process group, so that a hung run is killed with everything it started (exec's commands).
    child = spawn(process.execPath, [...(options.nodeOptions ?? []), BIN, ...args], {
      env,
      cwd: options.cwd,
      stdio: 'pipe',
      detached: true,
    });
  } finally {
    if (umask !== undefined) process.umask(umask);
  }
  const result = new Promise<RunResult>((resolvePromise, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    if (options.closeReader) child[options.closeReader].destroy();
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the whole group has exited meanwhile
      }
    }, options.killAfterMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      child.stdin.destroy();
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stdoutBytes: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    if (!options.holdStdin) child.stdin.end(options.input ?? '');
    else if (options.input !== undefined) child.stdin.write(options.input);
  });
  return Object.assign(result, { child });
}

/** Everything the stream has given so far, to wait for a child's output while it runs. */
export function collect(stream: NodeJS.ReadableStream): () => string {
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return () => text;
}

/** Polls until the condition holds; throws after `timeoutMs` so that a broken feature fails its test instead of hanging. */
export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${condition}`);
    await sleep(20);
  }
}

/** Environment pointing the CLI at a test broker through thin-edge's own overrides. */
export function brokerEnv(broker: { host: string; port: number }): Record<string, string> {
  return { TEDGE_MQTT_CLIENT_HOST: broker.host, TEDGE_MQTT_CLIENT_PORT: String(broker.port) };
}

/**
 * Runs the real bin/c8y-token on a pseudo-terminal (util-linux `script`), for what happens only when stdout or stderr
 * is a terminal. stdout and stderr arrive mixed in `output`, with the terminal's \r\n line ends.
 * Resolves undefined when `script` is not there to provide the terminal.
 */
export async function runCliInTerminal(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string } | undefined> {
  const command = [process.execPath, BIN, ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  return new Promise((resolvePromise) => {
    child.once('error', () => resolvePromise(undefined));
    child.once('close', (code) => resolvePromise({ code, output: Buffer.concat(output).toString('utf8') }));
  });
}

/**
 * The names in a token cache directory, leaving out Node's compile cache, which the CLI keeps there on Node 22 and
 * later (src/cli/compile-cache.ts).
 */
export async function cacheDirNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name !== 'compile-cache');
}
