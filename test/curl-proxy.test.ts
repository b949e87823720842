import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signToken } from '../sim/bridge.ts';
import { startTenant } from '../sim/tenant.ts';
import { Agent, buildConnector } from 'undici';
import { tenantDispatcher } from '../src/core/http/dispatcher.ts';
import { bypassesProxy, parseProxy, proxyFor } from '../src/core/http/proxy.ts';
import { prepareRequest, requestAt } from '../src/cli/curl/request.ts';
import { send } from '../src/core/http/send.ts';
import { tenantTrust } from '../src/core/http/trust.ts';
import { runCli } from './harness/cli.ts';
import {
  closedPort,
  curlMissing,
  runBoth,
  type DiffCase,
  type DiffContext,
  type Lane,
} from './harness/differential.ts';
import { startLane } from './harness/differential-tenant.ts';
import { startCurlFixture, type CurlFixture } from './harness/fixture.ts';
import { makePrivateCa, type PrivateCa } from './harness/private-ca.ts';
import { startProxy, type TestProxy } from './harness/proxy.ts';

/** What the cases run against: a plain and an HTTPS tenant (its certificate from a private CA), and proxies. */
interface World {
  /** Forwards and tunnels. */
  open: string;
  /** Answers everything with 403: a case that goes through it shows it. */
  refusing: string;
  /** Nothing listens there. */
  closed: string;
  ca: PrivateCa;
  /** Another private CA, which did not sign the tenant's certificate. */
  other: PrivateCa;
  /** A directory holding the CA under a name that is not hashed. */
  unhashedDir: string;
}

type Case = { name: string; lane: 'plain' | 'secure'; make: (w: World) => Omit<DiffCase, 'name'> };

