import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A command line to measure; `env` replaces the environment when given. */
export interface Command {
  label: string;
  argv: string[];
  env?: NodeJS.ProcessEnv | undefined;
}

export interface Sample {
  ms: number;
  /** Peak resident set size in KiB, when measured. */
  rssKiB?: number | undefined;
}

/** GNU time reports a child's peak RSS (getrusage's ru_maxrss), which Node's own APIs do not give for a child. */
export const GNU_TIME = '/usr/bin/time';

export function findCommand(name: string): string | undefined {
  if (name.includes('/')) return executable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the command to its end and returns the wall-clock time from spawn to exit. Asynchronous on purpose: the
 * simulated bridge and tenant run in this process and must answer while the command waits. With `rss`, the command
 * runs under GNU time, whose own start-up is then part of the time: measure time and memory in separate runs when
 * the command is short.
 */
export function run(command: Command, rss = false): Promise<Sample> {
  const [file, ...args] = rss ? [GNU_TIME, '-f', '%M', ...command.argv] : command.argv;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file!, args, { env: command.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) {
        reject(new Error(`${command.label}: exit code ${code}\n${stderr}`));
        return;
      }
      const lines = stderr.trim().split('\n');
      resolve({ ms, rssKiB: rss ? Number(lines.at(-1)) : undefined });
    });
  });
}

/**
 * Runs the commands `runs` times each, interleaved (A B, then B A, ...) so that a machine growing busier or quieter
 * weighs on all of them alike; returns each command's samples.
 */
export async function alternate(commands: Command[], runs: number, rss = false): Promise<Sample[][]> {
  const samples: Sample[][] = commands.map(() => []);
  for (let i = 0; i < runs; i++) {
    const order = commands.map((_, index) => index);
    if (i % 2 === 1) order.reverse();
    for (const index of order) samples[index]!.push(await run(commands[index]!, rss));
  }
  return samples;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
