import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type C8yTokenError, createC8yFetch, tokenSource, type C8yFetchOptions } from '../src/index.ts';
import { refuseFirstToken, startTenant, type Tenant } from '../sim/tenant.ts';
import { ROOT, brokerEnv, waitFor } from './harness/cli.ts';
import { useCurlFixture, useHttpsTenant } from './harness/fixture.ts';

const run = promisify(execFile);
const f = useCurlFixture();
const scratch = mkdtempSync(join(tmpdir(), 'c8y-token-library-'));
let cacheRuns = 0;
let elsewhere: Tenant;

/** The library's environment: the simulated device, an empty thin-edge directory, a token cache of its own. */
function env(): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/bin:/bin',
    TEDGE_CONFIG_DIR: scratch,
    C8Y_TOKEN_CACHE_DIR: join(scratch, `cache-${++cacheRuns}`),
    // The simulated tenant is plain HTTP on loopback: a token naming it is taken only when the URL is set explicitly.
    C8Y_URL: f.tenant.url,
    ...brokerEnv(f.broker),
  };
}

const options = (): C8yFetchOptions => ({ env: env(), timeoutMs: 5000 });
const authorizations = (tenant: Tenant) => tenant.requests.map((request) => request.headers.authorization);

before(async () => {
  elsewhere = await startTenant();
});
after(async () => {
  await elsewhere.stop();
  rmSync(scratch, { recursive: true, force: true });
});
beforeEach(() => {
  f.tenant.reset();
  elsewhere.reset();
  f.bridge.options.token = { claims: { iss: f.tenant.url } };
});

describe('createC8yFetch', () => {
  test('sends a path on the tenant with the device token and Accept: application/json', async () => {
    const c8y = createC8yFetch(options());
    try {
      const response = await c8y('/user/currentUser');
      assert.equal(response.status, 200);
      assert.equal(response.url, `${f.tenant.url}/user/currentUser`);
      assert.equal(((await response.json()) as { userName: string }).userName, 'device_rpi4-d83add90fe56');
      const [request] = f.tenant.requests;
      assert.equal(request!.headers.authorization, `Bearer ${f.bridge.issued.at(-1)}`);
      assert.equal(request!.headers.accept, 'application/json');
    } finally {
      await c8y.close();
    }
  });

  test('an HTTP error status resolves, as with fetch', async () => {
    const c8y = createC8yFetch(options());
    try {
      const response = await c8y('/status/404');
      assert.equal(response.status, 404);
      assert.equal(((await response.json()) as { error: string }).error, 'test/Status 404');
    } finally {
      await c8y.close();
    }
  });

  test('a 401 gets one fresh token and the request once more, its text body included', async () => {
    refuseFirstToken(f.tenant);
    const c8y = createC8yFetch(options());
    const asked = f.bridge.requests;
    try {
      const response = await c8y('/event/events', { method: 'POST', body: '{"type":"c8y_Test"}' });
      await response.body?.cancel();
      assert.equal(f.bridge.requests - asked, 2, 'the first token, then one fresh one');
      const [first, second] = authorizations(f.tenant);
      assert.notEqual(first, second);
      assert.equal(second, `Bearer ${f.bridge.issued.at(-1)}`);
      for (const request of f.tenant.requests) {
        assert.equal(request.body.toString(), '{"type":"c8y_Test"}');
        assert.equal(request.headers['content-type'], 'application/json');
      }
    } finally {
      await c8y.close();
    }
  });

  test('a stream body is replayed after a 401', async () => {
    refuseFirstToken(f.tenant);
    const c8y = createC8yFetch(options());
    async function* chunks() {
      yield Buffer.from('{"text":');
      yield Buffer.from('"streamed"}');
    }
    try {
      const response = await c8y('/event/events', { method: 'POST', body: chunks() });
      await response.body?.cancel();
      assert.deepEqual(
        f.tenant.requests.map((request) => request.body.toString()),
        ['{"text":"streamed"}', '{"text":"streamed"}'],
      );
    } finally {
      await c8y.close();
    }
  });

  test('a token the tenant refuses twice: one refresh only, and the 401 resolves', async () => {
    f.tenant.authorize = () => false;
    const c8y = createC8yFetch(options());
    try {
      const response = await c8y('/user/currentUser');
      assert.equal(response.status, 401);
      assert.equal(f.tenant.requests.length, 2);
    } finally {
      await c8y.close();
    }
  });

  test('the token goes to the tenant only: another origin is refused, a redirect there goes without it', async () => {
    const c8y = createC8yFetch(options());
    try {
      await assert.rejects(c8y(`${elsewhere.url}/user/currentUser`), (error: C8yTokenError) => {
        assert.equal(error.kind, 'usage');
        return true;
      });
      assert.equal(elsewhere.requests.length, 0);
      elsewhere.authorize = () => true;
      const to = encodeURIComponent(`${elsewhere.url}/user/currentUser`);
      const response = await c8y(`/redirect?to=${to}&status=302`);
      assert.equal(response.status, 200);
      assert.equal(response.url, `${elsewhere.url}/user/currentUser`);
      assert.deepEqual(authorizations(elsewhere), [undefined]);
      assert.match(f.tenant.requests[0]!.headers.authorization!, /^Bearer /);
    } finally {
      await c8y.close();
    }
  });

  test('paths under /apps/ are refused before anything is sent', async () => {
    const c8y = createC8yFetch(options());
    try {
      await assert.rejects(c8y('/apps/cockpit/'), /Cumulocity revokes a device token/);
      assert.equal(f.tenant.requests.length, 0);
    } finally {
      await c8y.close();
    }
  });

  test("an AbortSignal ends the request with the signal's reason", async () => {
    const c8y = createC8yFetch(options());
    try {
      const controller = new AbortController();
      const pending = c8y('/never', { signal: controller.signal });
      await waitFor(() => f.tenant.requests.length === 1);
      controller.abort(new Error('stopped by the test'));
      await assert.rejects(pending, /stopped by the test/);
      await assert.rejects(c8y('/user/currentUser', { signal: AbortSignal.abort(new Error('already')) }), /already/);
      assert.equal(f.tenant.requests.length, 1, 'an aborted signal sends nothing');
    } finally {
      await c8y.close();
    }
  });

  test('paginate yields every item of a collection, page after page', async () => {
    const c8y = createC8yFetch(options());
    try {
      const ids: string[] = [];
      for await (const item of c8y.paginate('/inventory/managedObjects', { pageSize: 5 })) {
        ids.push((item as { id: string }).id);
      }
      assert.deepEqual(
        ids,
        Array.from({ length: 12 }, (_, n) => String(n + 1)),
      );
      assert.equal(f.tenant.requests.length, 3);
      for (const request of f.tenant.requests) assert.match(request.headers.authorization!, /^Bearer /);
    } finally {
      await c8y.close();
    }
  });
});