const path = '/user/currentUser';
// A label longer than DNS allows (63 bytes) fails inside the resolver library: no query leaves the machine.
const UNRESOLVABLE_PROXY = `http://${'a'.repeat(64)}.invalid:3128`;
// biome-ignore format: a table, one case a line
const CASES: Case[] = [
  // Which variable names the proxy for plain HTTP: curl reads http_proxy, never HTTP_PROXY; loopback is no exception.
  { name: 'http_proxy is used, for 127.0.0.1 too', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.refusing } }) },
  { name: 'http_proxy: the 403 with -f', lane: 'plain', make: (w) => ({ path, args: ['-sf'], env: { http_proxy: w.refusing } }) },
  { name: 'http_proxy forwards the request', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.open } }) },
  { name: 'http_proxy without a scheme', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.refusing.replace('http://', '') } }) },
  { name: 'HTTP_PROXY is not read', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { HTTP_PROXY: w.refusing } }) },
  { name: 'https_proxy is not for http', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { https_proxy: w.refusing } }) },
  { name: 'all_proxy', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { all_proxy: w.refusing } }) },
  { name: 'ALL_PROXY', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { ALL_PROXY: w.refusing } }) },
  { name: 'http_proxy before all_proxy', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.open, all_proxy: w.refusing } }) },
  { name: 'an empty http_proxy counts as unset', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: '', all_proxy: w.refusing } }) },
  { name: 'an unresolvable proxy for http: 5', lane: 'plain', make: () => ({ path, args: ['-s'], env: { http_proxy: UNRESOLVABLE_PROXY } }) },
  { name: 'a proxy that is down: 7', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.closed } }) },

  // no_proxy / NO_PROXY and curl's matching rules.
  { name: 'no_proxy names the host', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.refusing, no_proxy: '127.0.0.1' } }) },
  { name: 'NO_PROXY names the host', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.refusing, NO_PROXY: '127.0.0.1' } }) },
  { name: 'no_proxy=*', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.refusing, no_proxy: '*' } }) },
  { name: 'no_proxy in a list with spaces', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.refusing, no_proxy: 'example.com, 127.0.0.1' } }) },
  { name: 'no_proxy with a CIDR network', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.refusing, no_proxy: '127.0.0.0/8' } }) },
  { name: 'no_proxy with another network', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.refusing, no_proxy: '10.0.0.0/8' } }) },
  { name: 'no_proxy=localhost does not cover 127.0.0.1', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.refusing, no_proxy: 'localhost' } }) },
  { name: 'no_proxy with a domain', lane: 'plain', make: (w) => ({ path, args: ['-s'], env: { http_proxy: w.refusing, no_proxy: '.example.com' } }) },

  // -x and --noproxy override the environment; the environment's no_proxy applies to -x too.
  { name: '-x instead of http_proxy', lane: 'plain', make: (w) => ({ path, args: ['-s', '-x', w.refusing], env: { http_proxy: w.open } }) },
  { name: '--proxy', lane: 'plain', make: (w) => ({ path, args: ['-s', '--proxy', w.refusing] }) },
  { name: '-x "" turns the proxy off', lane: 'plain', make: (w) => ({ path, args: ['-s', '-x', ''], env: { http_proxy: w.refusing } }) },
  { name: '-x with no_proxy', lane: 'plain', make: (w) => ({ path, args: ['-s', '-x', w.refusing], env: { no_proxy: '127.0.0.1' } }) },
  { name: '--noproxy instead of no_proxy', lane: 'plain', make: (w) => ({ path, args: ['-s', '--noproxy', ''], env: { http_proxy: w.refusing, no_proxy: '127.0.0.1' } }) },
  { name: '--noproxy with -x', lane: 'plain', make: (w) => ({ path, args: ['-s', '-x', w.refusing, '--noproxy', '127.0.0.1'] }) },

  // HTTPS: a CONNECT tunnel.
  { name: 'https_proxy tunnels', lane: 'secure', make: (w) => ({ path, args: ['-s'], env: { https_proxy: w.open, SSL_CERT_FILE: w.ca.caFile } }) },
  { name: 'HTTPS_PROXY tunnels', lane: 'secure', make: (w) => ({ path, args: ['-s'], env: { HTTPS_PROXY: w.open, SSL_CERT_FILE: w.ca.caFile } }) },
  { name: 'a refused CONNECT: 56', lane: 'secure', make: (w) => ({ path, args: ['-s'], env: { https_proxy: w.refusing, SSL_CERT_FILE: w.ca.caFile } }) },
  { name: 'a refused CONNECT -sS', lane: 'secure', make: (w) => ({ path, args: ['-sS', '--cacert', w.ca.caFile], env: { https_proxy: w.refusing } }) },
  { name: 'a refused CONNECT through all_proxy', lane: 'secure', make: (w) => ({ path, args: ['-s', '--cacert', w.ca.caFile], env: { all_proxy: w.refusing } }) },
  { name: 'http_proxy is not for https', lane: 'secure', make: (w) => ({ path, args: ['-s', '--cacert', w.ca.caFile], env: { http_proxy: w.refusing } }) },
  { name: 'no_proxy bypasses the tunnel', lane: 'secure', make: (w) => ({ path, args: ['-s', '--cacert', w.ca.caFile], env: { https_proxy: w.refusing, no_proxy: '127.0.0.1' } }) },
  { name: '-x tunnels', lane: 'secure', make: (w) => ({ path, args: ['-s', '-x', w.open, '--cacert', w.ca.caFile] }) },
  { name: 'an unresolvable proxy: 5', lane: 'secure', make: (w) => ({ path, args: ['-s', '--cacert', w.ca.caFile], env: { https_proxy: UNRESOLVABLE_PROXY } }) },
  { name: 'a proxy scheme curl has and c8y-token does not: 7', lane: 'secure', make: (w) => ({ path, args: ['-s', '--cacert', w.ca.caFile], env: { https_proxy: 'ftp://127.0.0.1:3128' } }) },

  // Trust: the tenant's certificate comes from a private CA.
  { name: 'without its CA: 60', lane: 'secure', make: () => ({ path, args: ['-s'] }) },
  { name: 'SSL_CERT_FILE', lane: 'secure', make: (w) => ({ path, args: ['-s'], env: { SSL_CERT_FILE: w.ca.caFile } }) },
  { name: 'SSL_CERT_DIR, hashed', lane: 'secure', make: (w) => ({ path, args: ['-s'], env: { SSL_CERT_DIR: w.ca.hashedDir } }) },
  { name: 'SSL_CERT_DIR without hashed names: 60', lane: 'secure', make: (w) => ({ path, args: ['-s'], env: { SSL_CERT_DIR: w.unhashedDir } }) },
  { name: 'CURL_CA_BUNDLE', lane: 'secure', make: (w) => ({ path, args: ['-s'], env: { CURL_CA_BUNDLE: w.ca.caFile } }) },
  { name: 'CURL_CA_BUNDLE before SSL_CERT_FILE', lane: 'secure', make: (w) => ({ path, args: ['-s'], env: { CURL_CA_BUNDLE: w.other.caFile, SSL_CERT_FILE: w.ca.caFile } }) },
  { name: 'SSL_CERT_FILE missing: 77', lane: 'secure', make: (w) => ({ path, args: ['-s'], env: { SSL_CERT_FILE: join(w.unhashedDir, 'missing.pem') } }) },
  { name: '--cacert', lane: 'secure', make: (w) => ({ path, args: ['-s', '--cacert', w.ca.caFile] }) },
  { name: '--cacert of another CA: 60', lane: 'secure', make: (w) => ({ path, args: ['-s', '--cacert', w.other.caFile] }) },
  { name: '--cacert instead of SSL_CERT_FILE', lane: 'secure', make: (w) => ({ path, args: ['-s', '--cacert', w.other.caFile], env: { SSL_CERT_FILE: w.ca.caFile } }) },
  { name: '--cacert missing: 77', lane: 'secure', make: (w) => ({ path, args: ['-s', '--cacert', join(w.unhashedDir, 'missing.pem')] }) },
  { name: '--capath', lane: 'secure', make: (w) => ({ path, args: ['-s', '--capath', w.ca.hashedDir] }) },
  { name: '--capath with --cacert of another CA', lane: 'secure', make: (w) => ({ path, args: ['-s', '--cacert', w.other.caFile, '--capath', w.ca.hashedDir] }) },
  { name: '--capath instead of SSL_CERT_DIR', lane: 'secure', make: (w) => ({ path, args: ['-s', '--capath', w.other.hashedDir], env: { SSL_CERT_DIR: w.ca.hashedDir } }) },
  { name: '-k', lane: 'secure', make: () => ({ path, args: ['-sk'] }) },
];

