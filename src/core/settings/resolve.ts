import { C8yTokenError, usageError, wording, type Wording } from '../errors.ts';
import { parsePort } from '../whole-number.ts';
import { describeSystemError } from '../system-errors.ts';

/** Where a setting's value came from: the precedence is flag > env > tedge > default. */
export type SettingSource = 'flag' | 'env' | 'tedge' | 'default';

/** How to reach the local broker and which bridge topics to use. */
export interface BrokerSettings {
  host: string;
  port: number;
  /** CA file: when set, the broker is reached over TLS. */
  caFile: string | undefined;
  /** A directory of CA certificates, every one trusted: when set, the broker is reached over TLS. */
  caDir: string | undefined;
  certFile: string | undefined;
  keyFile: string | undefined;
  /** The user name to log in to the broker with. */
  username: string | undefined;
  /** The file whose first line is the password (used only with a user name, as thin-edge does). */
  passwordFile: string | undefined;
  /** Bridge topic prefix: the token is asked on `<prefix>/s/uat` and answered on `<prefix>/s/dat`. */
  topicPrefix: string;
}

/** What thin-edge says about the cloud side, besides the bridge topic prefix. */
export interface CloudSettings {
  /**
   * thin-edge's Cumulocity URL (`c8y.url`, or the profile's `c8y.profiles.<name>.url`) as thin-edge gives it, usually
   * a bare host name: the tenant the device is connected to. Undefined when thin-edge does not say.
   */
  tenantUrl: string | undefined;
  /** The kind of cloud bridge thin-edge runs (`mqtt.bridge.built_in`); undefined when thin-edge does not say. */
  bridgeKind: 'built-in' | 'mosquitto' | undefined;
}

export interface ResolvedSettings extends BrokerSettings, CloudSettings {
  sources: Record<keyof BrokerSettings | keyof CloudSettings, SettingSource>;
}

/** What the command line (or a Node program) sets explicitly; anything left out is looked up. */
export interface SettingsInput {
  mqttHost?: string | undefined;
  mqttPort?: number | undefined;
  mqttCafile?: string | undefined;
  mqttCapath?: string | undefined;
  mqttCert?: string | undefined;
  mqttKey?: string | undefined;
  mqttUsername?: string | undefined;
  mqttPasswordFile?: string | undefined;
  topicPrefix?: string | undefined;
  /** thin-edge cloud profile (default: $TEDGE_CLOUD_PROFILE): its own bridge topic prefix and URL are used. */
  profile?: string | undefined;
  /** thin-edge configuration directory (default: $TEDGE_CONFIG_DIR, else thin-edge's own default). */
  configDir?: string | undefined;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Reads thin-edge's effective settings as `key=value` pairs; undefined when thin-edge is not installed. */
  readTedgeConfig?: (configDir: string | undefined) => Promise<Map<string, string> | undefined>;
}

type Key = keyof ResolvedSettings['sources'];

const DEFAULTS: Record<Key, string | number | undefined> = {
  host: '127.0.0.1',
  port: 1883,
  caFile: undefined,
  caDir: undefined,
  certFile: undefined,
  keyFile: undefined,
  username: undefined,
  passwordFile: undefined,
  topicPrefix: 'c8y',
  tenantUrl: undefined,
  bridgeKind: undefined,
};

/** thin-edge's key for each setting; a `c8y.` key belongs to the cloud profile when one is chosen. */
const TEDGE_KEYS: Record<Key, string> = {
  host: 'mqtt.client.host',
  port: 'mqtt.client.port',
  caFile: 'mqtt.client.auth.ca_file',
  caDir: 'mqtt.client.auth.ca_dir',
  certFile: 'mqtt.client.auth.cert_file',
  keyFile: 'mqtt.client.auth.key_file',
  username: 'mqtt.client.auth.username',
  passwordFile: 'mqtt.client.auth.password_file',
  topicPrefix: 'c8y.bridge.topic_prefix',
  tenantUrl: 'c8y.url',
  bridgeKind: 'mqtt.bridge.built_in',
};