describe('createC8yFetch over HTTPS: the trust of c8y-token curl', () => {
  const https = useHttpsTenant();

  test('a certificate not trusted rejects with kind certificate; cacert trusts it', async () => {
    const untrusted = createC8yFetch({ ...options(), url: https.tenant.url });
    const trusted = createC8yFetch({ ...options(), url: https.tenant.url, cacert: https.certFile });
    try {
      await assert.rejects(untrusted('/user/currentUser'), (error: C8yTokenError) => error.kind === 'certificate');
      assert.equal(https.tenant.requests.length, 0);
      const response = await trusted('/user/currentUser');
      assert.equal(response.status, 200);
      assert.match(https.tenant.requests[0]!.headers.authorization!, /^Bearer /);
    } finally {
      await untrusted.close();
      await trusted.close();
    }
  });
});

describe('tokenSource', () => {
  test('current() keeps one token while it stays valid; many callers at once cost one request', async () => {
    // Without the cache: the source itself has the callers share one request.
    const source = tokenSource({ ...options(), cache: false });
    const asked = f.bridge.requests;
    const tokens = await Promise.all(Array.from({ length: 5 }, () => source.current()));
    assert.equal(f.bridge.requests - asked, 1);
    assert.equal(new Set(tokens.map((token) => token.token)).size, 1);
    assert.equal((await source.current()).token, tokens[0]!.token);
    assert.equal(f.bridge.requests - asked, 1);
  });

  test('current() renews a token before it has less than minValidity left', async () => {
    // A 2-second token is kept for half its lifetime (see below): after 1.2 s it has less than that left.
    f.bridge.options.token = { claims: { iss: f.tenant.url }, lifetimeS: 2 };
    const source = tokenSource({ ...options(), minValidity: '5m' });
    const asked = f.bridge.requests;
    const first = await source.current();
    await setTimeout(1200);
    const second = await source.current();
    assert.equal(f.bridge.requests - asked, 2);
    assert.notEqual(first.token, second.token);
  });

  test('a token shorter-lived than twice minValidity is kept for half its lifetime, not renewed on every call', async () => {
    f.bridge.options.token = { claims: { iss: f.tenant.url }, lifetimeS: 120 };
    const source = tokenSource({ ...options(), minValidity: '5m' });
    const asked = f.bridge.requests;
    const first = await source.current();
    assert.equal((await source.current()).token, first.token);
    assert.equal(f.bridge.requests - asked, 1);
  });

  test('refresh() replaces the refused token once, however many callers report it', async () => {
    const source = tokenSource(options());
    const refused = await source.current();
    const asked = f.bridge.requests;
    const fresh = await Promise.all([source.refresh(refused.token), source.refresh(refused.token)]);
    assert.equal(f.bridge.requests - asked, 1);
    assert.notEqual(fresh[0]!.token, refused.token);
    assert.equal(fresh[1]!.token, fresh[0]!.token);
    assert.equal((await source.refresh(refused.token)).token, fresh[0]!.token, 'already replaced: not asked again');
    assert.equal((await source.current()).token, fresh[0]!.token);
  });

  test('processes sharing the cache ask the bridge once', async () => {
    f.bridge.options.latencyMs = 300;
    const shared = env();
    const script = `import { tokenSource } from ${JSON.stringify(join(ROOT, 'dist/src/index.js'))};
const token = await tokenSource({ timeoutMs: 5000 }).current();
process.stdout.write(token.token);`;
    const asked = f.bridge.requests;
    try {
      const outputs = await Promise.all(
        [1, 2, 3].map(() => run(process.execPath, ['--input-type=module', '-e', script], { env: shared })),
      );
      assert.equal(f.bridge.requests - asked, 1);
      assert.equal(new Set(outputs.map((output) => output.stdout)).size, 1);
    } finally {
      f.bridge.options.latencyMs = 0;
    }
  });
});
