import type { BrokerSettings } from '../settings/resolve.ts';
import { DEFAULT_REPUBLISH_MS, DEFAULT_TIMEOUT_MS } from '../defaults.ts';
import { abortError, C8yTokenError, throwIfAborted } from '../errors.ts';
import { brokerClientFactory, brokerClientOptions, connectError } from '../mqtt/broker-connection.ts';
import { formatSeconds } from '../duration.ts';
import { isoTime, type DeviceToken } from './claims.ts';
import { describeClockOffset, TIME_SYNC_HINT } from './clock.ts';
import { parseReply } from './reply.ts';

export interface RequestOptions {
  /** Give up (kind 'timeout') when no usable token has arrived after this long. */
  timeoutMs?: number;
  /** Ask again this often while waiting: the cloud may drop a request. */
  republishMs?: number;
  /** Give up (kind 'connect') when the broker has not accepted the connection after this long. */
  connectTimeoutMs?: number;
  /** A token not to accept: one the tenant has just refused. */
  exclude?: string;
  /** Aborting it stops the wait at once; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Receives one line per step and per ignored message, for --verbose. Never receives the token. */
  log?: (line: string) => void;
}

const MAX_CONNECT_TIMEOUT_MS = 10_000;
const RECONNECT_DELAY_MS = 500;

/**
 * Asks the cloud bridge for a device token: subscribes to `<prefix>/s/dat`, then publishes an empty
 * message to `<prefix>/s/uat`, and resolves with the first usable `71,<JWT>` reply.
 */
export async function requestToken(settings: BrokerSettings, options: RequestOptions = {}): Promise<DeviceToken> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const republishMs = options.republishMs ?? DEFAULT_REPUBLISH_MS;
  const log = options.log ?? (() => {});
  const broker = `${settings.host}:${settings.port}`;
  const requestTopic = `${settings.topicPrefix}/s/uat`;
  const replyTopic = `${settings.topicPrefix}/s/dat`;
  const clientOptions = await brokerClientOptions(
    settings,
    Math.min(options.connectTimeoutMs ?? MAX_CONNECT_TIMEOUT_MS, timeoutMs),
  );
  const openClient = await brokerClientFactory(clientOptions);
  throwIfAborted(options.signal);

  return new Promise<DeviceToken>((resolve, reject) => {
    const started = Date.now();
    let everConnected = false;
    let finished = false;
    let lastError: Error | undefined;
    let republishTimer: NodeJS.Timeout | undefined;
    let reconnectTimer: NodeJS.Timeout | undefined;
    // Replies that were not usable: how many, and the issue times of those refused only as expired by the device clock.
    let refused = 0;
    const expiredIssuedAt: number[] = [];

    log(`connecting to ${clientOptions.protocol}://${broker} as ${clientOptions.clientId}`);
    const client = openClient();

    const deadline = setTimeout(() => {
      if (client.connected && expiredIssuedAt.length > 0 && expiredIssuedAt.length === refused) {
        finish(clockAheadError(timeoutMs, expiredIssuedAt));
        return;
      }
      const why = client.connected
        ? `no usable reply on ${replyTopic}`
        : `the connection to the broker at ${broker} was lost and could not be restored`;
      finish(
        new C8yTokenError('timeout', `no token received within ${formatSeconds(timeoutMs)} (${why})`, {
          hint:
            'check that tedge-mapper-c8y is running and connected (`tedge connect c8y --test`) ' +
            'and that the device uses certificate authentication (a basic-auth device gets no token)',
        }),
      );
    }, timeoutMs);

    const onAbort = () => finish(abortError(options.signal!));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (outcome: DeviceToken | C8yTokenError) => {
      if (finished) return;
      finished = true;
      options.signal?.removeEventListener('abort', onAbort);
      clearTimeout(deadline);
      clearInterval(republishTimer);
      clearTimeout(reconnectTimer);
      // Only our own listener: mqtt.js's own 'close' listener clears its CONNACK timer, which would otherwise keep the
      // process alive for up to the connect timeout after a Ctrl-C or --timeout while connecting.
      client.off('close', onClose);
      client.end(!client.connected, () => (outcome instanceof C8yTokenError ? reject(outcome) : resolve(outcome)));
    };

    const askForToken = () => {
      log(`publishing request to ${requestTopic}`);
      client.publish(requestTopic, '', { qos: 0 });
    };

    client.on('connect', () => {
      everConnected = true;
      log(`connected after ${Date.now() - started} ms; subscribing to ${replyTopic}`);
      client.subscribe(replyTopic, { qos: 0 }, (error, granted) => {
        if (finished) return;
        if (error || granted?.[0]?.qos === 128) {
          finish(
            new C8yTokenError('connect', `the broker at ${broker} refused the subscription to ${replyTopic}`, {
              hint: "check the broker's access control for this client",
            }),
          );
          return;
        }
        askForToken();
        clearInterval(republishTimer);
        republishTimer = setInterval(askForToken, republishMs);
      });
    });

    client.on('message', (topic, payload, packet) => {
      if (topic !== replyTopic) return;
      const reply = parseReply(payload, packet.retain);
      if ('token' in reply && reply.token.token === options.exclude) {
        log(`ignored a message on ${replyTopic}: the token the tenant has just refused`);
      } else if ('token' in reply) {
        log(`token received after ${Date.now() - started} ms`);
        finish(reply.token);
      } else {
        log(`ignored a message on ${replyTopic}: ${reply.ignored}`);
        if (packet.retain) return;
        refused++;
        if (reply.expiredIssuedAt !== undefined) expiredIssuedAt.push(reply.expiredIssuedAt);
      }
    });

    client.on('error', (error) => {
      lastError = error;
      log(`broker connection error: ${error.message}`);
    });

    const onClose = () => {
      clearInterval(republishTimer);
      if (!everConnected) {
        finish(connectError(broker, lastError));
        return;
      }
      log(`connection to ${broker} lost; reconnecting`);
      clearTimeout(reconnectTimer);
      reconnectTimer = setTimeout(() => client.reconnect(), RECONNECT_DELAY_MS);
    };
    client.on('close', onClose);
  });
}

/**
 * Every reply was a token that had expired by the device's clock although it was valid when issued: rather than stale
 * messages, a device clock that is ahead of the tenant's by more than the tokens' lifetime.
 */
function clockAheadError(timeoutMs: number, issuedAt: number[]): C8yTokenError {
  const now = Date.now();
  const latest = Math.max(...issuedAt);
  const times = [...new Set(issuedAt)].sort((a, b) => a - b).map(isoTime);
  const shown = times.length > 3 ? [...times.slice(0, 2), '…', times.at(-1)!] : times;
  return new C8yTokenError(
    'timeout',
    `no token received within ${formatSeconds(timeoutMs)}: every reply was a token that had expired by the device's ` +
      `clock (${new Date(now).toISOString()}), issued at ${shown.join(', ')}; ` +
      `the device clock may be ${describeClockOffset(latest * 1000 - now)} the tenant's`,
    { hint: TIME_SYNC_HINT },
  );
}
