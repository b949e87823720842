import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startBridge } from '../sim/bridge.ts';
import { tempCacheDir } from './harness/cli.ts';
import { useCurlFixture } from './harness/fixture.ts';
import { refuseFirstToken, startTenant, type Tenant } from '../sim/tenant.ts';

const f = useCurlFixture();
let elsewhere: Tenant;

before(async () => {
  elsewhere = await startTenant();
});
after(() => elsewhere.stop());
beforeEach(() => {
  f.tenant.reset();
  elsewhere.reset();
  elsewhere.authorize = () => true;
});

const bearers = () => f.tenant.requests.map((request) => request.headers.authorization);

describe('c8y-token curl: a refused token (401)', () => {
  test('one fresh token is fetched, never the refused one, and the request is sent again', async () => {
    refuseFirstToken(f.tenant);
    const before = f.bridge.requests;
    const result = await f.curl(['/user/currentUser', '-v']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"userName":"device_rpi4-d83add90fe56"/);
    assert.equal(f.bridge.requests - before, 2, 'the first token, then exactly one fresh one');
    const [first, second] = bearers();
    assert.equal(f.tenant.requests.length, 2);
    assert.notEqual(first, second);
    assert.equal(second, `Bearer ${f.bridge.issued.at(-1)}`);
    assert.match(result.stderr, /401: the tenant refused the token; fetching a fresh one/);
  });

  test('the refused token is not taken again when the cloud sends it once more', async () => {
    refuseFirstToken(f.tenant);
    const bridge = await startBridge(f.broker, {
      topicPrefix: 'resend',
      resendPrevious: true,
      token: { claims: { iss: f.tenant.url } },
    });
    try {
      const result = await f.curl(['/user/currentUser', '--topic-prefix', 'resend']);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        bearers(),
        bridge.issued.map((token) => `Bearer ${token}`),
      );
      assert.match(result.stdout, /device_rpi4/);
    } finally {
      await bridge.stop();
    }
  });

  test('the body is sent again: a file is read again', async () => {
    refuseFirstToken(f.tenant);
    const file = join(await mkdtemp(join(tmpdir(), 'c8y-token-')), 'event.json');
    await writeFile(file, '{"type":"c8y_Test","text":"hello"}');
    const result = await f.curl(['/event/events', '--data-binary', `@${file}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(f.tenant.requests.length, 2);
    for (const request of f.tenant.requests) {
      assert.equal(request.method, 'POST');
      assert.equal(request.body.toString(), '{"type":"c8y_Test","text":"hello"}');
    }
  });

  test('a small body from stdin is kept and sent again', async () => {
    refuseFirstToken(f.tenant);
    const result = await f.curl(['/event/events', '--json', '@-'], { input: '{"text":"from stdin"}' });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      f.tenant.requests.map((r) => r.body.toString()),
      ['{"text":"from stdin"}', '{"text":"from stdin"}'],
    );
  });

  test('a body from stdin above the replay limit is not sent again: the 401 is reported', async () => {
    refuseFirstToken(f.tenant);
    const before = f.bridge.requests;
    const big = Buffer.alloc(1024 * 1024 + 10, 'a');
    const result = await f.curl(['/event/events', '--data-binary', '@-', '-f', '-v'], { input: big });
    assert.equal(result.code, 22, result.stderr);
    assert.match(result.stderr, /HTTP 401 Unauthorized/);
    assert.match(result.stderr, /cannot be sent again/);
    assert.equal(f.tenant.requests.length, 1);
    assert.equal(f.tenant.requests[0]!.body.length, big.length, 'the whole body went out once');
    assert.equal(f.bridge.requests - before, 1, 'no fresh token');
  });

  test('a fresh token refused as well: 401 reported after one retry (exit 0, or 22 with -f)', async () => {
    f.tenant.authorize = () => false;
    const before = f.bridge.requests;
    const plain = await f.curl(['/user/currentUser']);
    assert.equal(plain.code, 0);
    assert.equal(JSON.parse(plain.stdout).error, 'security/Unauthorized');
    assert.equal(f.bridge.requests - before, 2);
    assert.equal(f.tenant.requests.length, 2);
    const failing = await f.curl(['-f', '/user/currentUser']);
    assert.equal(failing.code, 22);
    assert.match(
      failing.stderr,
      /HTTP 401 Unauthorized from GET \/user\/currentUser: security\/Unauthorized: Invalid credentials/,
    );
    assert.match(failing.stderr, /is the device still registered/);
  });

  test('the bridge gives back the very token refused: the 401 stands at once (exit 0 with the body, 22 with -f)', async () => {
    f.tenant.authorize = () => false;
    const bridge = await startBridge(f.broker, {
      topicPrefix: 'same',
      repeatFirst: true,
      token: { claims: { iss: f.tenant.url } },
    });
    try {
      // A wait for another token would outlast the run: it is killed long before --timeout.
      const cache = { C8Y_TOKEN_CACHE_DIR: tempCacheDir() };
      const run = (...args: string[]) =>
        f.curl(['/user/currentUser', '--topic-prefix', 'same', '--timeout', '120', ...args], {
          killAfterMs: 30_000,
          env: cache,
        });
      const plain = await run();
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(JSON.parse(plain.stdout).error, 'security/Unauthorized');
      assert.equal(
        plain.stderr,
        'c8y-token: the tenant refused the device token, and the bridge gave the same one back\n',
      );
      assert.equal(f.tenant.requests.length, 1, 'not sent again with the same token');
      assert.equal(bridge.requests, 2, 'the first token, then one fresh one asked for');
      const failing = await run('-f');
      assert.equal(failing.code, 22, failing.stderr);
      assert.equal(bridge.requests, 4, 'the refused token was not cached again: the next run asks afresh');
      assert.match(failing.stderr, /the bridge gave the same one back\n.*HTTP 401 Unauthorized from GET/s);
    } finally {
      await bridge.stop();
    }
  });

  test('a user-given Authorization header is not replaced by fresh tokens', async () => {
    f.tenant.authorize = () => false;
    const before = f.bridge.requests;
    const result = await f.curl(['/user/currentUser', '-H', 'Authorization: Bearer mine']);
    assert.equal(result.code, 0);
    assert.equal(f.tenant.requests.length, 1);
    assert.equal(f.tenant.requests[0]!.headers.authorization, 'Bearer mine');
    assert.equal(f.bridge.requests - before, 1);
  });
});

describe('c8y-token curl: the token goes to the tenant only', () => {
  test('an absolute URL on the tenant is accepted', async () => {
    const result = await f.curl([`${f.tenant.url}/user/currentUser`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(f.tenant.requests.length, 1);
  });

  test('an absolute URL on another origin is refused: exit 2, nothing sent anywhere', async () => {
    for (const url of [
      `${elsewhere.url}/user/currentUser`,
      `${f.tenant.url.replace('http:', 'https:')}/user/currentUser`,
    ]) {
      const result = await f.curl([url]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /refusing to send the token to/);
    }
    assert.equal(elsewhere.requests.length, 0);
    assert.equal(f.tenant.requests.length, 0);
  });

  test('-L to another origin: followed without the Authorization header', async () => {
    const to = `${elsewhere.url}/user/currentUser`;
    const result = await f.curl([
      '-L',
      `/redirect?to=${encodeURIComponent(to)}`,
      '-H',
      'X-Kept: yes',
      '-w',
      '%{num_redirects} %{url_effective}',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(f.tenant.requests[0]!.headers.authorization!, /^Bearer /);
    assert.equal(elsewhere.requests.length, 1);
    assert.equal(elsewhere.requests[0]!.headers.authorization, undefined);
    assert.equal(elsewhere.requests[0]!.headers['x-kept'], 'yes');
    assert.match(result.stdout, new RegExp(`1 ${to}$`));
  });

  test('-L to another origin drops a user-given Authorization header too', async () => {
    f.tenant.authorize = () => true;
    const to = `${elsewhere.url}/x`;
    await f.curl(['-L', `/redirect?to=${encodeURIComponent(to)}`, '-H', 'Authorization: Basic c2VjcmV0']);
    assert.equal(f.tenant.requests[0]!.headers.authorization, 'Basic c2VjcmV0');
    assert.equal(elsewhere.requests[0]!.headers.authorization, undefined);
  });

  test('-L on the same origin keeps the token', async () => {
    const result = await f.curl(['-L', '/redirect?to=/user/currentUser&status=301']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(bearers(), [`Bearer ${f.bridge.issued.at(-1)}`, `Bearer ${f.bridge.issued.at(-1)}`]);
    assert.match(result.stdout, /device_rpi4/);
  });

  test('without -L a redirect is printed, not followed', async () => {
    const result = await f.curl(['-i', `/redirect?to=${encodeURIComponent(`${elsewhere.url}/x`)}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^HTTP\/1\.1 302 Found\r\n/);
    assert.equal(elsewhere.requests.length, 0);
  });
});

