import { usageError } from '../errors.ts';
import { parsePort } from '../whole-number.ts';

/** Where a setting's value came from: the precedence is flag > env > tedge > default. */
export type SettingSource = 'flag' | 'env' | 'tedge' | 'default';

/** How to reach the local broker and which bridge topics to use. */
export interface BrokerSettings {
  host: string;
  port: number;
  /** CA file: when set, the broker is reached over TLS. */
  caFile: string | undefined;
  certFile: string | undefined;
  keyFile: string | undefined;
  /** Bridge topic prefix: the token is asked on `<prefix>/s/uat` and answered on `<prefix>/s/dat`. */
  topicPrefix: string;
}

export interface ResolvedSettings extends BrokerSettings {
  sources: Record<keyof BrokerSettings, SettingSource>;
}

/** What the command line (or a Node program) sets explicitly; anything left out is looked up. */
export interface SettingsInput {
  mqttHost?: string | undefined;
  mqttPort?: number | undefined;
  mqttCafile?: string | undefined;
  mqttCert?: string | undefined;
  mqttKey?: string | undefined;
  topicPrefix?: string | undefined;
  /** thin-edge cloud profile: its own bridge topic prefix is used. */
  profile?: string | undefined;
  /** thin-edge configuration directory (default: $TEDGE_CONFIG_DIR, else thin-edge's own default). */
  configDir?: string | undefined;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Reads thin-edge's effective settings as `key=value` pairs; undefined when thin-edge is not installed. */
  readTedgeConfig?: (configDir: string | undefined) => Promise<Map<string, string> | undefined>;
}

type Key = keyof BrokerSettings;

const DEFAULTS: Omit<BrokerSettings, 'port'> & { port: number } = {
  host: '127.0.0.1',
  port: 1883,
  caFile: undefined,
  certFile: undefined,
  keyFile: undefined,
  topicPrefix: 'c8y',
};

const ENV_NAMES: Partial<Record<Key, string>> = {
  host: 'TEDGE_MQTT_CLIENT_HOST',
  port: 'TEDGE_MQTT_CLIENT_PORT',
  caFile: 'TEDGE_MQTT_CLIENT_AUTH_CA_FILE',
  certFile: 'TEDGE_MQTT_CLIENT_AUTH_CERT_FILE',
  keyFile: 'TEDGE_MQTT_CLIENT_AUTH_KEY_FILE',
  topicPrefix: 'TEDGE_C8Y_BRIDGE_TOPIC_PREFIX',
};

function tedgeKey(key: Key, profile: string | undefined): string {
  switch (key) {
    case 'host':
      return 'mqtt.client.host';
    case 'port':
      return 'mqtt.client.port';
    case 'caFile':
      return 'mqtt.client.auth.ca_file';
    case 'certFile':
      return 'mqtt.client.auth.cert_file';
    case 'keyFile':
      return 'mqtt.client.auth.key_file';
    case 'topicPrefix':
      return profile ? `c8y.profiles.${profile}.bridge.topic_prefix` : 'c8y.bridge.topic_prefix';
  }
}

/**
 * Resolves the broker settings: flags, then environment (thin-edge's own TEDGE_* overrides),
 * then thin-edge's configuration, then defaults that match a standard thin-edge install.
 */
export async function resolveSettings(
  input: SettingsInput = {},
  options: ResolveOptions = {},
): Promise<ResolvedSettings> {
  const env = options.env ?? process.env;
  const flags: Partial<Record<Key, string | number | undefined>> = {
    host: input.mqttHost,
    port: input.mqttPort,
    caFile: input.mqttCafile,
    certFile: input.mqttCert,
    keyFile: input.mqttKey,
    topicPrefix: input.topicPrefix,
  };
  const keys = Object.keys(DEFAULTS) as Key[];
  // A profile's prefix lives only in thin-edge's configuration, so the generic env override does not apply to it.
  const envValue = (key: Key) =>
    input.profile && key === 'topicPrefix' ? undefined : nonEmpty(env[ENV_NAMES[key] ?? '']);
  const needsTedge = keys.some((key) => flags[key] === undefined && envValue(key) === undefined);
  const readTedge = options.readTedgeConfig ?? readTedgeConfig;
  const tedge = needsTedge ? await readTedge(input.configDir ?? nonEmpty(env.TEDGE_CONFIG_DIR)) : undefined;

  if (input.profile && flags.topicPrefix === undefined && !tedge?.get(tedgeKey('topicPrefix', input.profile))) {
    throw usageError(
      `cloud profile '${input.profile}' has no bridge topic prefix`,
      `check \`tedge config get c8y.bridge.topic_prefix --profile ${input.profile}\`, or pass --topic-prefix`,
    );
  }

  const settings = { sources: {} } as ResolvedSettings;
  for (const key of keys) {
    const candidates: Array<[SettingSource, string | number | undefined]> = [
      ['flag', flags[key]],
      ['env', envValue(key)],
      ['tedge', nonEmpty(tedge?.get(tedgeKey(key, input.profile)))],
    ];
    const [source, value] = candidates.find(([, v]) => v !== undefined) ?? ['default', DEFAULTS[key]];
    settings.sources[key] = source;
    if (key === 'port') {
      settings.port = typeof value === 'number' ? value : parsePort(String(value), portOrigin(source));
    } else {
      (settings as unknown as Record<string, string | undefined>)[key] = value as string | undefined;
    }
  }
  assertTopicPrefix(settings.topicPrefix, settings.sources.topicPrefix, input.profile);
  return settings;
}

/** The prefix becomes part of a topic published to: a wildcard there makes the broker drop the connection. */
function assertTopicPrefix(prefix: string, source: SettingSource, profile: string | undefined): void {
  if (prefix !== '' && !/[+#\0]/.test(prefix)) return;
  const origin =
    source === 'env'
      ? ENV_NAMES.topicPrefix!
      : source === 'tedge'
        ? `tedge config ${tedgeKey('topicPrefix', profile)}`
        : '--topic-prefix';
  throw usageError(
    `${origin}: '${prefix}' is not a bridge topic prefix`,
    'use the prefix of the bridge topics, e.g. c8y; it cannot be empty or hold an MQTT wildcard (+, #)',
  );
}

function portOrigin(source: SettingSource): string {
  return source === 'env' ? ENV_NAMES.port! : source === 'tedge' ? 'tedge config mqtt.client.port' : '--mqtt-port';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * One `tedge config list` call (`command`: the tedge executable, default found on PATH); resolves undefined when
 * thin-edge is not installed or cannot answer.
 */
export async function readTedgeConfig(
  configDir: string | undefined,
  command = 'tedge',
): Promise<Map<string, string> | undefined> {
  // Loaded here: a call that finds thin-edge's settings remembered never spawns anything.
  const { execFile } = await import('node:child_process');
  const args = configDir ? ['--config-dir', configDir, 'config', 'list'] : ['config', 'list'];
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 5000, encoding: 'utf8' }, (error, stdout) => {
      resolve(error ? undefined : parseTedgeConfigList(stdout));
    });
  });
}

export function parseTedgeConfigList(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return values;
}