let fixture: CurlFixture | undefined;
const lanes = {} as Record<Case['lane'], Lane>;
const proxies: TestProxy[] = [];
const world = {} as World;
const context = {} as DiffContext;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c8y-token-proxy-'));
  await mkdir(join(dir, 'other'));
  world.ca = await makePrivateCa(dir);
  world.other = await makePrivateCa(join(dir, 'other'), 'another CA');
  world.unhashedDir = world.ca.hashedDir.replace(/hashed$/, 'unhashed');
  await mkdir(world.unhashedDir);
  await copyFile(world.ca.caFile, join(world.unhashedDir, 'ca.pem'));
  const [open, refusing] = [await startProxy(), await startProxy()];
  refusing.refuse = 403;
  proxies.push(open, refusing);
  world.open = open.url;
  world.refusing = refusing.url;
  world.closed = await closedPort();
  fixture = await startCurlFixture();
  context.tokenFile = join(dir, 'authorization');
  await writeFile(context.tokenFile, `Authorization: Bearer ${await signToken()}\n`);
  context.env = { ...fixture.env, C8Y_TOKEN_CACHE_DIR: join(dir, 'cache') };
  context.closedUrl = world.closed;
  lanes.plain = await startLane();
  lanes.secure = { tenant: await startTenant({ tls: world.ca.tls }), reset: () => {} };
  const warm = await runCli(['get'], { env: context.env });
  assert.equal(warm.code, 0, warm.stderr);
});
after(async () => {
  await Promise.all([...Object.values(lanes).map((lane) => lane.tenant.stop()), ...proxies.map((p) => p.stop())]);
  await fixture?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('proxies and trust against the real curl', { skip: curlMissing }, () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const [theirs, mine] = await runBoth({ name: c.name, ...c.make(world) }, lanes[c.lane], context);
      assert.deepEqual(mine, theirs);
    });
  }
});

