import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { freePort } from '../sim/broker.ts';
import { useCurlFixture, useHttpsTenant } from './harness/fixture.ts';
import { sendJson, type Handler } from '../sim/tenant.ts';

const f = useCurlFixture();
beforeEach(() => f.tenant.reset());

/** Answers `failures` times with `status` (and the headers given), then 200. */
function flaky(path: string, failures: number, status: number, headers: Record<string, string> = {}): void {
  let calls = 0;
  const handler: Handler = (_, response) => {
    if (++calls > failures) return sendJson(response, 200, { calls });
    response.writeHead(status, headers).end();
  };
  f.tenant.route('GET', path, handler);
  f.tenant.route('POST', path, handler);
}

describe('c8y-token curl -L: redirects as curl follows them', () => {
  test('a POST answered by 303 continues as a GET without the body', async () => {
    const result = await f.curl(['-L', '/redirect?status=303&to=/user/currentUser', '-d', '{"a":1}']);
    assert.equal(result.code, 0, result.stderr);
    const [first, second] = f.tenant.requests;
    assert.equal(first!.method, 'POST');
    assert.equal(second!.method, 'GET');
    assert.equal(second!.body.length, 0);
    assert.equal(second!.headers['content-type'], undefined);
  });

  test('307 keeps the method and sends the body again; -X keeps the method on a 302', async () => {
    await f.curl(['-L', '/redirect?status=307&to=/inventory/managedObjects', '-d', '{"a":1}']);
    assert.deepEqual(
      f.tenant.requests.map((r) => [r.method, r.body.toString()]),
      [
        ['POST', '{"a":1}'],
        ['POST', '{"a":1}'],
      ],
    );
    f.tenant.reset();
    await f.curl(['-L', '-X', 'PUT', '/redirect?status=302&to=/inventory/managedObjects/1', '-d', '{"b":2}']);
    assert.deepEqual(
      f.tenant.requests.map((r) => [r.method, r.body.toString()]),
      [
        ['PUT', '{"b":2}'],
        ['PUT', '{"b":2}'],
      ],
    );
  });

  test('a redirect loop ends after 50 redirects: exit 47', async () => {
    f.tenant.route('GET', '/loop', (_, response) => {
      response.writeHead(302, { location: '/loop' }).end();
    });
    const result = await f.curl(['-L', '/loop']);
    assert.equal(result.code, 47, result.stderr);
    assert.match(result.stderr, /more than 50 redirects/);
    assert.equal(f.tenant.requests.length, 51);
  });
});

