import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { runCli, tempCacheDir } from './harness/cli.ts';
import { useCurlFixture } from './harness/fixture.ts';

// The device clock cannot be changed by a test: the simulated tenant's clock (the tokens the bridge issues, and the
// tenant's Date header) is shifted instead, which is the same thing from the device's point of view.
const device = useCurlFixture();
afterEach(() => {
  device.setTenantClock(0);
  device.tenant.reset();
});

const HOUR = 3_600_000;
const warnings = (stderr: string) => stderr.split('\n').filter((line) => /device clock/.test(line));

describe('curl, env and exec with the device clock 2 h behind the tenant', () => {
  test('curl calls the tenant, and warns once for the token and the Date header together', async () => {
    device.setTenantClock(2 * HOUR);
    const result = await device.curl(['/user/currentUser']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).userName, 'device_rpi4-d83add90fe56');
    assert.deepEqual(warnings(result.stderr), [
      "c8y-token: the device clock is 2h 0m behind the tenant's (by the token's iat: the token is judged in the " +
        "tenant's time); check the time sync of the device (`timedatectl status`; `timedatectl set-ntp true`)",
    ]);
  });

  test('curl after a 401 gets a second token and still warns once', async () => {
    device.setTenantClock(2 * HOUR);
    let refused = false;
    device.tenant.authorize = (authorization) => {
      const first = !refused;
      refused = true;
      return !first && /^Bearer /.test(authorization ?? '');
    };
    const result = await device.curl(['/user/currentUser']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(device.tenant.requests.length, 2);
    assert.equal(warnings(result.stderr).length, 1, result.stderr);
  });

  test('curl -v says what the Date header shows; -s says nothing', async () => {
    device.setTenantClock(2 * HOUR);
    const verbose = await device.curl(['-v', '/user/currentUser']);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(
      verbose.stderr,
      /\n\* the tenant's Date \(\w{3}, .* GMT\) puts the device clock 2h 0m behind the tenant's\n/,
    );
    const silent = await device.curl(['-s', '/user/currentUser']);
    assert.equal(silent.code, 0);
    assert.equal(silent.stderr, '');
  });

  test('a cached token from before the clock changed: the Date header still tells, once', async () => {
    const cacheDir = tempCacheDir();
    const env = { C8Y_TOKEN_CACHE_DIR: cacheDir };
    assert.equal((await device.curl(['/user/currentUser'], { env })).stderr, '');
    // Only the tenant's answers move: the token in the cache was measured with the clocks agreeing.
    device.tenant.clockOffsetMs = -2 * HOUR;
    const issued = device.bridge.issued.length;
    const result = await device.curl(['-v', '/user/currentUser'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(device.bridge.issued.length, issued, 'the cached token was used');
    assert.deepEqual(
      warnings(result.stderr).filter((line) => line.startsWith('c8y-token:')),
      [
        "c8y-token: the device clock is 2h 0m ahead of the tenant's (by the tenant's Date header); check the time sync " +
          'of the device (`timedatectl status`; `timedatectl set-ntp true`)',
      ],
    );
  });

  test('env and exec hand out the token, with one warning', async () => {
    device.setTenantClock(2 * HOUR);
    const env = await runCli(['env'], { env: device.env });
    assert.equal(env.code, 0, env.stderr);
    assert.match(env.stdout, /^export C8Y_TOKEN='[\w-]+\.[\w-]+\.[\w-]+';$/m);
    assert.equal(warnings(env.stderr).length, 1, env.stderr);
    const exec = await runCli(['exec', '--', 'sh', '-c', 'test -n "$C8Y_TOKEN" && echo "$C8Y_URL"'], {
      env: device.env,
    });
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout, `${device.tenant.url}\n`);
    assert.equal(warnings(exec.stderr).length, 1, exec.stderr);
    assert.match(exec.stderr, /2h 0m behind/);
  });

  test('with the device clock 2 h ahead, curl, env and exec fail with exit 28 naming the clock', async () => {
    device.setTenantClock(-2 * HOUR);
    for (const args of [['curl', '/user/currentUser'], ['env'], ['exec', '--', 'true']]) {
      const result = await runCli([...args, '--timeout', '1', '--republish', '300ms'], { env: device.env });
      assert.equal(result.code, 28, `${args[0]}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /the device clock may be 2h 0m ahead of the tenant's\n.*timedatectl/);
    }
    assert.equal(device.tenant.requests.length, 0);
  });
});

describe('doctor and the device clock', () => {
  test('in step: the clock check is ok, by the Date header', async () => {
    const result = await runCli(['doctor', '--json'], { env: device.env });
    assert.equal(result.code, 0, result.stdout);
    const clock = JSON.parse(result.stdout).checks.find((check: { name: string }) => check.name === 'clock');
    assert.equal(clock.status, 'ok');
    assert.equal(clock.details.clockOffsetMs, 0);
    assert.equal(clock.details.source, 'date header');
  });

  for (const [offsetMs, shown] of [
    [2 * HOUR, '2h 0m behind'],
    [-5 * 60_000, '5m 0s ahead of'],
    [3 * 24 * HOUR, '72h 0m behind'],
  ] as const) {
    test(`a device clock ${shown} the tenant's: the clock check warns and names time sync`, async () => {
      device.setTenantClock(offsetMs);
      const result = await runCli(['doctor'], { env: device.env });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /\nok +tenant +HTTP 200/);
      assert.match(
        result.stdout,
        new RegExp(`\\nwarn +clock +the device clock is ${shown} the tenant's \\(by the tenant's Date header, .*\\)`),
      );
      assert.match(result.stdout, /clock .*\n +hint: check the time sync of the device \(`timedatectl status`/);
    });
  }

  test('a device clock 2 h ahead: the token check fails with exit 28 and names the clock', async () => {
    device.setTenantClock(-2 * HOUR);
    const result = await runCli(['doctor', '--timeout', '1', '--republish', '300ms'], { env: device.env });
    assert.equal(result.code, 28, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /\nfailed +token +.*the device clock may be 2h 0m ahead of the tenant's\n +hint: .*timedatectl/,
    );
  });
});
