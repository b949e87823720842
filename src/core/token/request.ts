import type { BrokerSettings } from '../settings/resolve.ts';
import { DEFAULT_REPUBLISH_MS, DEFAULT_TIMEOUT_MS } from '../defaults.ts';
import { abortError, C8yTokenError, throwIfAborted } from '../errors.ts';
import { brokerClientFactory, brokerClientOptions, connectError } from '../mqtt/broker-connection.ts';
import { formatSeconds } from '../duration.ts';
import { isoTime, type DeviceToken } from './claims.ts';
import { describeClockOffset, TIME_SYNC_HINT } from './clock.ts';
import { BridgeHealth, bridgeDownError } from './bridge-health.ts';
import { issuerRefusal, type IssuerPolicy } from './issuer.ts';
import { parseReply } from './reply.ts';

export interface RequestOptions {
  /** Give up (kind 'timeout') when no usable token has arrived after this long. */
  timeoutMs?: number;
  /** Ask again this often while waiting: the cloud may drop a request. */
  republishMs?: number;
  /** Give up (kind 'connect') when the broker has not accepted the connection after this long. */
  connectTimeoutMs?: number;
  /**
   * A token not to accept: one the tenant has just refused. When the bridge answers with that same token and no other
   * follows at once, the wait ends with it: the caller sees that it is the one refused, and need not wait in vain.
   */
  exclude?: string;
  /** Which issuers a token may have to be taken (default: any). */
  issuer?: IssuerPolicy;
  /** Aborting it stops the wait at once; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Receives one line per step and per ignored message, for --verbose. Never receives the token. */
  log?: (line: string) => void;
}

const MAX_CONNECT_TIMEOUT_MS = 10_000;
const RECONNECT_DELAY_MS = 500;
/** A cloud may send the previous token just before a new one: both come together, well within this. */
const SAME_TOKEN_GRACE_MS = 500;

