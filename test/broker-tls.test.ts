import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createServer, type TlsOptions } from 'node:tls';
import { makeCertificate } from '../sim/tenant.ts';
import { brokerEnv, runCli } from './harness/cli.ts';
import { useBrokerAndBridge } from './harness/fixture.ts';

/**
 * A TLS listener in front of the test broker, as a broker configured for TLS would be: the CLI must speak TLS to it,
 * check its certificate against --mqtt-cafile and, when asked, show a client certificate.
 */
async function startTlsFront(target: { host: string; port: number }, options: TlsOptions) {
  const sockets = new Set<Socket>();
  const server = createServer(options, (socket) => {
    const upstream = connect(target.port, target.host);
    for (const end of [socket, upstream]) {
      sockets.add(end);
      end.once('close', () => sockets.delete(end));
      end.on('error', () => {
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream).pipe(socket);
  });
  // A client that fails the handshake never becomes a connection: nothing to clean up but the error.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    host: '127.0.0.1',
    port,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const world = useBrokerAndBridge();

describe('a broker that is reached over TLS', () => {
  let serverCert: Awaited<ReturnType<typeof makeCertificate>>;
  let clientCert: Awaited<ReturnType<typeof makeCertificate>>;
  let front: Awaited<ReturnType<typeof startTlsFront>>;
  let mutualFront: Awaited<ReturnType<typeof startTlsFront>>;

  before(async () => {
    [serverCert, clientCert] = await Promise.all([makeCertificate(), makeCertificate()]);
    const server = { key: serverCert.key, cert: serverCert.cert };
    front = await startTlsFront(world.broker, server);
    mutualFront = await startTlsFront(world.broker, {
      ...server,
      requestCert: true,
      rejectUnauthorized: true,
      ca: clientCert.cert,
    });
  });

  after(async () => {
    await Promise.all([front?.stop(), mutualFront?.stop()]);
  });

  test('--mqtt-cafile: the CLI connects over TLS, checks the certificate, and gets the token', async () => {
    const result = await runCli(['get', '--mqtt-cafile', serverCert.certFile, '--verbose'], { env: brokerEnv(front) });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(world.bridge.issued.includes(result.stdout.trim()));
    assert.match(result.stderr, /connecting to mqtts:\/\/127\.0\.0\.1:/);
  });

  test('a certificate the CA file does not vouch for: exit 7, saying TLS failed', async () => {
    const result = await runCli(['get', '--mqtt-cafile', clientCert.certFile], { env: brokerEnv(front) });
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /^c8y-token: TLS connection to the MQTT broker at 127\.0\.0\.1:\d+ failed/);
    assert.equal(result.stdout, '');
  });

  test('plain MQTT to a TLS port: exit 7', async () => {
    const result = await runCli(['get', '--timeout', '5s'], { env: brokerEnv(front) });
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /^c8y-token: could not connect to the MQTT broker at 127\.0\.0\.1:\d+/);
  });

  test('a broker that asks for a client certificate accepts --mqtt-cert and --mqtt-key, and refuses a client without', async () => {
    const withCert = await runCli(
      [
        'get',
        '--mqtt-cafile',
        serverCert.certFile,
        '--mqtt-cert',
        clientCert.certFile,
        '--mqtt-key',
        clientCert.keyFile,
      ],
      { env: brokerEnv(mutualFront) },
    );
    assert.equal(withCert.code, 0, withCert.stderr);
    assert.ok(world.bridge.issued.includes(withCert.stdout.trim()));

    const without = await runCli(['get', '--mqtt-cafile', serverCert.certFile], { env: brokerEnv(mutualFront) });
    assert.equal(without.code, 7, without.stderr);
    assert.equal(without.stdout, '');
  });

  test('mqtt.client.auth.ca_dir and --mqtt-capath trust every certificate in the directory', async () => {
    const trusted = await mkdtemp(join(tmpdir(), 'c8y-token-ca-dir-'));
    const wrong = await mkdtemp(join(tmpdir(), 'c8y-token-ca-dir-'));
    const empty = await mkdtemp(join(tmpdir(), 'c8y-token-ca-dir-'));
    try {
      await writeFile(join(trusted, 'other.crt'), clientCert.cert);
      await writeFile(join(trusted, 'broker.pem'), serverCert.cert);
      await writeFile(join(trusted, 'README'), 'not a certificate\n');
      await writeFile(join(wrong, 'other.crt'), clientCert.cert);
      const fromTedgeKey = await runCli(['get'], {
        env: { ...brokerEnv(front), TEDGE_MQTT_CLIENT_AUTH_CA_DIR: trusted },
      });
      assert.equal(fromTedgeKey.code, 0, fromTedgeKey.stderr);
      const fromFlag = await runCli(['get', '--mqtt-capath', trusted], { env: brokerEnv(front) });
      assert.equal(fromFlag.code, 0, fromFlag.stderr);
      const notVouched = await runCli(['get', '--mqtt-capath', wrong], { env: brokerEnv(front) });
      assert.equal(notVouched.code, 7, notVouched.stderr);
      assert.match(notVouched.stderr, /^c8y-token: TLS connection to the MQTT broker at 127\.0\.0\.1:\d+ failed/);
      const none = await runCli(['get', '--mqtt-capath', empty], { env: brokerEnv(front) });
      assert.equal(none.code, 2, none.stderr);
      assert.match(none.stderr, /^c8y-token: cannot read the MQTT CA directory .*: it holds no PEM certificate\n/);
    } finally {
      await Promise.all([trusted, wrong, empty].map((dir) => rm(dir, { recursive: true, force: true })));
    }
  });

  test('doctor checks the broker over TLS too', async () => {
    const result = await runCli(['doctor', '--mqtt-cafile', serverCert.certFile, '--json'], { env: brokerEnv(front) });
    const report = JSON.parse(result.stdout);
    const broker = report.checks.find((check: { name: string }) => check.name === 'broker');
    assert.equal(broker.status, 'ok', result.stdout);
    const token = report.checks.find((check: { name: string }) => check.name === 'token');
    assert.equal(token.status, 'ok', result.stdout);
  });
});
