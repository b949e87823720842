import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveSettings } from '../src/index.ts';
import { startBridge, type Bridge } from '../sim/bridge.ts';
import { freePort, startBroker, type Broker } from '../sim/broker.ts';
import { baseEnv, runCli, tempCacheDir } from './harness/cli.ts';
import { whileOpenForWriting } from './harness/files.ts';
import { useBrokerAndBridge } from './harness/fixture.ts';
import { fakeTedge, writeMapperToml, writeTedgeToml } from './harness/tedge.ts';

describe('settings precedence: flag > env > tedge config > default', () => {
  const tedge = (values: Record<string, string> | undefined) => async () => values && new Map(Object.entries(values));

  test('defaults match a standard thin-edge install', async () => {
    const settings = await resolveSettings({}, { env: {}, readTedgeConfig: tedge(undefined) });
    assert.equal(settings.host, '127.0.0.1');
    assert.equal(settings.port, 1883);
    assert.equal(settings.topicPrefix, 'c8y');
    assert.equal(settings.caFile, undefined);
    assert.deepEqual(new Set(Object.values(settings.sources)), new Set(['default']));
  });

  test('each layer overrides the ones below it, and says where each value came from', async () => {
    const settings = await resolveSettings(
      { mqttHost: 'flag-host' },
      {
        env: { TEDGE_MQTT_CLIENT_HOST: 'env-host', TEDGE_MQTT_CLIENT_PORT: '2883' },
        readTedgeConfig: tedge({
          'mqtt.client.host': 'tedge-host',
          'mqtt.client.port': '3883',
          'c8y.bridge.topic_prefix': 'tedge-prefix',
          'mqtt.client.auth.ca_file': '/etc/tedge/ca.pem',
        }),
      },
    );
    assert.equal(settings.host, 'flag-host');
    assert.equal(settings.port, 2883);
    assert.equal(settings.topicPrefix, 'tedge-prefix');
    assert.equal(settings.caFile, '/etc/tedge/ca.pem');
    assert.equal(settings.keyFile, undefined);
    assert.deepEqual(settings.sources, {
      host: 'flag',
      port: 'env',
      topicPrefix: 'tedge',
      caFile: 'tedge',
      caDir: 'default',
      certFile: 'default',
      keyFile: 'default',
      username: 'default',
      passwordFile: 'default',
      tenantUrl: 'default',
      bridgeKind: 'default',
    });
  });

  test('thin-edge is not asked when flags and environment settle everything', async () => {
    let asked = false;
    await resolveSettings(
      {
        mqttHost: 'h',
        mqttPort: 1,
        mqttCafile: 'a',
        mqttCapath: 'd',
        mqttCert: 'b',
        mqttKey: 'c',
        mqttUsername: 'u',
        mqttPasswordFile: 'f',
        topicPrefix: 'p',
      },
      {
        env: {},
        readTedgeConfig: async () => {
          asked = true;
          return undefined;
        },
      },
    );
    assert.equal(asked, false);
  });

  test("a cloud profile takes its own bridge prefix and URL from thin-edge's configuration", async () => {
    const read = tedge({
      'c8y.bridge.topic_prefix': 'c8y',
      'c8y.url': 'main.example.com',
      'c8y.profiles.second.bridge.topic_prefix': 'c8y-second',
      'c8y.profiles.second.url': 'second.example.com',
    });
    const settings = await resolveSettings(
      { profile: 'second' },
      { env: { TEDGE_C8Y_BRIDGE_TOPIC_PREFIX: 'c8y', TEDGE_C8Y_URL: 'env.example.com' }, readTedgeConfig: read },
    );
    assert.equal(settings.topicPrefix, 'c8y-second');
    assert.equal(settings.tenantUrl, 'second.example.com');
    assert.equal(settings.sources.tenantUrl, 'tedge');
    const main = await resolveSettings({}, { env: {}, readTedgeConfig: read });
    assert.equal(main.tenantUrl, 'main.example.com');
  });

  test('TEDGE_CLOUD_PROFILE chooses the profile, names are case-insensitive, and unknown ones are named', async () => {
    const read = tedge({
      'c8y.profiles.second.bridge.topic_prefix': 'c8y-second',
      'c8y.profiles.fourth.url': 'fourth.example.com',
    });
    const fromEnv = await resolveSettings({}, { env: { TEDGE_CLOUD_PROFILE: 'Second' }, readTedgeConfig: read });
    assert.equal(fromEnv.topicPrefix, 'c8y-second');
    const flagWins = await resolveSettings(
      { profile: 'SECOND' },
      { env: { TEDGE_CLOUD_PROFILE: 'fourth' }, readTedgeConfig: read },
    );
    assert.equal(flagWins.topicPrefix, 'c8y-second');
    await assert.rejects(resolveSettings({ profile: 'Third' }, { env: {}, readTedgeConfig: read }), (error: Error) => {
      assert.equal(error.message, "thin-edge has no cloud profile 'third'; its profiles: fourth, second");
      assert.equal((error as { exitCode?: number }).exitCode, 2);
      return true;
    });
    await assert.rejects(resolveSettings({ profile: 'fourth' }, { env: {}, readTedgeConfig: read }), (error: Error) => {
      assert.equal(error.message, "cloud profile 'fourth' has no bridge topic prefix");
      return true;
    });
  });

  test("a profile's keys have thin-edge's environment overrides; an empty variable unsets a key", async () => {
    const read = tedge({
      'mqtt.client.host': 'tedge-host',
      'c8y.url': 'main.example.com',
      'c8y.profiles.second.bridge.topic_prefix': 'c8y-second',
      'c8y.profiles.second.url': 'second.example.com',
    });
    const settings = await resolveSettings(
      { profile: 'second' },
      {
        env: {
          TEDGE_C8Y_PROFILES_SECOND_BRIDGE_TOPIC_PREFIX: 'c8y-env',
          TEDGE_C8Y_PROFILES_SECOND_URL: 'env.example.com',
          TEDGE_MQTT_CLIENT_HOST: '',
        },
        readTedgeConfig: read,
      },
    );
    assert.equal(settings.topicPrefix, 'c8y-env');
    assert.equal(settings.tenantUrl, 'env.example.com');
    assert.equal(settings.host, '127.0.0.1', 'the empty variable hides tedge-host');
    assert.deepEqual(
      [settings.sources.topicPrefix, settings.sources.tenantUrl, settings.sources.host],
      ['env', 'env', 'env'],
    );
    const unset = await resolveSettings({}, { env: { TEDGE_C8Y_URL: ' ' }, readTedgeConfig: read });
    assert.equal(unset.tenantUrl, undefined);
  });
});