/**
 * Asks the cloud bridge for a device token: subscribes to `<prefix>/s/dat` and to the bridges' health topics, then
 * publishes an empty message to `<prefix>/s/uat`, and resolves with the first usable `71,<JWT>` reply. While a bridge
 * reports the cloud down, nothing is asked (a request would be lost); the moment it reports up, the request goes out.
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

    const user = clientOptions.username === undefined ? '' : `, user '${clientOptions.username}'`;
    log(`connecting to ${clientOptions.protocol}://${broker} as ${clientOptions.clientId}${user}`);
    const client = openClient();

    const health = new BridgeHealth(settings.topicPrefix);
    /** Issuers of the tokens refused under options.issuer, by the reason given. */
    const refusedIssuers = new Map<string, string>();
    let sameToken: NodeJS.Timeout | undefined;

    const deadline = setTimeout(() => {
      const waited = formatSeconds(timeoutMs);
      const down = client.connected ? health.down : undefined;
      if (down) finish(bridgeDownError(down, waited));
      else if (client.connected && expiredIssuedAt.length > 0 && expiredIssuedAt.length === refused) {
        finish(clockAheadError(timeoutMs, expiredIssuedAt));
      } else if (client.connected && refusedIssuers.size > 0) finish(issuerError(waited, replyTopic, refusedIssuers));
      else finish(noReplyError(waited, client.connected ? `no usable reply on ${replyTopic}` : lostConnection(broker)));
    }, timeoutMs);

    const onAbort = () => finish(abortError(options.signal!));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (outcome: DeviceToken | C8yTokenError) => {
      if (finished) return;
      finished = true;
      options.signal?.removeEventListener('abort', onAbort);
      clearTimeout(deadline);
      clearTimeout(sameToken);
      clearInterval(republishTimer);
      clearTimeout(reconnectTimer);
      // Only our own listener: mqtt.js's own 'close' listener clears its CONNACK timer, which would otherwise keep the
      // process alive for up to the connect timeout after a Ctrl-C or --timeout while connecting.
      client.off('close', onClose);
      client.end(!client.connected, () => (outcome instanceof C8yTokenError ? reject(outcome) : resolve(outcome)));
    };

    const askForToken = () => {
      if (health.down) return;
      log(`publishing request to ${requestTopic}`);
      client.publish(requestTopic, '', { qos: 0 });
    };
    const startAsking = () => {
      askForToken();
      clearInterval(republishTimer);
      republishTimer = setInterval(askForToken, republishMs);
    };

    client.on('connect', () => {
      everConnected = true;
      log(`connected after ${Date.now() - started} ms; subscribing to ${replyTopic} and the bridge health`);
      const topics = [replyTopic, ...health.topics.map((bridge) => bridge.topic)];
      client.subscribe(topics, { qos: 0 }, (error, granted) => {
        if (finished) return;
        if (error || granted?.[0]?.qos === 128) {
          finish(
            new C8yTokenError('connect', `the broker at ${broker} refused the subscription to ${replyTopic}`, {
              hint: "check the broker's access control for this client",
            }),
          );
          return;
        }
        startAsking();
      });
    });

    const onReply = (payload: Uint8Array, retained: boolean) => {
      const reply = parseReply(payload, retained);
      if (!('token' in reply)) {
        log(`ignored a message on ${replyTopic}: ${reply.ignored}`);
        if (retained) return;
        refused++;
        if (reply.expiredIssuedAt !== undefined) expiredIssuedAt.push(reply.expiredIssuedAt);
        return;
      }
      const { token } = reply;
      if (token.token === options.exclude) {
        log(`ignored a message on ${replyTopic}: the token the tenant has just refused`);
        sameToken ??= setTimeout(() => {
          log('the bridge gave back the token the tenant refused, and no other');
          finish(token);
        }, SAME_TOKEN_GRACE_MS);
        return;
      }
      const refusal = options.issuer && issuerRefusal(token, options.issuer);
      if (refusal) {
        refused++;
        refusedIssuers.set(refusal.issuer, refusal.reason);
        return log(`ignored a message on ${replyTopic}: token refused: ${refusal.reason}`);
      }
      log(`token received after ${Date.now() - started} ms`);
      finish(token);
    };

    client.on('message', (topic, payload, packet) => {
      if (topic === replyTopic) return onReply(payload, packet.retain);
      const wasDown = health.down !== undefined;
      const line = health.update(topic, payload, packet.retain);
      if (line) log(line);
      if (!wasDown && health.down) log('not asking for a token until the cloud bridge reports up');
      if (wasDown && !health.down) startAsking();
    });

    client.on('error', (error) => {
      lastError = error;
      log(`broker connection error: ${error.message}`);
    });

    const onClose = () => {
      clearInterval(republishTimer);
      if (!everConnected) {
        finish(connectError(broker, lastError, clientOptions.username));
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

function noReplyError(waited: string, why: string): C8yTokenError {
  return new C8yTokenError('timeout', `no token received within ${waited} (${why})`, {
    hint:
      'check that tedge-mapper-c8y is running and connected (`tedge connect c8y --test`) ' +
      'and that the device uses certificate authentication (a basic-auth device gets no token)',
  });
}

function lostConnection(broker: string): string {
  return `the connection to the broker at ${broker} was lost and could not be restored`;
}

/** Tokens came, but only from issuers not taken: say which, so that a device with an unusual setup learns why. */
function issuerError(waited: string, replyTopic: string, refused: Map<string, string>): C8yTokenError {
  const [issuer, reason] = [...refused][0]!;
  const others = refused.size > 1 ? ` (and ${refused.size - 1} other issuer${refused.size > 2 ? 's' : ''})` : '';
  const url = /^[a-z]+:\/\//i.test(issuer) ? issuer : `https://${issuer}`;
  return new C8yTokenError(
    'timeout',
    `no token received within ${waited}: every token was refused, ${reason}${others}`,
    {
      hint:
        `if ${issuer} is where this device's requests belong, accept its tokens with --url ${url} or C8Y_URL=${url}; ` +
        `else find out which local process publishes on ${replyTopic}`,
    },
  );
}