describe('c8y-token curl: paths that make Cumulocity revoke a device token are refused', () => {
  test('/apps/... and *.js: exit 2, no token asked for, nothing sent', async () => {
    const paths = [
      '/apps/cockpit/',
      '/apps',
      '/APPS/devicemanagement/index.html',
      '/%61pps/x',
      '//apps/x',
      '/static/main.js',
      '/x/app.JS?v=1',
    ];
    const before = f.bridge.requests;
    const results = await Promise.all(paths.map((path) => f.curl([path])));
    for (const [index, result] of results.entries()) {
      assert.equal(result.code, 2, `${paths[index]}: ${result.stderr}`);
      assert.match(result.stderr, /refusing to request .*: Cumulocity revokes a device token/);
    }
    assert.equal(f.tenant.requests.length, 0);
    assert.equal(f.bridge.requests, before);
  });

  test('an absolute URL to a refused path on the tenant', async () => {
    const result = await f.curl([`${f.tenant.url}/apps/administration/`]);
    assert.equal(result.code, 2);
    assert.equal(f.tenant.requests.length, 0);
  });

  test('a redirect to a refused path is not followed', async () => {
    const result = await f.curl(['-L', '/redirect?to=/apps/cockpit/']);
    assert.equal(result.code, 2);
    assert.equal(f.tenant.requests.length, 1, 'only the redirecting request');
  });
});
