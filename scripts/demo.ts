import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStandaloneDevice } from '../sim/standalone.ts';

/**
 * npm run demo: c8y-token at work without a thin-edge device. Starts a simulated device on loopback (MQTT broker,
 * cloud bridge, fake Cumulocity tenant), runs the real bin/c8y-token against it, showing each command and its output,
 * then stops everything. Exits 0 when every command succeeded.
 */

/** The repository root, from dist/scripts/ where the compiled script runs. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin', 'c8y-token');
const STEP_TIMEOUT_MS = 30_000;
const PAGE_SIZE = 5;

const STEPS: string[][] = [
  ['get'],
  ['decode'],
  ['curl', '/user/currentUser'],
  // The fake tenant holds 12 devices: pages of 5 show the pages being followed.
  ['curl', '--paginate', '--page-size', String(PAGE_SIZE), '/inventory/managedObjects'],
];

/** A JWT: three base64url parts, the first a JSON header (`{"` is `eyJ`). */
const JWT = /eyJ[\w-]*\.[\w-]+\.[\w-]+/g;

/** Even a demo credential is not printed whole: the habit is what matters. */
function shortenTokens(text: string): string {
  return text.replace(JWT, (token) => `${token.slice(0, 16)}…${token.slice(-6)}`);
}

interface StepResult {
  code: number | null;
  output: string;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<StepResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      // Whole outputs only: a token split across two chunks would escape shortening.
      resolvePromise({ code, output: Buffer.concat([...stdout, ...stderr]).toString('utf8') });
    });
  });
}

/** The user's environment minus anything that would point c8y-token elsewhere than the simulated device. */
function demoEnv(variables: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('TEDGE_') && !name.startsWith('C8Y_')) env[name] = value;
  }
  return { ...env, ...variables };
}

async function demo(): Promise<number> {
  let interrupted = false;
  // Ctrl-C reaches the running c8y-token too; the demo then stops its simulated device before exiting.
  process.on('SIGINT', () => {
    interrupted = true;
  });
  const standalone = await startStandaloneDevice('c8y-token-demo-');
  try {
    const { variables } = standalone;
    const env = demoEnv(variables);
    process.stdout.write(`${standalone.description.join('\n')}\n\n`);
    let lastOutput = '';
    for (const args of STEPS) {
      if (interrupted) return 130;
      process.stdout.write(`$ c8y-token ${args.join(' ')}\n`);
      const result = await run(args, env);
      lastOutput = result.output;
      // A body without a final newline (curl prints bodies as they come) would run into the next prompt.
      process.stdout.write(shortenTokens(result.output).replace(/(?<!\n)$/, '\n'));
      if (args[0] === 'get') process.stdout.write('(the token is shortened here; c8y-token get prints all of it)\n');
      if (result.code !== 0) {
        process.stdout.write(`\nc8y-token ${args[0]} failed with exit code ${result.code}: the demo stops here.\n`);
        return interrupted ? 130 : 1;
      }
      process.stdout.write('\n');
    }
    // Counted from what was printed: the tenant also sees the page after the last, asked for ahead of time.
    const items = lastOutput.match(/^\{"id"/gm)?.length ?? 0;
    const pages = Math.ceil(items / PAGE_SIZE);
    process.stdout.write(
      `The last command followed ${pages} pages of the tenant's collection (${items} items, ${PAGE_SIZE} a page) and printed the items as one JSON array.\n`,
    );
    return 0;
  } finally {
    await standalone.stop();
    process.stdout.write('Stopped the simulated device.\n');
  }
}

process.exitCode = await demo();