describe('thin-edge configuration through the tedge command', () => {
  let broker: Broker;
  let bridge: Bridge;
  before(async () => {
    broker = await startBroker();
    bridge = await startBridge(broker, { topicPrefix: 'c8y-second' });
  });
  after(async () => {
    await bridge.stop();
    await broker.stop();
  });

  const withTedge = (dir: string, extra: Record<string, string> = {}) => ({
    PATH: `${dir}:${baseEnv().PATH}`,
    ...extra,
  });

  test('reads broker host, port and a profile prefix from one `tedge config list` call', async () => {
    const { dir, callsFile } = await fakeTedge({
      'mqtt.client.host': broker.host,
      'mqtt.client.port': String(broker.port),
      'c8y.profiles.second.bridge.topic_prefix': 'c8y-second',
    });
    const result = await runCli(['get', '--profile', 'second'], { env: withTedge(dir) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${bridge.issued.at(-1)}\n`);
    assert.equal(await readFile(callsFile, 'utf8'), 'config list\n');
  });

  test('the environment beats thin-edge configuration, and a flag beats the environment', async () => {
    const { dir } = await fakeTedge({
      'mqtt.client.port': String(broker.port),
      'c8y.bridge.topic_prefix': 'c8y-second',
    });
    const wrongPort = String(await freePort());
    const envWins = await runCli(['get', '--timeout', '3'], {
      env: withTedge(dir, { TEDGE_MQTT_CLIENT_PORT: wrongPort }),
    });
    assert.equal(envWins.code, 7, envWins.stderr);
    assert.match(envWins.stderr, new RegExp(`:${wrongPort}`));
    const flagWins = await runCli(['get', '--mqtt-port', String(broker.port)], {
      env: withTedge(dir, { TEDGE_MQTT_CLIENT_PORT: wrongPort }),
    });
    assert.equal(flagWins.code, 0, flagWins.stderr);
  });

  test('a tedge that cannot be run (open for writing): one clear line, exit 2, not the defaults', async (t) => {
    const { dir } = await fakeTedge({ 'mqtt.client.port': String(broker.port) });
    const result = await whileOpenForWriting(join(dir, 'tedge'), () => runCli(['get'], { env: withTedge(dir) }));
    if (!result) return t.skip('this kernel runs a file that is open for writing');
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /^c8y-token: thin-edge's settings could not be read: `tedge config list` could not be run: the file is open for writing\n {2}check the tedge found on PATH/,
    );
  });

  test('--config-dir, else TEDGE_CONFIG_DIR, is handed to tedge', async () => {
    const { dir, callsFile } = await fakeTedge();
    const settings = { 'mqtt.client.port': String(broker.port), 'c8y.bridge.topic_prefix': 'c8y-second' };
    const [srv, opt] = [await tempConfigDir(), await tempConfigDir()];
    await writeTedgeToml(srv, settings);
    await writeTedgeToml(opt, settings);
    const fromEnv = await runCli(['get'], { env: withTedge(dir, { TEDGE_CONFIG_DIR: srv }) });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const fromFlag = await runCli(['get', '--config-dir', opt], { env: withTedge(dir, { TEDGE_CONFIG_DIR: srv }) });
    assert.equal(fromFlag.code, 0, fromFlag.stderr);
    assert.equal(
      await readFile(callsFile, 'utf8'),
      `--config-dir ${srv} config list\n--config-dir ${opt} config list\n`,
    );
  });
});

/** Modification times seconds apart: the change is seen whatever the file system's timestamp resolution. */
function touch(file: string, secondsAhead: number): Promise<void> {
  const when = new Date(Date.now() + secondsAhead * 1000);
  return utimes(file, when, when);
}

function tempConfigDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'c8y-token-tedge-config-'));
}

describe("thin-edge's settings remembered in the cache directory", () => {
  const world = useBrokerAndBridge();

  test('tedge is asked once, and again when tedge.toml or the tedge executable changes', async () => {
    const { dir, callsFile, configDir } = await fakeTedge({ 'mqtt.client.port': String(world.broker.port) });
    const toml = join(configDir, 'tedge.toml');
    const env = { PATH: `${dir}:${baseEnv().PATH}`, TEDGE_CONFIG_DIR: configDir, C8Y_TOKEN_CACHE_DIR: tempCacheDir() };
    const calls = async () => (await readFile(callsFile, 'utf8')).split('\n').filter(Boolean).length;
    const get = async (...args: string[]) => {
      const result = await runCli(['get', ...args], { env });
      assert.equal(result.code, 0, result.stderr);
    };

    await get();
    await get();
    assert.equal(await calls(), 1, 'the second run uses the remembered settings');
    await touch(toml, 10);
    await get();
    assert.equal(await calls(), 2, 'an edited tedge.toml is read again');
    await get();
    assert.equal(await calls(), 2);
    await touch(join(dir, 'tedge'), 20);
    await get();
    assert.equal(await calls(), 3, 'an updated tedge is asked again');
    await get('--no-cache');
    assert.equal(await calls(), 3, '--no-cache concerns the token: the remembered settings still serve');
    await touch(toml, 30);
    await get('--no-cache');
    assert.equal(await calls(), 4, 'with --no-cache too, an edited tedge.toml is read again');
    await get();
    assert.equal(await calls(), 4, 'and what --no-cache asked is remembered');
  });

  test('the remembered file holds only the settings c8y-token uses, privately', async () => {
    const { dir } = await fakeTedge({
      'mqtt.client.port': String(world.broker.port),
      'c8y.url': 'eu-latest.cumulocity.com',
      'c8y.profiles.second.bridge.topic_prefix': 'c8y-second',
      'device.key_path': '/etc/tedge/device-certs/tedge-private-key.pem',
    });
    const cacheDir = tempCacheDir();
    const result = await runCli(['get'], { env: { PATH: `${dir}:${baseEnv().PATH}`, C8Y_TOKEN_CACHE_DIR: cacheDir } });
    assert.equal(result.code, 0, result.stderr);
    const file = join(cacheDir, 'tedge-config');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const { values } = JSON.parse(await readFile(file, 'utf8')) as { values: Record<string, string> };
    assert.deepEqual(values, {
      'mqtt.client.port': String(world.broker.port),
      'c8y.url': 'eu-latest.cumulocity.com',
      'c8y.profiles.second.bridge.topic_prefix': 'c8y-second',
    });
    const status = await runCli(['cache', 'status'], { env: { C8Y_TOKEN_CACHE_DIR: cacheDir } });
    assert.doesNotMatch(status.stdout, /tedge-config/);
  });
});

describe('thin-edge 1.x and 2.x layouts: c8y-token follows every file tedge reads', () => {
  const world = useBrokerAndBridge();
  let second: Bridge;
  before(async () => {
    second = await startBridge(world.broker, { topicPrefix: 'c8y-second' });
  });
  after(async () => {
    await second.stop();
  });

  const setUp = async () => {
    const tedge = await fakeTedge({ 'mqtt.client.port': String(world.broker.port) });
    const env = {
      PATH: `${tedge.dir}:${baseEnv().PATH}`,
      TEDGE_CONFIG_DIR: tedge.configDir,
      C8Y_TOKEN_CACHE_DIR: tempCacheDir(),
    };
    const calls = async () => (await readFile(tedge.callsFile, 'utf8')).split('\n').filter(Boolean).length;
    const get = async (...args: string[]) => runCli(['get', '--no-cache', '--timeout', '3', ...args], { env });
    return { ...tedge, env, calls, get };
  };

  test('2.x: the prefix in mappers/c8y/mapper.toml, and an edit there is followed at once', async () => {
    const { configDir, calls, get } = await setUp();
    const mapper = await writeMapperToml(configDir, { 'bridge.topic_prefix': 'c8y-second' });
    const first = await get();
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `${second.issued.at(-1)}\n`);
    assert.equal((await get()).code, 0);
    assert.equal(await calls(), 1, 'remembered while nothing changed');

    await writeMapperToml(configDir, { 'bridge.topic_prefix': 'c8y' });
    await touch(mapper, 10);
    const edited = await get();
    assert.equal(edited.code, 0, edited.stderr);
    assert.equal(edited.stdout, `${world.bridge.issued.at(-1)}\n`, 'the new prefix is used');
    assert.equal(await calls(), 2);
  });

  test('2.x profiles: a mappers/c8y.<profile> directory added or removed asks tedge again', async () => {
    const { configDir, calls, get } = await setUp();
    await writeMapperToml(configDir, { url: 'eu-latest.cumulocity.com' });
    assert.equal((await get()).code, 0);
    await writeMapperToml(configDir, { 'bridge.topic_prefix': 'c8y-second' }, 'second');
    const profile = await get('--profile', 'Second');
    assert.equal(profile.code, 0, profile.stderr);
    assert.equal(profile.stdout, `${second.issued.at(-1)}\n`);
    assert.equal(await calls(), 2, 'the new profile directory was seen');

    await mkdir(join(configDir, 'mappers', 'c8y.third'));
    assert.equal((await get('--profile', 'second')).code, 0);
    assert.equal(await calls(), 3, 'a directory without its mapper.toml yet counts too');

    await rm(join(configDir, 'mappers', 'c8y.second'), { recursive: true });
    const gone = await get('--profile', 'second');
    assert.equal(gone.code, 2, gone.stderr);
    assert.match(gone.stderr, /^c8y-token: thin-edge has no cloud profile 'second'; it has no cloud profiles$/m);
    assert.equal(await calls(), 4);
  });

  test('1.x: everything in tedge.toml; TEDGE_CLOUD_PROFILE chooses the profile, in any case', async () => {
    const { configDir, env, get } = await setUp();
    await writeTedgeToml(configDir, {
      'mqtt.client.port': String(world.broker.port),
      'c8y.url': 'eu-latest.cumulocity.com',
      'c8y.profiles.second.bridge.topic_prefix': 'c8y-second',
      'c8y.profiles.second.url': 'cumulocity.com',
    });
    const main = await get();
    assert.equal(main.stdout, `${world.bridge.issued.at(-1)}\n`, main.stderr);
    const result = await runCli(['get', '--no-cache'], { env: { ...env, TEDGE_CLOUD_PROFILE: 'SECOND' } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${second.issued.at(-1)}\n`);
    const unknown = await get('--profile', 'fifth');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^c8y-token: thin-edge has no cloud profile 'fifth'; its profiles: second$/m);
  });

  test('a mapper.toml that is not TOML: one clear line, exit 2, and nothing remembered', async () => {
    const { configDir, calls, get } = await setUp();
    const mapper = await writeMapperToml(configDir, {});
    await writeFile(mapper, 'bridge.topic_prefix = "c8y\nurl = \n');
    for (const attempt of [1, 2]) {
      const result = await get();
      assert.equal(result.code, 2, result.stderr);
      const [line, hint, ...rest] = result.stderr.split('\n');
      assert.match(
        line!,
        /^c8y-token: thin-edge's settings could not be read: `tedge --config-dir \S+ config list` failed: Error: /,
      );
      assert.ok(line!.includes(mapper), line);
      assert.match(hint!, /^ {2}fix the file tedge names/);
      assert.deepEqual(rest, ['']);
      assert.equal(await calls(), attempt, 'a failed answer is not remembered');
    }
  });
});
