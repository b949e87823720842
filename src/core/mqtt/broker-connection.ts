import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP, connect as tcpConnect } from 'node:net';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { BrokerSettings } from '../settings/resolve.ts';
import { abortError, C8yTokenError, throwIfAborted, wording, type Setting, type Wording } from '../errors.ts';
import { randomHex } from '../random.ts';
import { describeSystemError } from '../system-errors.ts';

/**
 * Loads mqtt.js and returns a function that creates its client, which starts connecting at once over a TCP or TLS
 * stream of our own: mqtt.connect() would load, on first use, every transport mqtt.js knows (WebSocket, SOCKS proxies
 * and their dependencies; docs/performance.md), while the local broker is only ever reached over TCP or TLS. Loading
 * and creating are apart so that callers attach their listeners in the same tick as the client is created. mqtt.js is
 * loaded on first use so that commands which never reach the broker do not pay for it; it is CommonJS, so its
 * module.exports arrives as `default`. lib/client is reached through the wildcard of mqtt.js's exports map, not a
 * documented entry point: package.json pins mqtt to an exact version, and test/deep-imports.test.ts fails when the
 * file no longer holds the client.
 */
export async function brokerClientFactory(options: BrokerClientOptions): Promise<() => MqttClient> {
  const [{ default: client }, tls] = await Promise.all([
    import('mqtt/lib/client'),
    options.protocol === 'mqtts' ? import('node:tls') : undefined,
  ]);
  const { host, port, ca, cert, key } = options;
  const stream = tls
    ? () => tls.connect({ host, port, ca, cert, key, ...(!isIP(host) && { servername: host }) })
    : () => tcpConnect({ host, port });
  return () => new client.default(stream, options);
}

/**
 * Resolves once the broker has accepted the connection; rejects with a 'connect' C8yTokenError otherwise, or with the
 * signal's reason at once when it is aborted.
 */
export async function connectBroker(options: BrokerClientOptions, signal?: AbortSignal): Promise<MqttClient> {
  const open = await brokerClientFactory(options);
  throwIfAborted(signal);
  return new Promise((resolve, reject) => {
    const client = open();
    let lastError: Error | undefined;
    const onError = (error: Error) => {
      lastError = error;
    };
    const fail = (error: C8yTokenError) => {
      // Only our own listeners: mqtt.js's own 'close' listener clears its CONNACK timer.
      client.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      client.end(true);
      reject(error);
    };
    const onClose = () => fail(connectError(`${options.host}:${options.port}`, lastError, options.username));
    const onAbort = () => fail(abortError(signal!));
    client.on('error', onError).once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    client.once('connect', () => {
      client.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      resolve(client);
    });
  });
}

export type BrokerClientOptions = IClientOptions & { host: string; port: number };

/**
 * mqtt.js options for one short-lived session with the local broker: MQTT 3.1.1, clean session, a random client id,
 * TLS when a CA file, a CA directory or a client certificate is configured (as mqtt.connect() would), the user name
 * and password when configured, and no automatic reconnect (callers decide, bounded by their own deadline).
 */
export async function brokerClientOptions(
  settings: BrokerSettings,
  connectTimeoutMs: number,
  clientIdPrefix = 'c8y-token',
): Promise<BrokerClientOptions> {
  return {
    host: settings.host,
    port: settings.port,
    protocol: settings.caFile || settings.caDir || (settings.certFile && settings.keyFile) ? 'mqtts' : 'mqtt',
    protocolVersion: 4,
    clientId: `${clientIdPrefix}-${randomHex(6)}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: connectTimeoutMs,
    keepalive: 30,
    // mqtt.js would otherwise fill a table of 65,536 buffers before its first packet: a session this short sends three.
    writeCache: false,
    ...(await readTlsFiles(settings)),
    ...(await readCredentials(settings)),
  };
}

/** As thin-edge does: the password is the first line of the password file, and is sent only with a user name. */
async function readCredentials(settings: BrokerSettings): Promise<Pick<IClientOptions, 'username' | 'password'>> {
  const { username, passwordFile } = settings;
  if (!username) return {};
  if (!passwordFile) return { username };
  const unusable = (why: string) =>
    new C8yTokenError('usage', `cannot read the MQTT password file ${passwordFile}: ${why}`, {
      hint: 'check the path, and mqtt.client.auth.password_file in `tedge config list`',
    });
  let text: string;
  try {
    text = await readFile(passwordFile, 'utf8');
  } catch (error) {
    throw unusable(describeSystemError(error));
  }
  const password = text.split('\n', 1)[0]!.replace(/\r$/, '');
  if (password === '') throw unusable('it is empty (its first line is the password)');
  return { username, password };
}

async function readTlsFiles(settings: BrokerSettings): Promise<Pick<IClientOptions, 'ca' | 'cert' | 'key'>> {
  const read = async (path: string | undefined, what: string, setting: Setting) => {
    if (!path) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new C8yTokenError('usage', `cannot read the MQTT ${what} ${path}: ${describeSystemError(error)}`, {
        hint: wording(`check {${setting}} and mqtt.client.auth.* in \`tedge config list\``),
      });
    }
  };
  const [caFile, caDir, cert, key] = await Promise.all([
    read(settings.caFile, 'CA file', 'mqttCafile'),
    readCaDirectory(settings.caDir),
    read(settings.certFile, 'cert', 'mqttCert'),
    read(settings.keyFile, 'key', 'mqttKey'),
  ]);
  const ca = [...(caFile ? [caFile] : []), ...caDir];
  return { ...(ca.length > 0 && { ca }), ...(cert && { cert }), ...(key && { key }) };
}

