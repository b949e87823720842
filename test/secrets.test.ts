import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort } from '../sim/broker.ts';
import { baseEnv, BIN, ROOT, runCli, type RunResult } from './harness/cli.ts';
import { useCurlFixture } from './harness/fixture.ts';
import { filesUnder } from './harness/files.ts';

const f = useCurlFixture();

describe('the token stays secret', () => {
  test('in no stderr, no verbose output, no error message, and in no file but the 0600 cache entry', async () => {
    const home = await mkdtemp(join(tmpdir(), 'c8y-token-secret-home-'));
    const cwd = await mkdtemp(join(tmpdir(), 'c8y-token-secret-cwd-'));
    const temp = await mkdtemp(join(tmpdir(), 'c8y-token-secret-tmp-'));
    // The default cache location, in this HOME; TMPDIR is scanned too.
    const env = { ...f.env, HOME: home, TMPDIR: temp, C8Y_TOKEN_CACHE_DIR: undefined };
    const run = (args: string[]) => runCli(args, { env, cwd });
    const closed = `http://127.0.0.1:${await freePort()}`;

    // Runs that print the token on stdout, as asked.
    const printing: RunResult[] = [
      await run(['get', '--verbose']),
      await run(['get', '--format', 'header', '--no-cache', '--verbose']),
      await run(['env', '--verbose']),
      // A cached token too short-lived for --min-validity: a new one replaces it in the cache.
      await run(['get', '--min-validity', '2h', '--format', 'json', '--verbose']),
    ];
    // Runs that must not print it anywhere (successes, refusals and failures, with --verbose), side by side.
    f.tenant.route('GET', '/refuse', (_, response) => {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"security/Unauthorized"}');
    });
    const quiet: RunResult[] = await Promise.all([
      run(['decode', '--verbose']),
      run(['doctor', '--verbose']),
      run(['cache', 'status']),
      run(['exec', '--verbose', '--', 'sh', '-c', 'test -n "$C8Y_TOKEN" && echo set > exec.txt']),
      run(['curl', '-v', '/user/currentUser', '-o', 'me.json', '-w', '%{json}']),
      run(['curl', '-v', '-f', '/status/404']),
      run(['curl', '-v', '-f', '/refuse']),
      run(['curl', '-v', '-L', `/redirect?to=${encodeURIComponent('/user/currentUser')}`, '-o', 'r.json']),
      run(['curl', '-v', '/user/currentUser', '--url', closed]),
      run(['curl', '-v', '/never', '--max-time', '100ms']),
    ]);
    assert.equal((await readFile(join(cwd, 'exec.txt'), 'utf8')).trim(), 'set', 'exec handed the token over');
    assert.ok(f.bridge.issued.length >= 3, 'several tokens were issued');

    const secrets = f.bridge.issued.flatMap((token) => [token, token.split('.')[2]!]);
    const leaks = (text: string) => secrets.filter((secret) => text.includes(secret));
    for (const result of [...printing, ...quiet]) assert.deepEqual(leaks(result.stderr), [], result.stderr);
    for (const result of quiet) assert.deepEqual(leaks(result.stdout), [], result.stdout);
    for (const result of printing) assert.notDeepEqual(leaks(result.stdout), [], 'the token, where it was asked for');

    const holders: string[] = [];
    for (const file of [...(await filesUnder(home)), ...(await filesUnder(cwd)), ...(await filesUnder(temp))]) {
      if (leaks(await readFile(file, 'latin1')).length > 0) holders.push(file);
    }
    const cacheDir = join(home, '.cache', 'c8y-token');
    assert.equal(holders.length, 1, `files holding a token: ${holders.join(', ')}`);
    assert.match(holders[0]!, new RegExp(`^${cacheDir}/[0-9a-f]{16}\\.json$`));
    assert.equal((await stat(holders[0]!)).mode & 0o777, 0o600);
    assert.equal((await stat(cacheDir)).mode & 0o777, 0o700);
  });
});

