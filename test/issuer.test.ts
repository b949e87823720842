import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signToken, startBridge } from '../sim/bridge.ts';
import { C8yTokenError, decodeToken } from '../src/index.ts';
import { OPTION_NAMES, render } from '../src/core/errors.ts';
import { tenantUrl } from '../src/core/token/tenant-url.ts';
import { getTokenVariables } from '../src/core/token/variables.ts';
import { useBrokerAndBridge } from './harness/fixture.ts';
import { brokerEnv, runCli } from './harness/cli.ts';

const world = useBrokerAndBridge();

/** `iss` values that name no tenant host; before, `curl` and `env` threw a TypeError ("Invalid URL") with a trace. */
const NOT_HOST_NAMES = ['not a host', 'a/b', 'host:99999', 'ftp://x', 'user@evil.example.com', 'x?y', 'https://'];

describe("a token whose 'iss' claim is not a host name", () => {
  for (const command of ['curl', 'env', 'exec'] as const) {
    test(`${command}: exit 1, one line that shows the claim, nothing on stdout`, async () => {
      const prefix = `iss-${command}`;
      const bridge = await startBridge(world.broker, { topicPrefix: prefix, token: { claims: { iss: 'not a host' } } });
      try {
        const args = { curl: ['/user/currentUser'], env: [], exec: ['--', 'true'] }[command];
        const result = await runCli([command, '--topic-prefix', prefix, ...args], {
          env: { ...brokerEnv(world.broker), C8Y_URL: undefined },
        });
        assert.equal(result.code, 1, result.stderr);
        assert.equal(result.stdout, '');
        assert.equal(
          result.stderr,
          `c8y-token: the token's 'iss' claim is not a host name: "not a host"\n` +
            '  pass --url https://<tenant host>; `c8y-token decode` shows the whole token\n',
        );
      } finally {
        await bridge.stop();
      }
    });
  }

  test('the library: tenantUrl throws a C8yTokenError for each; with a URL override it only warns', async () => {
    for (const iss of NOT_HOST_NAMES) {
      const token = decodeToken(await signToken({ claims: { iss } }));
      assert.throws(
        () => tenantUrl(token, undefined, {}),
        (error) =>
          error instanceof C8yTokenError && error.exitCode === 1 && error.message.includes(JSON.stringify(iss)),
        iss,
      );
      const { url, warning } = tenantUrl(token, 'https://tenant.example.com', {});
      assert.equal(url, 'https://tenant.example.com');
      assert.equal(
        warning && render(warning, OPTION_NAMES),
        `warning: url sends the token to tenant.example.com, not to its issuer ${JSON.stringify(iss)}`,
      );
    }
  });

  test('the library: getTokenVariables rejects with a C8yTokenError', async () => {
    const bridge = await startBridge(world.broker, { topicPrefix: 'iss-lib', token: { claims: { iss: 'a/b' } } });
    try {
      await assert.rejects(
        getTokenVariables({ topicPrefix: 'iss-lib', cache: false, env: brokerEnv(world.broker) }),
        (error) => error instanceof C8yTokenError && error.kind === 'other',
      );
    } finally {
      await bridge.stop();
    }
  });

  test('host names, addresses with a port and http(s) URLs are accepted', async () => {
    for (const [iss, url] of [
      ['t12345.eu-latest.cumulocity.com', 'https://t12345.eu-latest.cumulocity.com'],
      ['T1.Example.COM.', 'https://t1.example.com.'],
      ['127.0.0.1:8443', 'https://127.0.0.1:8443'],
      ['[::1]:8443', 'https://[::1]:8443'],
      ['https://127.0.0.1:8080/', 'https://127.0.0.1:8080'],
    ]) {
      const token = decodeToken(await signToken({ claims: { iss } }));
      assert.equal(tenantUrl(token, undefined, {}).url, url, iss);
    }
  });
});
