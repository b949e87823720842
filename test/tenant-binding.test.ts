import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { claimsOf, startBridge, TENANT_HOST, type Bridge } from '../sim/bridge.ts';
import { startBroker, type Broker } from '../sim/broker.ts';
import { makeCertificate, startTenant, type Tenant } from '../sim/tenant.ts';
import { baseEnv, brokerEnv, runCli, tempCacheDir } from './harness/cli.ts';
import { fakeTedge } from './harness/tedge.ts';

const PREFIX = 'bound';
const ROGUE = 'evil.example.com';
let broker: Broker;
/** The cloud bridge: tokens from the tenant t12345.eu-latest.cumulocity.com, a round trip after each request. */
let bridge: Bridge;
/** Another local process answering every request at once, with a token of its own. */
let rogue: Bridge;

before(async () => {
  broker = await startBroker();
  bridge = await startBridge(broker, { topicPrefix: PREFIX, latencyMs: 100 });
  rogue = await startBridge(broker, { topicPrefix: PREFIX, token: { claims: { iss: ROGUE } } });
});
after(async () => {
  await rogue?.stop();
  await bridge?.stop();
  await broker?.stop();
});
afterEach(() => {
  bridge.options.silent = false;
  rogue.options.token = { claims: { iss: ROGUE } };
});

const get = (env: Record<string, string | undefined>, ...args: string[]) =>
  runCli(['get', '--topic-prefix', PREFIX, '--format', 'json', ...args], { env: { ...brokerEnv(broker), ...env } });
const issuer = (stdout: string) => claimsOf(JSON.parse(stdout).token).iss;

describe("a token bound to thin-edge's tenant", () => {
  test("another issuer's token is ignored while waiting, with the reason in --verbose", async () => {
    const result = await get({ TEDGE_C8Y_URL: 'eu-latest.cumulocity.com' }, '--verbose');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(issuer(result.stdout), TENANT_HOST, 'the subdomain of the configured instance is taken');
    assert.match(
      result.stderr,
      /ignored a message on bound\/s\/dat: token refused: issuer evil\.example\.com is neither thin-edge's tenant eu-latest\.cumulocity\.com nor a subdomain of it/,
    );
  });

  test('only such tokens: exit 28 naming both hosts and how to accept the one that came', async () => {
    bridge.options.silent = true;
    const result = await get({ TEDGE_C8Y_URL: 'eu-latest.cumulocity.com' }, '--timeout', '1');
    assert.equal(result.code, 28, result.stderr);
    assert.match(
      result.stderr,
      /no token received within 1s: every token was refused, issuer evil\.example\.com is neither thin-edge's tenant eu-latest\.cumulocity\.com/,
    );
    assert.match(result.stderr, /--url https:\/\/evil\.example\.com or C8Y_URL=https:\/\/evil\.example\.com/);
  });

  test('C8Y_URL naming the host of the token accepts it', async () => {
    bridge.options.silent = true;
    const result = await get({ TEDGE_C8Y_URL: 'eu-latest.cumulocity.com', C8Y_URL: `https://${ROGUE}` });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(issuer(result.stdout), ROGUE);
  });

  test('an issuer that is an http:// URL is refused unless the base URL is set explicitly', async () => {
    bridge.options.silent = true;
    rogue.options.token = { claims: { iss: 'http://127.0.0.1:9' } };
    const refused = await get({}, '--timeout', '1');
    assert.equal(refused.code, 28, refused.stderr);
    assert.match(refused.stderr, /issuer http:\/\/127\.0\.0\.1:9 is not https, and no base URL is set explicitly/);
    const taken = await get({ C8Y_URL: 'http://127.0.0.1:9' });
    assert.equal(taken.code, 0, taken.stderr);
    assert.equal(issuer(taken.stdout), 'http://127.0.0.1:9');
  });

  test("after `tedge reconnect` to another tenant, the old tenant's cached token is never served", async () => {
    rogue.options.silent = true;
    // thin-edge 2.x: the Cumulocity URL lives in mappers/c8y/mapper.toml.
    const tedge = await fakeTedge();
    const mapperToml = join(tedge.configDir, 'mappers', 'c8y', 'mapper.toml');
    try {
      const env = {
        PATH: `${tedge.dir}:${baseEnv().PATH}`,
        TEDGE_CONFIG_DIR: tedge.configDir,
        C8Y_TOKEN_CACHE_DIR: tempCacheDir(),
      };
      await mkdir(dirname(mapperToml), { recursive: true });
      await writeFile(mapperToml, 'url = "eu-latest.cumulocity.com"\n');
      const first = await get(env);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(issuer(first.stdout), TENANT_HOST);

      // What `tedge reconnect c8y` to another tenant leaves behind: another c8y.url, and its tokens from there.
      await writeFile(mapperToml, 'url = "t777.us.cumulocity.com"\n');
      bridge.options.token = { claims: { iss: 't777.us.cumulocity.com', aud: 't777.us.cumulocity.com' } };
      const before = bridge.requests;
      const second = await get(env);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(issuer(second.stdout), 't777.us.cumulocity.com');
      assert.equal(bridge.requests - before, 1, 'a new token was asked for');
    } finally {
      delete bridge.options.token;
      rogue.options.silent = false;
      await rm(tedge.dir, { recursive: true, force: true });
    }
  });
});

describe('a local publisher that is not the bridge never decides where a request and its body go', () => {
  let certFile: string;
  let tenant: Tenant;
  let elsewhere: Tenant;
  let realBridge: Bridge;
  let impostor: Bridge;

  before(async () => {
    const certificate = await makeCertificate();
    certFile = certificate.certFile;
    tenant = await startTenant({ tls: certificate });
    elsewhere = await startTenant({ tls: certificate });
    // Bare host:port issuers, as Cumulocity's are bare hosts; the certificate names both 127.0.0.1 and localhost.
    const port = (url: string) => new URL(url).port;
    realBridge = await startBridge(broker, {
      topicPrefix: 'dest',
      latencyMs: 100,
      token: { claims: { iss: `127.0.0.1:${port(tenant.url)}` } },
    });
    impostor = await startBridge(broker, {
      topicPrefix: 'dest',
      token: { claims: { iss: `localhost:${port(elsewhere.url)}` } },
    });
  });
  after(async () => {
    await impostor?.stop();
    await realBridge?.stop();
    await elsewhere?.stop();
    await tenant?.stop();
    if (certFile) await rm(dirname(certFile), { recursive: true, force: true });
  });

  test("curl: the impostor's token, first to arrive, is not taken; the request and its body go to the tenant", async () => {
    const result = await runCli(
      ['curl', '/event/events', '--topic-prefix', 'dest', '--cacert', certFile, '--json', '{"text":"private"}'],
      { env: { ...brokerEnv(broker), TEDGE_C8Y_URL: '127.0.0.1' } },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(elsewhere.requests.length, 0, 'nothing went to the impostor');
    assert.deepEqual(
      tenant.requests.map((request) => [request.method, request.url, request.body.toString()]),
      [['POST', '/event/events', '{"text":"private"}']],
    );
    assert.ok(impostor.issued.length > 0, 'the impostor did answer');
  });
});
