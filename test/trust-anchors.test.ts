import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTenant, type Tenant } from '../sim/tenant.ts';
import { tempCacheDir } from './harness/cli.ts';
import { useCurlFixture } from './harness/fixture.ts';
import { makePrivateCa, type PrivateCa } from './harness/private-ca.ts';

const f = useCurlFixture();
let first: PrivateCa;
let second: PrivateCa;
/** Signed by the first CA, and by the second. */
let tenants: [Tenant, Tenant];
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c8y-token-anchors-'));
  first = await makePrivateCa(await mkdtemp(join(dir, 'ca-')), 'c8y-token first CA');
  second = await makePrivateCa(await mkdtemp(join(dir, 'ca-')), 'c8y-token second CA');
  tenants = [await startTenant({ tls: first.tls }), await startTenant({ tls: second.tls })];
});
after(async () => {
  await Promise.all(tenants.map((tenant) => tenant.stop()));
});

/** A system store (SSL_CERT_FILE) holding these CAs. */
async function store(...cas: PrivateCa[]): Promise<string> {
  const file = join(await mkdtemp(join(dir, 'store-')), 'ca-certificates.crt');
  await writeFile(file, (await Promise.all(cas.map((ca) => readFile(ca.caFile, 'utf8')))).join(''));
  return file;
}

const derOf = async (ca: PrivateCa) => new X509Certificate(await readFile(ca.caFile)).raw.toString('base64');
const anchorsIn = async (cacheDir: string) =>
  JSON.parse(await readFile(join(cacheDir, 'trust-anchors'), 'utf8')) as Record<string, string>;

function curl(tenant: Tenant, cacheDir: string, storeFile: string) {
  return f.curl(['/user/currentUser', '-v', '--url', tenant.url], {
    env: { C8Y_TOKEN_CACHE_DIR: cacheDir, SSL_CERT_FILE: storeFile },
  });
}

describe('the system CA that verified a tenant is remembered', () => {
  test('the next run builds a context of that CA alone, not of all the system has', async () => {
    const cacheDir = tempCacheDir();
    const systemStore = await store(second, first);
    const learnt = await curl(tenants[0], cacheDir, systemStore);
    assert.equal(learnt.code, 0, learnt.stderr);
    assert.match(learnt.stderr, /trying the system's CAs/);
    assert.doesNotMatch(learnt.stderr, /verified .* last time/);
    assert.deepEqual(await anchorsIn(cacheDir), { [new URL(tenants[0].url).origin]: await derOf(first) });
    assert.equal((await stat(join(cacheDir, 'trust-anchors'))).mode & 0o777, 0o600);

    const again = await curl(tenants[0], cacheDir, systemStore);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /first the system's CA that verified 127\.0\.0\.1:\d+ last time/);
  });

  test('a remembered CA the system no longer trusts is not used: exit 60', async () => {
    const cacheDir = tempCacheDir();
    const learnt = await curl(tenants[0], cacheDir, await store(first));
    assert.equal(learnt.code, 0, learnt.stderr);
    const removed = await curl(tenants[0], cacheDir, await store(second));
    assert.equal(removed.code, 60, removed.stderr);
    assert.doesNotMatch(removed.stderr, /verified .* last time/);
  });

  test("a tenant whose CA changed: the remembered one fails, all the system's verify it, and the new CA is remembered", async () => {
    const cacheDir = tempCacheDir();
    const origin = new URL(tenants[1].url).origin;
    // As if the first CA had verified this tenant before it was given a certificate of the second.
    await curl(tenants[0], cacheDir, await store(first));
    await writeFile(join(cacheDir, 'trust-anchors'), `${JSON.stringify({ [origin]: await derOf(first) })}\n`, {
      mode: 0o600,
    });
    const result = await curl(tenants[1], cacheDir, await store(first, second));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /first the system's CA that verified/);
    assert.deepEqual(await anchorsIn(cacheDir), { [origin]: await derOf(second) });
  });
});