/**
 * Every certificate in the directory, as thin-edge's ca_dir and mosquitto's capath trust them: each readable file
 * holding a PEM certificate (OpenSSL's hash links lead to the same files, so reading them too does no harm).
 */
async function readCaDirectory(dir: string | undefined): Promise<Buffer[]> {
  if (!dir) return [];
  const unusable = (why: string) =>
    new C8yTokenError('usage', `cannot read the MQTT CA directory ${dir}: ${why}`, {
      hint: 'check the path, and mqtt.client.auth.ca_dir in `tedge config list`',
    });
  const names = await readdir(dir).catch((error: unknown) => {
    throw unusable(describeSystemError(error));
  });
  const files = await Promise.all(names.map((name) => readFile(join(dir, name)).catch(() => undefined)));
  const certificates = files.filter((file) => file?.includes('-----BEGIN CERTIFICATE-----')) as Buffer[];
  if (certificates.length === 0) throw unusable('it holds no PEM certificate');
  return certificates;
}

/** `user`: the user name the client logged in with, if any, so that a refused login names it. */
export function connectError(broker: string, error: Error | undefined, user?: string): C8yTokenError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const detail = error?.message;
  const make = (message: string, hint: string | Wording) =>
    new C8yTokenError('connect', message, { hint, ...(detail && { detail }) });
  switch (code) {
    case 'ECONNREFUSED':
      return make(
        `could not connect to the MQTT broker at ${broker} (connection refused)`,
        'is mosquitto running (`systemctl status mosquitto`)? check mqtt.client.host and mqtt.client.port in `tedge config list`',
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make(
        `could not resolve the MQTT broker host in ${broker}`,
        wording`check {mqttHost} or mqtt.client.host in \`tedge config list\``,
      );
    default:
      break;
  }
  if (detail && /connack timeout/i.test(detail)) {
    return make(
      `the MQTT broker at ${broker} did not accept the connection in time`,
      'is the broker overloaded, or is a firewall dropping packets?',
    );
  }
  if (user !== undefined && detail && /not authorized|bad user ?name or password/i.test(detail)) {
    return make(
      `the MQTT broker at ${broker} refused the credentials of user '${user}'`,
      wording`check mqtt.client.auth.username and the first line of mqtt.client.auth.password_file (or {mqttUsername}, {mqttPasswordFile}) against the broker's password file`,
    );
  }
  if (detail && /not authorized|bad user ?name or password/i.test(detail)) {
    return make(
      `the MQTT broker at ${broker} refused the connection: ${detail}`,
      wording`the broker may want a user name and password: set mqtt.client.auth.username and mqtt.client.auth.password_file (or {mqttUsername}, {mqttPasswordFile}); or check the client certificate ({mqttCert}, {mqttKey})`,
    );
  }
  if (detail && /identifier rejected/i.test(detail)) {
    return make(
      `the MQTT broker at ${broker} refused the connection: ${detail}`,
      wording`check the client certificate ({mqttCert}, {mqttKey})`,
    );
  }
  if (code?.startsWith('ERR_TLS') || code?.startsWith('ERR_SSL') || /certificate|ssl|tls/i.test(detail ?? '')) {
    return make(
      `TLS connection to the MQTT broker at ${broker} failed: ${detail}`,
      wording`check {mqttCafile}, {mqttCert} and {mqttKey}`,
    );
  }
  return make(
    `could not connect to the MQTT broker at ${broker}${detail ? `: ${detail}` : ''}`,
    'is mosquitto running, and are host and port right?',
  );
}
