import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { RecordedRequest, Tenant } from '../../sim/tenant.ts';
import { REPORT_OPEN_FILES, runCli } from './cli.ts';
import { filesUnder } from './files.ts';

/** Debian's curl, the reference the differential suite compares `c8y-token curl` with. */
export const CURL = '/usr/bin/curl';
export const curlMissing = existsSync(CURL) ? false : `${CURL} is not installed (Debian package curl)`;

/**
 * One command line, given to the real curl (with the tenant's URL last and the token in `-H @file`) and to
 * `c8y-token curl` (with the path first), in a fresh working directory each.
 */
export interface DiffCase {
  name: string;
  /** The path on the tenant, query string included. */
  path: string;
  args: string[];
  /**
   * c8y-token's arguments where they must differ from curl's (a deliberate difference: say why in `differs`).
   * In both, `{tenant}` stands for the tenant's URL; curl gets the tenant's URL plus `path` last unless its
   * arguments name `{tenant}`.
   */
  ours?: string[];
  /** Written into each run's working directory first. */
  files?: Record<string, string | Buffer>;
  input?: string | Buffer;
  /** Request headers compared besides those the case names with -H (lower-case). */
  headers?: string[];
  /** The real curl gets no token (the case sends its own Authorization, or none). */
  noToken?: boolean;
  /** Environment variables for both runs (proxies, CA locations). */
  env?: Record<string, string>;
  /** 'closed': both are pointed at a port where nothing listens. */
  tenant?: 'closed';
  /** Replaces what may differ between two runs and is no difference (timings, boundaries). */
  normalise?: (text: string) => string;
  /** A deliberate difference: why, and what c8y-token gives instead (derived from curl's outcome). */
  differs?: { reason: string; expect: (curl: Outcome) => Outcome };
}

/** What a run is compared on. */
export interface Outcome {
  code: number | null;
  stdout: string;
  stderrEmpty: boolean;
  /** The working directory's files after the run (-o, -D, --create-dirs), by relative path. */
  files: Record<string, string>;
  requests: Seen[];
}

export interface Seen {
  method: string;
  url: string;
  body: string;
  headers: Record<string, string | undefined>;
}

export interface Lane {
  tenant: Tenant;
  /** Forgets what the lane's routes remember between requests (retry counters). */
  reset(): void;
}

export interface DiffContext {
  /** Environment for c8y-token: broker, shared token cache. */
  env: Record<string, string>;
  /** A file holding `Authorization: Bearer <a test token>`, for the real curl's `-H @file`. */
  tokenFile: string;
  closedUrl: string;
}

const TOKEN = /Bearer [\w-]+\.[\w-]+\.[\w-]+/g;
const BOUNDARY = /-{24}[0-9a-zA-Z]{16}/g;

/** The same case through the real curl and through c8y-token, on the same lane; returns curl's and ours. */
export async function runBoth(c: DiffCase, lane: Lane, context: DiffContext): Promise<[Outcome, Outcome]> {
  const base = c.tenant === 'closed' ? context.closedUrl : lane.tenant.url;
  const named = c.args.some((arg) => arg.includes('{tenant}'));
  const curlArgs = [
    ...(c.noToken ? [] : ['-H', `@${context.tokenFile}`]),
    ...c.args,
    ...(named ? [] : [`${base}${c.path}`]),
  ].map((arg) => arg.replaceAll('{tenant}', base));
  const ourArgs = (c.ours ?? c.args).map((arg) => arg.replaceAll('{tenant}', base));
  const theirs = await inDirectory(c, lane, (cwd) => spawnCurl(curlArgs, cwd, c.input, c.env));
  const ours = await inDirectory(c, lane, (cwd) =>
    runCli(['curl', c.path, ...ourArgs], {
      cwd,
      input: c.input,
      env: { ...context.env, C8Y_URL: base, ...c.env },
      killAfterMs: 20_000,
      // A file left open would be reported by Node only when a garbage collection happens to come first.
      nodeOptions: REPORT_OPEN_FILES,
    }).then((result) => ({ code: result.code, stdout: result.stdoutBytes, stderr: result.stderr })),
  );
  return [theirs, ours];
}

async function inDirectory(
  c: DiffCase,
  lane: Lane,
  run: (cwd: string) => Promise<{ code: number | null; stdout: Buffer; stderr: string }>,
): Promise<Outcome> {
  const cwd = await mkdtemp(join(tmpdir(), 'c8y-token-diff-'));
  try {
    for (const [name, content] of Object.entries(c.files ?? {})) await writeFile(join(cwd, name), content);
    lane.tenant.requests.length = 0;
    lane.reset();
    const result = await run(cwd);
    const normalise = (text: string) => (c.normalise ?? ((t) => t))(text.replace(/^Date: .*\r\n/gim, ''));
    const files: Record<string, string> = {};
    for (const file of await filesUnder(cwd)) files[relative(cwd, file)] = normalise(await readFile(file, 'latin1'));
    return {
      code: result.code,
      stdout: normalise(result.stdout.toString('latin1')),
      stderrEmpty: result.stderr === '',
      files,
      requests: lane.tenant.requests.map((request) => seen(request, c, normalise)),
    };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

function seen(request: RecordedRequest, c: DiffCase, normalise: (text: string) => string): Seen {
  const args = [...c.args, ...(c.ours ?? [])];
  const named = args.flatMap((arg, n) => (args[n - 1] === '-H' ? [/^[^:;]*/.exec(arg)![0].trim().toLowerCase()] : []));
  const headers: Record<string, string | undefined> = {};
  for (const name of new Set(['authorization', 'content-type', ...named, ...(c.headers ?? [])])) {
    const value = headerValue(request.headers, name);
    if (value !== undefined) headers[name] = value.replace(TOKEN, 'Bearer <token>').replace(BOUNDARY, '<boundary>');
  }
  return {
    method: request.method,
    url: request.url,
    body: normalise(request.body.toString('latin1').replace(BOUNDARY, '<boundary>')),
    headers,
  };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function spawnCurl(
  args: string[],
  cwd: string,
  input: string | Buffer | undefined,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  // No ~/.curlrc, no proxy variables but the case's.
  const child = spawn(CURL, args, {
    cwd,
    env: { PATH: '/usr/bin:/bin', HOME: cwd, LANG: 'C.UTF-8', ...env },
    stdio: 'pipe',
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => {});
  child.stdin.end(input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ code, stdout: Buffer.concat(stdout), stderr: withoutMeter(Buffer.concat(stderr).toString('utf8')) }),
    );
  });
}

/**
 * curl draws its progress meter on stderr even when that is no terminal; c8y-token only on a terminal (a
 * deliberate difference: a log or a pipe gets no meter), so the meter is not compared.
 */
function withoutMeter(stderr: string): string {
  return stderr.replace(/ {2}% Total[^\n]*\n[^\n]*Dload[^\n]*\n[^\n]*(\n|$)/, '');
}

/** The URL of a loopback port where nothing listens (a port just freed). */
export async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
