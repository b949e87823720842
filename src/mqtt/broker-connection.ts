import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IClientOptions } from 'mqtt';
import type { BrokerSettings } from '../config.ts';
import { C8yTokenError } from '../errors.ts';

/**
 * mqtt.js, loaded on first use so that commands which never reach the broker do not pay for it. mqtt is CommonJS:
 * its default export (module.exports) is what both Node and the CLI bundle's lazy chunk provide; a code-split chunk
 * has no named exports.
 */
export async function loadMqtt(): Promise<typeof import('mqtt').default> {
  return (await import('mqtt')).default;
}

/**
 * mqtt.js options for one short-lived session with the local broker: MQTT 3.1.1, clean session, a random client id,
 * TLS when a CA file is configured, and no automatic reconnect (callers decide, bounded by their own deadline).
 */
export async function brokerClientOptions(
  settings: BrokerSettings,
  connectTimeoutMs: number,
  clientIdPrefix = 'c8y-token',
): Promise<IClientOptions> {
  return {
    host: settings.host,
    port: settings.port,
    protocol: settings.caFile ? 'mqtts' : 'mqtt',
    protocolVersion: 4,
    clientId: `${clientIdPrefix}-${randomBytes(6).toString('hex')}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: connectTimeoutMs,
    keepalive: 30,
    ...(await readTlsFiles(settings)),
  };
}

async function readTlsFiles(settings: BrokerSettings): Promise<Pick<IClientOptions, 'ca' | 'cert' | 'key'>> {
  const read = async (path: string | undefined, what: string) => {
    if (!path) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new C8yTokenError(
        'usage',
        `cannot read the MQTT ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        {
          hint: `check --mqtt-${what === 'CA file' ? 'cafile' : what} and mqtt.client.auth.* in \`tedge config list\``,
        },
      );
    }
  };
  const [ca, cert, key] = await Promise.all([
    read(settings.caFile, 'CA file'),
    read(settings.certFile, 'cert'),
    read(settings.keyFile, 'key'),
  ]);
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
}

export function connectError(broker: string, error: Error | undefined): C8yTokenError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const detail = error?.message;
  const make = (message: string, hint: string) =>
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
        'check --mqtt-host or mqtt.client.host in `tedge config list`',
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
  if (detail && /not authorized|bad user name or password|identifier rejected/i.test(detail)) {
    return make(
      `the MQTT broker at ${broker} refused the connection: ${detail}`,
      'check the client certificate (--mqtt-cert, --mqtt-key)',
    );
  }
  if (code?.startsWith('ERR_TLS') || code?.startsWith('ERR_SSL') || /certificate|ssl|tls/i.test(detail ?? '')) {
    return make(
      `TLS connection to the MQTT broker at ${broker} failed: ${detail}`,
      'check --mqtt-cafile, --mqtt-cert and --mqtt-key',
    );
  }
  return make(
    `could not connect to the MQTT broker at ${broker}${detail ? `: ${detail}` : ''}`,
    'is mosquitto running, and are host and port right?',
  );
}
