import type { BrokerSettings } from '../settings/resolve.ts';
import { DEFAULT_REPUBLISH_MS, DEFAULT_TIMEOUT_MS } from '../defaults.ts';
import { abortError, C8yTokenError, throwIfAborted } from '../errors.ts';
import { brokerClientFactory, brokerClientOptions, connectError } from '../mqtt/broker-connection.ts';
import { formatSeconds } from '../duration.ts';
import type { DeviceToken } from './claims.ts';
import { BridgeHealth, bridgeDownError } from './bridge-health.ts';
import type { IssuerPolicy } from './issuer.ts';
import { Replies } from './replies.ts';

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

    const user = clientOptions.username === undefined ? '' : `, user '${clientOptions.username}'`;
    log(`connecting to ${clientOptions.protocol}://${broker} as ${clientOptions.clientId}${user}`);
    const client = openClient();

    const health = new BridgeHealth(settings.topicPrefix);
    const replies = new Replies(replyTopic, options, log);
    let sameToken: NodeJS.Timeout | undefined;

    const deadline = setTimeout(() => {
      const waited = formatSeconds(timeoutMs);
      if (!client.connected) return finish(noReplyError(waited, lostConnection(broker)));
      const down = health.down;
      finish(
        down
          ? bridgeDownError(down, waited)
          : (replies.refusalError(timeoutMs) ?? noReplyError(waited, `no usable reply on ${replyTopic}`)),
      );
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
      const verdict = replies.judge(payload, retained);
      if (verdict && 'take' in verdict) {
        log(`token received after ${Date.now() - started} ms`);
        finish(verdict.take);
      } else if (verdict) {
        sameToken ??= setTimeout(() => {
          log('the bridge gave back the token the tenant refused, and no other');
          finish(verdict.same);
        }, SAME_TOKEN_GRACE_MS);
      }
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