describe('what the proxy sees', () => {
  test('HTTPS: one CONNECT to the tenant, no token; the tenant gets the token through the tunnel', async () => {
    const [open] = proxies;
    open!.requests.length = 0;
    const secure = lanes.secure.tenant;
    secure.requests.length = 0;
    const result = await runCli(['curl', path, '--url', secure.url, '--cacert', world.ca.caFile], {
      env: { ...context.env, https_proxy: world.open },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      open!.requests.map((request) => [request.method, request.target, request.headers.authorization]),
      [['CONNECT', new URL(secure.url).host, undefined]],
    );
    assert.match(secure.requests[0]?.headers.authorization ?? '', /^Bearer /);
  });

  test("the proxy URL's credentials go as Proxy-Authorization, and never to stderr", async () => {
    const [open] = proxies;
    open!.requests.length = 0;
    const proxy = world.open.replace('//', '//agent:s3cr%3At@');
    const result = await runCli(['curl', path, '-v', '--url', lanes.secure.tenant.url, '--cacert', world.ca.caFile], {
      env: { ...context.env, https_proxy: proxy },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      open!.requests[0]?.headers['proxy-authorization'],
      `Basic ${Buffer.from('agent:s3cr:t').toString('base64')}`,
    );
    assert.match(result.stderr, /CONNECT 127\.0\.0\.1:\d+ through the proxy http:\/\/127\.0\.0\.1:\d+\n/);
    assert.doesNotMatch(result.stderr, /s3cr/);
  });

  test("a private CA in SSL_CERT_DIR: the system's CAs are tried after Node's, -v says so", async () => {
    const result = await runCli(['curl', path, '-v', '--url', lanes.secure.tenant.url], {
      env: { ...context.env, SSL_CERT_DIR: world.ca.hashedDir },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /from no CA that Node\.js bundles: trying the system's CAs/);
  });
});

describe('the library', () => {
  test("tenantDispatcher with undici's own Agent: through the tunnel, with the system's CAs", async () => {
    const [open] = proxies;
    open!.requests.length = 0;
    const env = { https_proxy: world.open, SSL_CERT_FILE: world.ca.caFile };
    const dispatcher = tenantDispatcher({ Agent, buildConnector }, await tenantTrust({ env }), {
      connectTimeoutMs: 10_000,
      env,
    });
    try {
      const spec = { headers: ['Authorization: Bearer a.test.token'] };
      const request = requestAt(await prepareRequest(spec), new URL(`${lanes.secure.tenant.url}${path}`));
      const exchange = await send(request, { dispatcher });
      assert.equal(exchange.status, 200);
      await exchange.body.dump();
    } finally {
      await dispatcher.destroy();
    }
    assert.ok(open!.requests.length > 0 && open!.requests.every((request) => request.method === 'CONNECT'));
  });
});

describe("doctor's tenant check", () => {
  const doctor = async (args: string[], env: Record<string, string> = {}) => {
    const result = await runCli(['doctor', '--json', '--url', lanes.secure.tenant.url, ...args], {
      env: { ...context.env, ...env },
    });
    const checks = JSON.parse(result.stdout).checks as Array<{ name: string; status: string; summary: string }>;
    return { code: result.code, tenant: checks.find((check) => check.name === 'tenant')! };
  };

  test('goes through https_proxy and trusts SSL_CERT_FILE, as curl does', async () => {
    const [open] = proxies;
    open!.requests.length = 0;
    const { tenant } = await doctor([], { https_proxy: world.open, SSL_CERT_FILE: world.ca.caFile });
    assert.equal(tenant.status, 'ok', tenant.summary);
    assert.ok(open!.requests.length > 0 && open!.requests.every((request) => request.method === 'CONNECT'));
  });

  test('--cacert, -k and -x mean what they mean for curl', async () => {
    assert.equal((await doctor(['--cacert', world.ca.caFile])).tenant.status, 'ok');
    assert.equal((await doctor(['-k'])).tenant.status, 'ok');
    const refused = await doctor(['-k', '-x', world.refusing]);
    assert.equal(refused.tenant.status, 'failed');
    assert.equal(refused.code, 56);
  });

  test('without the CA: exit 60', async () => {
    const { code, tenant } = await doctor([]);
    assert.equal(tenant.status, 'failed');
    assert.equal(code, 60);
  });
});

describe("curl's no_proxy rules", () => {
  test('names match the host and its domain, with or without a leading dot', () => {
    assert.equal(bypassesProxy('example.com', 'example.com'), true);
    assert.equal(bypassesProxy('www.example.com', 'example.com'), true);
    assert.equal(bypassesProxy('www.example.com', '.example.com'), true);
    assert.equal(bypassesProxy('example.com', '.example.com'), true);
    assert.equal(bypassesProxy('WWW.Example.COM.', 'example.com.'), true);
    assert.equal(bypassesProxy('notexample.com', 'example.com'), false);
    assert.equal(bypassesProxy('example.com.org', 'example.com'), false);
    assert.equal(bypassesProxy('example.com', '*.example.com'), false);
    assert.equal(bypassesProxy('a.b', 'x.y  a.b'), true);
  });

  test('* alone matches everything; in a list it is no wildcard', () => {
    assert.equal(bypassesProxy('anything.example', '*'), true);
    assert.equal(bypassesProxy('anything.example', 'example.org,*'), false);
  });

  test('IP addresses match exactly or by network, IPv6 as well', () => {
    assert.equal(bypassesProxy('192.168.1.7', '192.168.1.7'), true);
    assert.equal(bypassesProxy('192.168.1.7', '192.168.0.0/16'), true);
    assert.equal(bypassesProxy('192.169.1.7', '192.168.0.0/16'), false);
    assert.equal(bypassesProxy('192.168.1.7', '192.168.1'), false);
    assert.equal(bypassesProxy('[::1]', '::1'), true);
    assert.equal(bypassesProxy('[2001:db8::5]', '2001:db8::/32'), true);
    assert.equal(bypassesProxy('[2001:db9::5]', '2001:db8::/32'), false);
    assert.equal(bypassesProxy('10.0.0.1', '10.0.0.0/99'), false);
  });

  test("proxyFor: curl's variables in curl's order", () => {
    const https = new URL('https://t.example.com/x');
    const http = new URL('http://t.example.com/x');
    const origin = (env: NodeJS.ProcessEnv, url = https, settings = {}) => proxyFor(url, { env, ...settings })?.origin;
    assert.equal(origin({ https_proxy: 'a:1', HTTPS_PROXY: 'b:1' }), 'http://a:1');
    assert.equal(origin({ HTTPS_PROXY: 'b:1', all_proxy: 'c:1' }), 'http://b:1');
    assert.equal(origin({ HTTP_PROXY: 'b:1' }, http), undefined);
    assert.equal(origin({ all_proxy: 'c:1', ALL_PROXY: 'd:1' }, http), 'http://c:1');
    assert.equal(origin({ https_proxy: 'a:1', no_proxy: 'example.com' }), undefined);
    assert.equal(origin({ https_proxy: 'a:1', no_proxy: '', NO_PROXY: 'example.com' }), undefined);
    assert.equal(origin({ https_proxy: 'a:1' }, https, { proxy: '' }), undefined);
    assert.equal(origin({ no_proxy: '*' }, https, { proxy: 'x:2' }), undefined);
    assert.equal(origin({ no_proxy: '*' }, https, { proxy: 'x:2', noProxy: '' }), 'http://x:2');
  });

  test("parseProxy: curl's default ports, credentials, schemes", () => {
    assert.equal(parseProxy('proxy.corp').origin, 'http://proxy.corp:1080');
    assert.equal(parseProxy('http://proxy.corp').port, 1080);
    assert.equal(parseProxy('http://proxy.corp:80').port, 80);
    assert.equal(parseProxy('https://proxy.corp').port, 443);
    assert.equal(parseProxy('http://[::1]:3128').hostname, '::1');
    assert.equal(
      parseProxy('http://u:p%40w@proxy:3128').authorization,
      `Basic ${Buffer.from('u:p@w').toString('base64')}`,
    );
    assert.throws(() => parseProxy('socks5://proxy:1080'), { kind: 'connect' });
    assert.throws(
      () => parseProxy('http://u:secret@[bad'),
      (error: Error) => !error.message.includes('secret'),
    );
  });
});
