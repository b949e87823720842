import type { BrokerSettings } from '../settings/resolve.ts';
import { DEFAULT_REPUBLISH_MS, DEFAULT_TIMEOUT_MS } from '../defaults.ts';
import { abortError, C8yTokenError, throwIfAborted } from '../errors.ts';
import type { MqttClient } from 'mqtt';
import {
  brokerClientFactory,
  brokerClientOptions,
  connectError,
  type BrokerClientOptions,
} from '../mqtt/broker-connection.ts';
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
  const clientOptions = await brokerClientOptions(
    settings,
    Math.min(options.connectTimeoutMs ?? MAX_CONNECT_TIMEOUT_MS, timeoutMs),
  );
  const openClient = await brokerClientFactory(clientOptions);
  throwIfAborted(options.signal);
  return new Promise<DeviceToken>((resolve, reject) => {
    const settle = (outcome: DeviceToken | C8yTokenError) =>
      outcome instanceof C8yTokenError ? reject(outcome) : resolve(outcome);
    new TokenWait(settings, clientOptions, { ...options, timeoutMs }, settle).start(openClient);
  });
}

/** One wait for a token over one broker connection, from connecting to the reply (or the deadline, or an abort). */
class TokenWait {
  private readonly started = Date.now();
  private readonly log: (line: string) => void;
  private readonly broker: string;
  private readonly requestTopic: string;
  private readonly replyTopic: string;
  private readonly health: BridgeHealth;
  private readonly replies: Replies;
  private client!: MqttClient;
  private everConnected = false;
  private finished = false;
  private lastError: Error | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private republishTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private sameToken: NodeJS.Timeout | undefined;

  constructor(
    settings: BrokerSettings,
    private readonly clientOptions: BrokerClientOptions,
    private readonly options: RequestOptions & { timeoutMs: number },
    private readonly settle: (outcome: DeviceToken | C8yTokenError) => void,
  ) {
    this.log = options.log ?? (() => {});
    this.broker = `${settings.host}:${settings.port}`;
    this.requestTopic = `${settings.topicPrefix}/s/uat`;
    this.replyTopic = `${settings.topicPrefix}/s/dat`;
    this.health = new BridgeHealth(settings.topicPrefix);
    this.replies = new Replies(this.replyTopic, options, this.log);
  }

  start(openClient: () => MqttClient): void {
    const { clientOptions } = this;
    const user = clientOptions.username === undefined ? '' : `, user '${clientOptions.username}'`;
    this.log(`connecting to ${clientOptions.protocol}://${this.broker} as ${clientOptions.clientId}${user}`);
    const client = openClient();
    this.client = client;
    this.deadline = setTimeout(() => this.finish(this.timeoutError()), this.options.timeoutMs);
    this.options.signal?.addEventListener('abort', this.onAbort, { once: true });
    client.on('connect', () => this.onConnect());
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    client.on('error', (error) => {
      this.lastError = error;
      this.log(`broker connection error: ${error.message}`);
    });
    client.on('close', this.onClose);
  }

  /** Why no token came in time: the broker, the bridge, refused tokens, or silence. */
  private timeoutError(): C8yTokenError {
    const waited = formatSeconds(this.options.timeoutMs);
    if (!this.client.connected) return noReplyError(waited, lostConnection(this.broker));
    const down = this.health.down;
    if (down) return bridgeDownError(down, waited);
    return (
      this.replies.refusalError(this.options.timeoutMs) ?? noReplyError(waited, `no usable reply on ${this.replyTopic}`)
    );
  }

  private readonly onAbort = () => this.finish(abortError(this.options.signal!));

  private finish(outcome: DeviceToken | C8yTokenError): void {
    if (this.finished) return;
    this.finished = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    clearTimeout(this.deadline);
    clearTimeout(this.sameToken);
    clearInterval(this.republishTimer);
    clearTimeout(this.reconnectTimer);
    // Only our own listener: mqtt.js's own 'close' listener clears its CONNACK timer, which would otherwise keep the
    // process alive for up to the connect timeout after a Ctrl-C or the timeout while connecting.
    this.client.off('close', this.onClose);
    this.client.end(!this.client.connected, () => this.settle(outcome));
  }

  private askForToken(): void {
    if (this.health.down) return;
    this.log(`publishing request to ${this.requestTopic}`);
    this.client.publish(this.requestTopic, '', { qos: 0 });
  }

  private startAsking(): void {
    this.askForToken();
    clearInterval(this.republishTimer);
    this.republishTimer = setInterval(() => this.askForToken(), this.options.republishMs ?? DEFAULT_REPUBLISH_MS);
  }

  private onConnect(): void {
    this.everConnected = true;
    const { replyTopic } = this;
    this.log(`connected after ${Date.now() - this.started} ms; subscribing to ${replyTopic} and the bridge health`);
    const topics = [replyTopic, ...this.health.topics.map((bridge) => bridge.topic)];
    this.client.subscribe(topics, { qos: 0 }, (error, granted) => {
      if (this.finished) return;
      if (error || granted?.[0]?.qos === 128) {
        this.finish(
          new C8yTokenError('connect', `the broker at ${this.broker} refused the subscription to ${replyTopic}`, {
            hint: "check the broker's access control for this client",
          }),
        );
        return;
      }
      this.startAsking();
    });
  }

  private onMessage(topic: string, payload: Uint8Array, retained: boolean): void {
    if (topic === this.replyTopic) {
      this.onReply(payload, retained);
      return;
    }
    const wasDown = this.health.down !== undefined;
    const line = this.health.update(topic, payload, retained);
    if (line) this.log(line);
    if (!wasDown && this.health.down) this.log('not asking for a token until the cloud bridge reports up');
    if (wasDown && !this.health.down) this.startAsking();
  }

  private onReply(payload: Uint8Array, retained: boolean): void {
    const verdict = this.replies.judge(payload, retained);
    if (verdict && 'take' in verdict) {
      this.log(`token received after ${Date.now() - this.started} ms`);
      this.finish(verdict.take);
    } else if (verdict) {
      this.sameToken ??= setTimeout(() => {
        this.log('the bridge gave back the token the tenant refused, and no other');
        this.finish(verdict.same);
      }, SAME_TOKEN_GRACE_MS);
    }
  }

  private readonly onClose = () => {
    clearInterval(this.republishTimer);
    if (!this.everConnected) {
      this.finish(connectError(this.broker, this.lastError, this.clientOptions.username));
      return;
    }
    this.log(`connection to ${this.broker} lost; reconnecting`);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.client.reconnect(), RECONNECT_DELAY_MS);
  };
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
