import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort } from '../sim/broker.ts';
import { runCli, type RunResult } from './harness/cli.ts';
import { useCurlFixture } from './harness/fixture.ts';

const f = useCurlFixture();

/** Every regular file under `dir`, however deep. */
async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

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