describe('c8y-token curl --retry', () => {
  test('503 twice, then 200: retried with warnings, and -w counts the retries', async () => {
    flaky('/flaky', 2, 503);
    const result = await f.curl(['/flaky', '--retry', '3', '--retry-delay', '10ms', '-w', ' %{num_retries}']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '{"calls":3} 2');
    assert.equal(f.tenant.requests.length, 3);
    assert.match(result.stderr, /warning: HTTP 503 from GET \/flaky; retrying in 10ms \(3 retries left\)/);
    assert.match(result.stderr, /retrying in 10ms \(2 retries left\)/);
  });

  test('408, 429, 500, 502 and 504 are retried too', async () => {
    const statuses = [408, 429, 500, 502, 504];
    for (const status of statuses) flaky(`/flaky/${status}`, 1, status);
    const results = await Promise.all(
      statuses.map((status) => f.curl([`/flaky/${status}`, '--retry', '1', '--retry-delay', '10ms', '-s'])),
    );
    for (const [index, result] of results.entries()) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '', '-s hides the warning');
      assert.equal(f.tenant.requests.filter((r) => r.url === `/flaky/${statuses[index]}`).length, 2);
    }
  });

  test('other statuses (404, 501) and no --retry are not retried; the last answer is printed', async () => {
    flaky('/flaky', 1, 501);
    const result = await f.curl(['/flaky', '--retry', '2', '--retry-delay', '10ms', '-w', '%{http_code}']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, '501');
    assert.equal(f.tenant.requests.length, 1);
    const plain = await f.curl(['/status/503', '-w', '%{http_code}', '-o', '/dev/null']);
    assert.equal(plain.stdout, '503');
    assert.equal(f.tenant.requests.length, 2);
  });

  test('retries give up after N; with -f the last status exits 22', async () => {
    const result = await f.curl(['/status/503', '--retry', '2', '--retry-delay', '10ms', '-f']);
    assert.equal(result.code, 22);
    assert.equal(f.tenant.requests.length, 3);
  });

  test('Retry-After is honoured over --retry-delay', async () => {
    flaky('/flaky', 1, 429, { 'retry-after': '1' });
    const result = await f.curl(['/flaky', '--retry', '1', '--retry-delay', '10ms']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /HTTP 429 from GET \/flaky; retrying in 1s/);
    assert.equal(f.tenant.requests.length, 2);
  });

  test('a retried POST sends its body again, the file read again', async () => {
    flaky('/flaky', 1, 502);
    const file = join(await mkdtemp(join(tmpdir(), 'c8y-token-')), 'm.json');
    await writeFile(file, '{"c8y_Temperature":{"T":{"value":21}}}');
    const result = await f.curl(['/flaky', '--retry', '1', '--retry-delay', '10ms', '--data-binary', `@${file}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      f.tenant.requests.map((r) => r.body.toString()),
      Array(2).fill('{"c8y_Temperature":{"T":{"value":21}}}'),
    );
  });

  test('--retry-connrefused retries a refused connection; without it none is retried', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const args = ['/text', '--url', url, '--retry', '2', '--retry-delay', '10ms'];
    const retried = await f.curl([...args, '--retry-connrefused']);
    assert.equal(retried.code, 7, retried.stderr);
    assert.equal(retried.stderr.match(/could not connect .*; retrying in 10ms/g)?.length, 2, retried.stderr);
    const once = await f.curl(args);
    assert.equal(once.code, 7, once.stderr);
    assert.doesNotMatch(once.stderr, /retrying/);
  });

  test('a timeout is retried', async () => {
    const result = await f.curl(['/never', '--max-time', '200ms', '--retry', '1', '--retry-delay', '10ms']);
    assert.equal(result.code, 28);
    assert.equal(f.tenant.requests.length, 2);
    assert.match(result.stderr, /retrying in 10ms \(1 retry left\)/);
  });
});

describe('c8y-token curl: exit codes for failed transfers', () => {
  test('--max-time: exit 28, and -w still reports', async () => {
    const result = await f.curl(['/never', '--max-time', '200ms', '-w', '%{exitcode} %{http_code}']);
    assert.equal(result.code, 28);
    assert.equal(result.stdout, '28 000');
    assert.match(result.stderr, /the request took longer than --max-time 200ms/);
  });

  test('--max-time also bounds reading the body', async () => {
    f.tenant.route('GET', '/trickle', (_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('[');
    });
    const result = await f.curl(['/trickle', '--max-time', '300ms']);
    assert.equal(result.code, 28);
  });

  test('--connect-timeout: a server that never completes the TLS handshake, exit 28', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const result = await f.curl([
        '/user/currentUser',
        '--url',
        url,
        '--connect-timeout',
        '200ms',
        '-w',
        '%{exitcode}',
      ]);
      assert.equal(result.code, 28);
      assert.equal(result.stdout, '28');
      assert.match(result.stderr, /timed out connecting to 127\.0\.0\.1/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('SIGINT while waiting for the tenant: exit 130 at once', async () => {
    const run = f.curl(['/never'], { killAfterMs: 10_000 });
    while (f.tenant.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    run.child.kill('SIGINT');
    const result = await run;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /interrupted by SIGINT/);
  });

  test('nothing listening: exit 7', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await f.curl(['/user/currentUser', '--url', url, '-w', '%{exitcode} %{errormsg}']);
    assert.equal(result.code, 7);
    assert.match(result.stdout, /^7 could not connect to 127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  test('a host that cannot be resolved: exit 6', async () => {
    // A label longer than DNS allows (63 bytes) fails inside the resolver library: no query leaves the machine.
    const host = `${'a'.repeat(64)}.invalid`;
    const result = await f.curl(['/user/currentUser', '--url', `http://${host}`, '-s']);
    assert.equal(result.code, 6);
    const shown = await f.curl(['/user/currentUser', '--url', `http://${host}`, '-sS']);
    assert.match(shown.stderr, new RegExp(`could not resolve host ${host}`));
  });

  test('a host or proxy name that does not resolve is retried under --retry, as curl does', async () => {
    const host = `${'a'.repeat(64)}.invalid`;
    const retry = ['--retry', '2', '--retry-delay', '10ms', '-w', '%{num_retries}'];
    const direct = await f.curl(['/user/currentUser', '--url', `http://${host}`, ...retry]);
    assert.equal(direct.code, 6, direct.stderr);
    assert.equal(direct.stdout, '2', direct.stderr);
    assert.match(direct.stderr, /warning: could not resolve host a+\.invalid; retrying in 10ms \(2 retries left\)/);
    const proxied = await f.curl(['/user/currentUser', '-x', `http://${host}:3128`, ...retry]);
    assert.equal(proxied.code, 5, proxied.stderr);
    assert.equal(proxied.stdout, '2');
    assert.equal(f.tenant.requests.length, 0);
  });
});

describe('c8y-token curl over HTTPS', () => {
  const https = useHttpsTenant();

  test('a certificate not trusted: exit 60, with a hint', async () => {
    const result = await f.curl(['/user/currentUser', '--url', https.tenant.url]);
    assert.equal(result.code, 60);
    assert.match(result.stderr, /the certificate of 127\.0\.0\.1:\d+ is not trusted/);
    assert.match(result.stderr, /--cacert/);
    assert.equal(https.tenant.requests.length, 0);
  });

  test('--cacert trusts it', async () => {
    const result = await f.curl(['/user/currentUser', '--url', https.tenant.url, '--cacert', https.certFile]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(https.tenant.requests.at(-1)!.headers.authorization!, /^Bearer /);
  });

  test('-k skips the check', async () => {
    const result = await f.curl(['/user/currentUser', '--url', https.tenant.url, '-k']);
    assert.equal(result.code, 0, result.stderr);
  });

  test("an unreadable --cacert is curl's 77", async () => {
    const result = await f.curl(['/user/currentUser', '--url', https.tenant.url, '--cacert', '/nonexistent/ca.pem']);
    assert.equal(result.code, 77);
    assert.match(result.stderr, /cannot read the CA file \/nonexistent\/ca\.pem: no such file/);
  });

  test('https to a server that speaks plain HTTP: exit 35', async () => {
    const result = await f.curl(['/user/currentUser', '--url', f.tenant.url.replace('http:', 'https:')]);
    assert.equal(result.code, 35);
    assert.match(result.stderr, /TLS handshake with 127\.0\.0\.1:\d+ failed/);
  });
});