/** The settings that only thin-edge and its environment give: no flag of ours sets them, nor asks tedge for them. */
const TEDGE_ONLY: ReadonlySet<Key> = new Set(['tenantUrl', 'bridgeKind']);

function tedgeKey(key: Key, profile: string | undefined): string {
  const name = TEDGE_KEYS[key];
  return profile && name.startsWith('c8y.') ? `c8y.profiles.${profile}.${name.slice('c8y.'.length)}` : name;
}

/** thin-edge's own environment override of a key: `TEDGE_` and the key upper-cased, `.` as `_`. */
function envName(key: Key, profile: string | undefined): string {
  return `TEDGE_${tedgeKey(key, profile).toUpperCase().replaceAll('.', '_')}`;
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
  // thin-edge lower-cases profile names, and takes the profile from its environment when none is given.
  const profile = (nonEmpty(input.profile) ?? nonEmpty(env.TEDGE_CLOUD_PROFILE))?.toLowerCase();
  const flags: Partial<Record<Key, string | number | undefined>> = {
    host: input.mqttHost,
    port: input.mqttPort,
    caFile: input.mqttCafile,
    caDir: input.mqttCapath,
    certFile: input.mqttCert,
    keyFile: input.mqttKey,
    username: input.mqttUsername,
    passwordFile: input.mqttPasswordFile,
    topicPrefix: input.topicPrefix,
  };
  const keys = Object.keys(DEFAULTS) as Key[];
  // As in thin-edge, a variable that is set but empty unsets the key: neither tedge nor its files give it then.
  const fromEnv = (key: Key) => {
    const value = env[envName(key, profile)];
    return value === undefined ? undefined : { value: nonEmpty(value) };
  };
  const needsTedge = keys.some((key) => !TEDGE_ONLY.has(key) && flags[key] === undefined && !fromEnv(key));
  const readTedge = options.readTedgeConfig ?? readTedgeConfig;
  const tedge = needsTedge ? await readTedge(input.configDir ?? nonEmpty(env.TEDGE_CONFIG_DIR)) : undefined;

  if (profile && flags.topicPrefix === undefined && !fromEnv('topicPrefix')?.value) {
    assertProfile(profile, tedge);
  }

  const settings = { sources: {} } as ResolvedSettings;
  for (const key of keys) {
    const env = fromEnv(key);
    const candidates: Array<[SettingSource, string | number | undefined]> = [
      ['flag', flags[key]],
      ['env', env ? (env.value ?? DEFAULTS[key]) : undefined],
      ['tedge', env ? undefined : nonEmpty(tedge?.get(tedgeKey(key, profile)))],
    ];
    const [source, value] = candidates.find(([, v]) => v !== undefined) ?? [env ? 'env' : 'default', DEFAULTS[key]];
    settings.sources[key] = source;
    if (key === 'port') {
      settings.port = typeof value === 'number' ? value : parsePort(String(value), origin('port', source, profile));
    } else if (key === 'bridgeKind') {
      settings.bridgeKind = value === 'true' ? 'built-in' : value === 'false' ? 'mosquitto' : undefined;
    } else {
      (settings as unknown as Record<string, string | undefined>)[key] = value as string | undefined;
    }
  }
  assertTopicPrefix(settings.topicPrefix, settings.sources.topicPrefix, profile);
  return settings;
}

/** A profile must be one thin-edge knows, and have its own bridge topic prefix there. */
function assertProfile(profile: string, tedge: Map<string, string> | undefined): void {
  if (tedge?.get(tedgeKey('topicPrefix', profile))) return;
  const known = profileNames(tedge);
  if (known.includes(profile)) {
    throw usageError(
      `cloud profile '${profile}' has no bridge topic prefix`,
      wording`check \`tedge config get c8y.bridge.topic_prefix --profile ${profile}\`, or pass {topicPrefix}`,
    );
  }
  throw usageError(
    `thin-edge has no cloud profile '${profile}'` +
      (known.length > 0 ? `; its profiles: ${known.join(', ')}` : tedge ? '; it has no cloud profiles' : ''),
    tedge
      ? wording`check {profile} and TEDGE_CLOUD_PROFILE against \`tedge config list\``
      : wording`tedge was not found on PATH: pass {topicPrefix}, or put tedge on PATH`,
  );
}

