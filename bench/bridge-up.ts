import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Bridge } from '../sim/bridge.ts';

/**
 * How long `get --no-cache` takes, once the bridge reports up after being down, to print the token: the request must
 * go out the moment the bridge is back, not at the next republish. Milliseconds per run, from just before the bridge
 * publishes `{"status":"up"}` to the token on stdout.
 */
export async function bridgeUpToToken(
  bin: string,
  env: NodeJS.ProcessEnv,
  bridge: Bridge,
  runs: number,
): Promise<number[]> {
  const samples: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      await bridge.report('down');
      samples.push(await oneRun(bin, env, bridge));
    }
  } finally {
    await bridge.report('');
    bridge.options.silent = false;
  }
  return samples;
}

async function oneRun(bin: string, env: NodeJS.ProcessEnv, bridge: Bridge): Promise<number> {
  const child = spawn(process.execPath, [bin, 'get', '--no-cache', '--verbose', '--timeout', '30'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  let upAt = 0;
  const printed = new Promise<number>((resolve) => child.stdout.once('data', () => resolve(performance.now() - upAt)));
  let stderr = '';
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.includes('not asking for a token until the cloud bridge reports up')) resolve();
    });
  });
  upAt = performance.now();
  await bridge.report('up');
  const ms = await printed;
  const code = await exited;
  if (code !== 0) throw new Error(`c8y-token get exited with ${code}: ${stderr}`);
  return ms;
}
