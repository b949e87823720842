import { C8yTokenError } from '../errors.ts';
import { printable } from './reply.ts';

/**
 * thin-edge's two cloud bridges, and where each reports its health, retained: the built-in one (the default since 2.0)
 * publishes `{"status":"up"}` / `{"status":"down"}`, mosquitto's own bridge (the 1.x default) makes mosquitto publish
 * `1` / `0`. A request published while the bridge is down is lost: the waiting follows these topics.
 */
export type BridgeKind = 'built-in' | 'mosquitto';

export interface HealthTopic {
  kind: BridgeKind;
  /** The service name thin-edge gives the bridge, e.g. `mosquitto-c8y-bridge`. */
  service: string;
  topic: string;
}

export function bridgeHealthTopics(topicPrefix: string): HealthTopic[] {
  const bridge = (kind: BridgeKind, service: string): HealthTopic => ({
    kind,
    service,
    topic: `te/device/main/service/${service}/status/health`,
  });
  return [
    bridge('built-in', `tedge-mapper-bridge-${topicPrefix}`),
    bridge('mosquitto', `mosquitto-${topicPrefix}-bridge`),
  ];
}

/** One health message read: up or not, with the status as the bridge put it; or why it says nothing. */
export type HealthReport = { up: boolean; status: string } | { unreadable: string };

export function parseHealth(payload: Uint8Array | string): HealthReport {
  const text = (typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8')).trim();
  if (text === '1' || text === '0') return { up: text === '1', status: text === '1' ? 'up' : 'down' };
  let status: unknown;
  try {
    status = (JSON.parse(text) as { status?: unknown } | null)?.status;
  } catch {
    return { unreadable: 'neither JSON nor 1 or 0' };
  }
  if (typeof status !== 'string') return { unreadable: 'JSON without a "status" string' };
  return { up: status === 'up', status: printable(status) };
}

/** What is known of a bridge: its last status, and since when (`retained`: it was already so when we subscribed). */
export interface BridgeState {
  bridge: HealthTopic;
  up: boolean;
  status: string;
  since: Date;
  retained: boolean;
}

/**
 * The bridges' health as their messages come in. The cloud counts as down only while a bridge has said so and none
 * says it is up: a device moved from one bridge kind to the other may keep the old one's last word, retained.
 */
export class BridgeHealth {
  readonly topics: HealthTopic[];
  /** The last message on a topic that said nothing readable, by topic: why. */
  readonly unreadable = new Map<string, string>();
  private readonly states = new Map<string, BridgeState>();

  constructor(topicPrefix: string) {
    this.topics = bridgeHealthTopics(topicPrefix);
  }

  /** Takes in a message if it is on a health topic; returns a line for --verbose, undefined for other topics. */
  update(topic: string, payload: Uint8Array, retained: boolean, now = new Date()): string | undefined {
    const bridge = this.topics.find((candidate) => candidate.topic === topic);
    if (!bridge) return undefined;
    if (payload.length === 0) {
      this.states.delete(topic);
      return `the cloud bridge ${bridge.service} no longer reports its health`;
    }
    const report = parseHealth(payload);
    if ('unreadable' in report) {
      this.unreadable.set(topic, report.unreadable);
      return `ignored a health message on ${topic}: ${report.unreadable}`;
    }
    this.unreadable.delete(topic);
    const previous = this.states.get(topic);
    if (previous?.up !== report.up || previous.status !== report.status) {
      this.states.set(topic, { bridge, ...report, since: now, retained });
    }
    return `the cloud bridge ${bridge.service} reports ${report.status}${retained ? ' (retained)' : ''}`;
  }

  /** What each bridge that has reported says. */
  get reports(): BridgeState[] {
    return [...this.states.values()];
  }

  /** The bridge that says the cloud is down (the latest to say so), or undefined when none does or one is up. */
  get down(): BridgeState | undefined {
    const states = [...this.states.values()];
    if (states.length === 0 || states.some((state) => state.up)) return undefined;
    return states.reduce((latest, state) => (state.since > latest.since ? state : latest));
  }
}

/** "the cloud bridge mosquitto-c8y-bridge has reported down since 08:12:03", in the device's local time. */
export function describeDown(state: BridgeState): string {
  const time = state.since.toTimeString().slice(0, 8);
  return `the cloud bridge ${state.bridge.service} has reported ${state.status} since ${state.retained ? 'before ' : ''}${time}`;
}

/** What to check when a bridge of this kind is down. */
export function bridgeDownHint(kind: BridgeKind): string {
  return kind === 'mosquitto'
    ? "mosquitto's bridge cannot reach Cumulocity: check the network to the tenant, `journalctl -u mosquitto` and " +
        '`tedge connect c8y --test`'
    : "tedge-mapper-c8y's built-in bridge cannot reach Cumulocity: check the network to the tenant, " +
        '`journalctl -u tedge-mapper-c8y` and `tedge connect c8y --test`';
}

export function bridgeDownError(state: BridgeState, waited: string): C8yTokenError {
  return new C8yTokenError('timeout', `no token received within ${waited}: ${describeDown(state)}`, {
    hint: bridgeDownHint(state.bridge.kind),
  });
}
