import { createHmac, randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Broker } from './broker.ts';

export const TENANT_HOST = 't12345.eu-latest.cumulocity.com';

export interface TokenShape {
  /** Claims to add or override; `undefined` removes a claim. */
  claims?: Record<string, unknown>;
  /** Seconds from now until `exp`. */
  lifetimeS?: number;
  /** How far the tenant's clock is ahead of this machine's (negative: behind), in ms: shifts iat, nbf and exp. */
  clockOffsetMs?: number;
}

export interface BridgeOptions {
  topicPrefix?: string;
  /**
   * Answer on Cumulocity's own topics, `s/uat` and `s/dat`, as the tenant's MQTT endpoint does: for a cloud broker
   * that a real mosquitto bridge connects to. `topicPrefix` is then only the name of the bridge's health topic.
   */
  cumulocity?: boolean;
  /** Delay before each answer: the round trip through the cloud. */
  latencyMs?: number;
  /** Answer nothing (the cloud connection is down). */
  silent?: boolean;
  /** Leave this many requests unanswered before answering (a lost request). */
  dropFirst?: number;
  /** Raw payloads sent, in order, before the first real answer. */
  junkFirst?: Array<string | Buffer>;
  /** Shape of the tokens issued; its clockOffsetMs shifts the tenant's clock as seen by the device. */
  token?: TokenShape;
  /** Send the previous token again before each new one, as a cloud may while the old one is still valid. */
  resendPrevious?: boolean;
  /** Answer every request with the first token issued, and only with it. */
  repeatFirst?: boolean;
}

/** A stand-in for thin-edge's cloud bridge: answers `<prefix>/s/uat` with `71,<JWT>` on `<prefix>/s/dat`. */
export interface Bridge {
  /** Requests seen on `<prefix>/s/uat`. */
  readonly requests: number;
  /** Tokens sent so far, newest last. */
  readonly issued: string[];
  /** Publishes a retained message on `<prefix>/s/dat`, as a stale token left on a real broker. */
  retain(payload: string): Promise<void>;
  /**
   * Reports the health of thin-edge's built-in bridge as it does, retained on its health topic: 'down' also makes the
   * bridge answer nothing (a request sent meanwhile is lost), 'up' answers again. Any other payload is sent as is.
   */
  report(health: 'up' | 'down' | string): Promise<void>;
  options: BridgeOptions;
  stop(): Promise<void>;
}

const secret = randomBytes(32);

/** Signs a JWT shaped like Cumulocity's device tokens. */
export async function signToken(shape: TokenShape = {}): Promise<string> {
  const now = Math.floor((Date.now() + (shape.clockOffsetMs ?? 0)) / 1000);
  const claims: Record<string, unknown> = {
    iss: TENANT_HOST,
    aud: TENANT_HOST,
    sub: 'device_rpi4-d83add90fe56',
    ten: 't12345',
    iat: now,
    nbf: now,
    exp: now + (shape.lifetimeS ?? 3600),
    tci: randomBytes(16).toString('hex'),
    xsrfToken: randomBytes(8).toString('hex'),
    ...shape.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  const signed = `${base64url({ alg: 'HS256' })}.${base64url(claims)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

/** The claims of a token signed here, read independently of the code under test. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

function base64url(json: unknown): string {
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

/** Where thin-edge's built-in bridge (the default since 2.0) reports its health. */
export function builtInHealthTopic(prefix: string): string {
  return `te/device/main/service/tedge-mapper-bridge-${prefix}/status/health`;
}

export async function startBridge(broker: Broker, options: BridgeOptions = {}): Promise<Bridge> {
  const prefix = options.topicPrefix ?? 'c8y';
  const requestTopic = options.cumulocity ? 's/uat' : `${prefix}/s/uat`;
  const replyTopic = options.cumulocity ? 's/dat' : `${prefix}/s/dat`;
  const client: MqttClient = await mqtt.connectAsync({
    host: broker.host,
    port: broker.port,
    protocolVersion: 4,
    reconnectPeriod: 200,
    clientId: `bridge-${randomBytes(4).toString('hex')}`,
    ...broker.login,
  });
  const subscribe = () => client.subscribeAsync(requestTopic, { qos: 0 });
  await subscribe();
  client.on('connect', () => void subscribe());

  const issued: string[] = [];
  let requests = 0;
  let junkSent = false;

  const answer = async () => {
    const bridge = state.options;
    if (bridge.silent || requests <= (bridge.dropFirst ?? 0)) return;
    if (bridge.latencyMs) await new Promise((resolve) => setTimeout(resolve, bridge.latencyMs));
    if (!junkSent) {
      junkSent = true;
      for (const junk of bridge.junkFirst ?? []) await client.publishAsync(replyTopic, junk, { qos: 0 });
    }
    const previous = issued.at(-1);
    if (bridge.resendPrevious && previous) await client.publishAsync(replyTopic, `71,${previous}`, { qos: 0 });
    const token = (bridge.repeatFirst && issued[0]) || (await signToken(bridge.token));
    issued.push(token);
    await client.publishAsync(replyTopic, `71,${token}`, { qos: 0 });
  };

  client.on('message', (topic) => {
    if (topic !== requestTopic) return;
    requests++;
    answer().catch(() => {});
  });

  const state: Bridge = {
    get requests() {
      return requests;
    },
    issued,
    options,
    async retain(payload) {
      await client.publishAsync(replyTopic, payload, { qos: 1, retain: true });
    },
    async report(health) {
      if (health === 'up' || health === 'down') state.options.silent = health === 'down';
      const payload = health === 'up' || health === 'down' ? JSON.stringify({ status: health }) : health;
      await client.publishAsync(builtInHealthTopic(prefix), payload, { qos: 1, retain: true });
    },
    async stop() {
      await client.endAsync(true);
    },
  };
  return state;
}