/** Every process's command line, as any local user reads it in /proc, collected until `stop()`. */
function watchCommandLines(): { stop(): Promise<Set<string>> } {
  const seen = new Set<string>();
  let running = true;
  const scan = async () => {
    while (running) {
      const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
      await Promise.all(
        pids.map((pid) =>
          readFile(`/proc/${pid}/cmdline`, 'utf8').then(
            (line) => void seen.add(line.replaceAll('\0', ' ')),
            () => {},
          ),
        ),
      );
    }
  };
  const scanning = scan();
  return {
    async stop() {
      running = false;
      await scanning;
      return seen;
    },
  };
}

/** Runs a shell command line as a user would, with c8y-token on PATH. */
function sh(script: string, env: Record<string, string | undefined>): Promise<number | null> {
  const base = baseEnv();
  const child = spawn('sh', ['-c', script], {
    env: { ...base, ...env, PATH: `${dirname(BIN)}:${base.PATH}` },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve) => child.on('close', resolve));
}

const hasCurl = spawnSync('curl', ['--version']).status === 0;

describe('the token on no command line', () => {
  test('curl, exec, env and get | curl -H @-, as the docs show them: /proc/<pid>/cmdline never holds the token', {
    skip: hasCurl ? false : 'curl is not installed (apt-get install curl)',
  }, async () => {
    // Slow answers keep each curl running long enough to be seen.
    f.tenant.route('GET', '/slow', (_, response) => {
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 300);
    });
    const env = { ...f.env, C8Y_TOKEN_CACHE_DIR: join(await mkdtemp(join(tmpdir(), 'c8y-token-cmdline-')), 'c') };
    const watch = watchCommandLines();
    const codes = await Promise.all([
      sh('c8y-token curl -sf /slow', env),
      sh(`c8y-token exec -- sh -c 'printf "%s\\n" "$C8Y_HEADER" | curl -sf -H @- "$C8Y_URL/slow"'`, env),
      sh('eval "$(c8y-token env)"; printf "%s\\n" "$C8Y_HEADER" | curl -sf -H @- "$C8Y_URL/slow"', env),
      sh(`c8y-token get --format header | curl -sf -H @- "${f.tenant.url}/slow"`, env),
      sh(`c8y-token exec -- sh -c 'printf "%s" "$C8Y_TOKEN" | c8y-token decode'`, env),
    ]);
    const lines = [...(await watch.stop())];
    assert.deepEqual(codes, [0, 0, 0, 0, 0]);
    assert.ok(
      lines.some((line) => line.startsWith('curl -sf -H @- ')),
      'the scan saw the curl processes, which run while the tenant is slow',
    );
    const tokens = f.bridge.issued.map((token) => token.split('.')[2]!);
    assert.deepEqual(
      lines.filter((line) => tokens.some((token) => line.includes(token))),
      [],
    );
  });
});

test('no example in the README, docs/ or the man page (which holds every --help) puts the token on a command line', async () => {
  const docs = (await readdir(join(ROOT, 'docs'))).map((name) => join('docs', name));
  const files = ['README.md', 'CONTRIBUTING.md', 'dist/man/c8y-token.1', ...docs];
  // Where $C8Y_TOKEN or $C8Y_HEADER is expanded, it must be printf's argument (a shell builtin: no process, no
  // command line) feeding a pipe: `printf '%s\n' "$C8Y_HEADER" | curl -H @- …`.
  const expansion = /"?\$\{?C8Y_(TOKEN|HEADER)\b(?!_)\}?"?/g;
  const piped = /printf '[^']*' "\$C8Y_(TOKEN|HEADER)" \||printf "[^"]*" "\$C8Y_(TOKEN|HEADER)" \|/g;
  const offences: string[] = [];
  for (const file of files) {
    const lines = (await readFile(join(ROOT, file), 'utf8')).split('\n');
    // In Markdown, the examples are the fenced code blocks; prose may name the variables. The man page is all examples
    // and option text.
    let inExample = !file.endsWith('.md');
    for (const [index, line] of lines.entries()) {
      if (file.endsWith('.md') && line.startsWith('```')) inExample = !inExample;
      else if (inExample && line.replace(piped, '').match(expansion)) offences.push(`${file}:${index + 1}: ${line}`);
    }
  }
  assert.deepEqual(offences, []);
});
