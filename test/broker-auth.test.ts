import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startBridge, type Bridge } from '../sim/bridge.ts';
import { findMosquitto, startPasswordBroker, type Broker } from '../sim/broker.ts';
import { baseEnv, brokerEnv, cacheDirNames, runCli } from './harness/cli.ts';
import { fakeTedge } from './harness/tedge.ts';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const SPACED_PASSWORD = `spaced-${randomBytes(12).toString('hex')}`;
const passwd = findMosquitto('mosquitto_passwd');
const missingTools = !passwd || !findMosquitto();
if (missingTools && process.env.C8Y_TOKEN_TEST_BROKER === 'mosquitto') {
  throw new Error('C8Y_TOKEN_TEST_BROKER=mosquitto but mosquitto or mosquitto_passwd was not found');
}

/**
 * mosquitto with a password_file made by mosquitto_passwd, as a device whose broker wants a user name and password.
 * The password must reach the broker from thin-edge's password file, and nowhere else.
 */
describe('a broker that wants a user name and password', {
  skip: missingTools && 'needs mosquitto and mosquitto_passwd',
}, () => {
  let dir: string;
  let broker: Broker;
  let bridge: Bridge;
  let passwordFile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'c8y-token-broker-auth-'));
    const users = join(dir, 'users');
    // Written in clear, then hashed in place (-U): no password on mosquitto_passwd's command line either.
    await writeFile(users, `device:${PASSWORD}\nbridge:${PASSWORD}\nspaced user:${SPACED_PASSWORD}\n`, { mode: 0o644 });
    await promisify(execFile)(passwd!, ['-U', users]);
    passwordFile = join(dir, 'device-password');
    await writeFile(passwordFile, `${PASSWORD}\nsecond line is not the password\n`);
    broker = (await startPasswordBroker(users, { username: 'bridge', password: PASSWORD }))!;
    bridge = await startBridge(broker);
  });
  after(async () => {
    await bridge?.stop();
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const withUser = (username: string, file: string) => ({
    ...brokerEnv(broker),
    TEDGE_MQTT_CLIENT_AUTH_USERNAME: username,
    TEDGE_MQTT_CLIENT_AUTH_PASSWORD_FILE: file,
  });

  test("thin-edge's mqtt.client.auth.username and password_file log in; the password is the file's first line", async () => {
    const tedge = await fakeTedge({
      'mqtt.client.port': String(broker.port),
      'mqtt.client.auth.username': 'device',
      'mqtt.client.auth.password_file': passwordFile,
    });
    try {
      const result = await runCli(['get', '--verbose'], { env: { PATH: `${tedge.dir}:${baseEnv().PATH}` } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${bridge.issued.at(-1)}\n`);
      assert.match(result.stderr, /user 'device'/);
      assert.doesNotMatch(result.stderr, new RegExp(PASSWORD));
    } finally {
      await rm(tedge.dir, { recursive: true, force: true });
    }
  });

  test('the TEDGE_* variables and the flags give them too; a flag beats the environment', async () => {
    const fromEnv = await runCli(['get'], { env: withUser('device', passwordFile) });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const fromFlags = await runCli(['get', '--mqtt-username', 'device', '--mqtt-password-file', passwordFile], {
      env: withUser('nobody', join(dir, 'missing')),
    });
    assert.equal(fromFlags.code, 0, fromFlags.stderr);
  });

  test('a user name with a space logs in, and a refused login is exit 7 naming the broker and the user', async () => {
    const spaced = join(dir, 'spaced-password');
    await writeFile(spaced, `${SPACED_PASSWORD}\r\n`);
    const ok = await runCli(['get'], { env: withUser('spaced user', spaced) });
    assert.equal(ok.code, 0, ok.stderr);

    const refused = await runCli(['get'], { env: withUser('spaced user', passwordFile) });
    assert.equal(refused.code, 7, refused.stderr);
    const [line, hint, ...rest] = refused.stderr.split('\n');
    assert.equal(
      line,
      `c8y-token: the MQTT broker at 127.0.0.1:${broker.port} refused the credentials of user 'spaced user'`,
    );
    assert.match(hint!, /^ {2}check mqtt\.client\.auth\.username and the first line of/);
    assert.deepEqual(rest, ['']);
    assert.equal(refused.stdout, '');
    const verbose = await runCli(['get', '--verbose'], { env: withUser('spaced user', passwordFile) });
    assert.equal(verbose.code, 7, verbose.stderr);
    assert.doesNotMatch(verbose.stderr, new RegExp(`${PASSWORD}|${SPACED_PASSWORD}|at .*\\.js:\\d+`));
  });

  test('without a user name the broker refuses: exit 7, with a hint at the user name settings', async () => {
    const result = await runCli(['get'], {
      env: { ...withUser('device', passwordFile), TEDGE_MQTT_CLIENT_AUTH_USERNAME: '' },
    });
    assert.equal(result.code, 7, result.stderr);
    assert.match(
      result.stderr,
      /^c8y-token: the MQTT broker at 127\.0\.0\.1:\d+ refused the connection: .*not authori[sz]ed/i,
    );
    assert.match(result.stderr, /set mqtt\.client\.auth\.username and mqtt\.client\.auth\.password_file/);
  });

  test('a password file that is empty, missing or a directory: one clear line, exit 2, nothing sent', async () => {
    const empty = join(dir, 'empty');
    await writeFile(empty, '');
    const blankFirstLine = join(dir, 'blank-first-line');
    await writeFile(blankFirstLine, `\n${PASSWORD}\n`);
    const directory = join(dir, 'a-directory');
    await mkdir(directory, { recursive: true });
    const cases: Array<[string, string]> = [
      [empty, 'it is empty (its first line is the password)'],
      [blankFirstLine, 'it is empty (its first line is the password)'],
      [join(dir, 'missing'), 'no such file'],
      [directory, 'not a regular file'],
    ];
    for (const [file, why] of cases) {
      const result = await runCli(['get'], { env: withUser('device', file) });
      assert.equal(result.code, 2, `${file}: ${result.stderr}`);
      assert.deepEqual(result.stderr.split('\n'), [
        `c8y-token: cannot read the MQTT password file ${file}: ${why}`,
        '  check the path, and mqtt.client.auth.password_file in `tedge config list`',
        '',
      ]);
    }
  });

  test("the password is in no child's environment, doctor report, cache or remembered settings", async () => {
    const tedge = await fakeTedge({
      'mqtt.client.port': String(broker.port),
      'mqtt.client.auth.username': 'device',
      'mqtt.client.auth.password_file': passwordFile,
    });
    const cacheDir = join(dir, 'cache');
    const env = { PATH: `${tedge.dir}:${baseEnv().PATH}`, C8Y_TOKEN_CACHE_DIR: cacheDir };
    try {
      const exec = await runCli(['exec', '--verbose', '--', 'sh', '-c', 'env; cat /proc/$PPID/cmdline'], { env });
      assert.equal(exec.code, 0, exec.stderr);
      assert.match(exec.stdout, /C8Y_TOKEN=/);
      const doctor = await runCli(['doctor', '--json', '--verbose'], { env });
      assert.match(doctor.stdout, /"username": ?"device"/);
      const cached = await Promise.all(
        (await cacheDirNames(cacheDir)).map((name) => readFile(join(cacheDir, name), 'utf8')),
      );
      assert.ok(
        cached.some((text) => text.includes('mqtt.client.auth.username')),
        'the remembered settings are there',
      );
      for (const [where, text] of Object.entries({
        exec: exec.stdout + exec.stderr,
        doctor: doctor.stdout + doctor.stderr,
        cached: cached.join(''),
      })) {
        assert.doesNotMatch(text, new RegExp(PASSWORD), where);
      }
    } finally {
      await rm(tedge.dir, { recursive: true, force: true });
    }
  });
});