function profileNames(tedge: Map<string, string> | undefined): string[] {
  const names = new Set<string>();
  for (const key of tedge?.keys() ?? []) {
    const match = /^c8y\.profiles\.([^.]+)\./.exec(key);
    if (match) names.add(match[1]!);
  }
  return [...names].sort();
}

/** The prefix becomes part of a topic published to: a wildcard there makes the broker drop the connection. */
function assertTopicPrefix(prefix: string, source: SettingSource, profile: string | undefined): void {
  if (prefix !== '' && !/[+#\0]/.test(prefix)) return;
  throw usageError(
    wording`${origin('topicPrefix', source, profile)}: '${prefix}' is not a bridge topic prefix`,
    'use the prefix of the bridge topics, e.g. c8y; it cannot be empty or hold an MQTT wildcard (+, #)',
  );
}

/** Where a value came from, as the user would find it. */
function origin(key: 'port' | 'topicPrefix', source: SettingSource, profile: string | undefined): string | Wording {
  if (source === 'env') return envName(key, profile);
  if (source === 'tedge') return `tedge config ${tedgeKey(key, profile)}`;
  return key === 'port' ? wording`{mqttPort}` : wording`{topicPrefix}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * One `tedge config list` call (`command`: the tedge executable, default found on PATH); resolves undefined when
 * thin-edge is not installed, and rejects with a usage error naming tedge's own complaint when it cannot answer
 * (a configuration file that is not TOML, say): defaults in its place would point at the wrong broker or bridge.
 */
export async function readTedgeConfig(
  configDir: string | undefined,
  command = 'tedge',
): Promise<Map<string, string> | undefined> {
  // Loaded here: a call that finds thin-edge's settings remembered never spawns anything.
  const { execFile } = await import('node:child_process');
  const args = configDir ? ['--config-dir', configDir, 'config', 'list'] : ['config', 'list'];
  const call = `tedge ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    try {
      execFile(command, args, { timeout: TEDGE_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (!error) resolve(parseTedgeConfigList(stdout));
        else if ((error as NodeJS.ErrnoException).code === 'ENOENT') resolve(undefined);
        else reject(tedgeFailure(call, error, stderr));
      });
    } catch (error) {
      // Some spawn failures (ETXTBSY: the file is open for writing) are thrown rather than passed to the callback.
      reject(tedgeFailure(call, error as Error, ''));
    }
  });
}

const TEDGE_TIMEOUT_MS = 5000;

function tedgeFailure(call: string, error: Error & { killed?: boolean }, stderr: string): C8yTokenError {
  // A string code is the spawn's own failure (EACCES: a tedge on PATH that may not be run); a number is tedge's exit.
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') {
    return new C8yTokenError(
      'usage',
      `thin-edge's settings could not be read: \`${call}\` could not be run: ${describeSystemError(error)}`,
      {
        hint: "check the tedge found on PATH: is it thin-edge's, and may this user run it?",
      },
    );
  }
  const said = stderr
    .split('\n')
    .map((line) => line.trim())
    .find(Boolean)
    ?.slice(0, 300);
  const what = error.killed
    ? `did not answer within ${TEDGE_TIMEOUT_MS / 1000} s`
    : `failed${said ? `: ${said}` : ` (${error.message.split('\n')[0]})`}`;
  return new C8yTokenError('usage', `thin-edge's settings could not be read: \`${call}\` ${what}`, {
    hint: 'fix the file tedge names; `tedge config list` shows the same problem',
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
