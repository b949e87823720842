import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_MIN_VALIDITY_MS, type GetTokenOptions } from './get-token.ts';
import { C8yTokenError, EXIT_CODES } from './errors.ts';
import { verboseLogger } from './output.ts';
import { SHELLS, type Shell } from './shell/variables.ts';
import { DEFAULT_REPUBLISH_MS, DEFAULT_TIMEOUT_MS } from './token/request.ts';
import { parseDuration, parsePort, parsePositiveDuration } from './values.ts';

/** Options every command that talks to the broker shares, as commander hands them over. */
interface BrokerFlags {
  mqttHost?: string;
  mqttPort?: number;
  mqttCafile?: string;
  mqttCert?: string;
  mqttKey?: string;
  topicPrefix?: string;
  profile?: string;
  configDir?: string;
  timeout: number;
  republish: number;
  /** false with --no-cache. */
  cache: boolean;
  minValidity: number;
  verbose?: boolean;
}

/** `env` and `exec` (and every command that calls the tenant) take the tenant URL override. */
interface UrlFlags {
  url?: string;
}

const EXIT_CODES_HELP = `
Exit codes:
  0   success
  1   other error
  2   usage error (unknown flag, bad value)
  7   could not connect to the MQTT broker
  28  timed out waiting for the token
  126 exec: the command cannot be run; 127 exec: command not found
  130 interrupted (SIGINT); 143 terminated (SIGTERM)`;

function addBrokerOptions(command: Command): Command {
  return command
    .option('--timeout <duration>', 'give up when no token has come after this long (15, 30s, 1m)',
      (v) => parsePositiveDuration(v, '--timeout'), DEFAULT_TIMEOUT_MS)
    .addOption(new Option('--republish <duration>', 'ask again this often while waiting')
      .argParser((v) => parsePositiveDuration(v, '--republish')).default(DEFAULT_REPUBLISH_MS, '5s'))
    .option('--mqtt-host <host>', 'MQTT broker host (default: tedge mqtt.client.host, else 127.0.0.1)')
    .option('--mqtt-port <port>', 'MQTT broker port (default: tedge mqtt.client.port, else 1883)', (v) => parsePort(v, '--mqtt-port'))
    .option('--mqtt-cafile <file>', 'CA certificate: connect to the broker over TLS')
    .option('--mqtt-cert <file>', 'client certificate for the broker')
    .option('--mqtt-key <file>', 'client private key for the broker')
    .option('--topic-prefix <prefix>', 'bridge topic prefix (default: tedge c8y.bridge.topic_prefix, else c8y)')
    .option('--profile <name>', 'thin-edge cloud profile whose bridge to use')
    .option('--config-dir <dir>', 'thin-edge configuration directory (default: $TEDGE_CONFIG_DIR, else /etc/tedge)')
    .addOption(new Option('--min-validity <duration>', 'reuse a cached token only while it stays valid this long')
      .argParser((v) => parseDuration(v, '--min-validity')).default(DEFAULT_MIN_VALIDITY_MS, '5m'))
    .option('--no-cache', 'neither reuse a cached token nor cache the new one')
    .option('--verbose', 'explain each step on stderr (never shows the token)');
}

function addUrlOption(command: Command): Command {
  return command.option('--url <url>', 'tenant base URL (default: $C8Y_URL, else https://<iss> from the token)');
}

/** Aborted by SIGINT or SIGTERM, so every wait ends at once and cleans up after itself. */
const interruption = new AbortController();
const INTERRUPTING_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function interrupt(signal: (typeof INTERRUPTING_SIGNALS)[number]): void {
  const kind = signal === 'SIGINT' ? 'sigint' : 'sigterm';
  // A second signal means the user will not wait for the clean-up.
  if (interruption.signal.aborted) process.exit(EXIT_CODES[kind]);
  interruption.abort(new C8yTokenError(kind, `interrupted by ${signal}`));
}

/** `exec` stops listening once its command runs: the signals are then forwarded to the command. */
function listenForInterruptions(listen: boolean): void {
  for (const signal of INTERRUPTING_SIGNALS) {
    if (listen) process.on(signal, interrupt);
    else process.off(signal, interrupt);
  }
}

/** Turns commander's flags into the library's options: the library never sees argv's shape. */
function tokenOptions(flags: BrokerFlags): GetTokenOptions {
  return {
    signal: interruption.signal,
    mqttHost: flags.mqttHost,
    mqttPort: flags.mqttPort,
    mqttCafile: flags.mqttCafile,
    mqttCert: flags.mqttCert,
    mqttKey: flags.mqttKey,
    topicPrefix: flags.topicPrefix,
    profile: flags.profile,
    configDir: flags.configDir,
    timeoutMs: flags.timeout,
    republishMs: flags.republish,
    cache: flags.cache,
    minValidity: flags.minValidity,
    log: verboseLogger(flags.verbose === true),
  };
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('c8y-token')
    .enablePositionalOptions()
    .description('Get the Cumulocity device token (JWT) from thin-edge.io, and call the Cumulocity REST API with it')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'c8y-token: ')) })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `${EXIT_CODES_HELP}

Examples:
  export C8Y_TOKEN=$(c8y-token get)
  c8y-token get --format json
  c8y-token decode
  eval "$(c8y-token env)"
  c8y-token exec -- ./script-that-uses-C8Y_TOKEN.sh
  c8y-token cache status`);

  addBrokerOptions(program.command('get'))
    .description('ask the cloud bridge for a device token and print it on stdout')
    .addOption(new Option('--format <format>', 'what to print').choices(['token', 'json', 'header']).default('token'))
    .addHelpText('after', `${EXIT_CODES_HELP}

Examples:
  export C8Y_TOKEN=$(c8y-token get)
  c8y-token get --format header      # Authorization: Bearer …
  c8y-token get --format json        # token, base URL, tenant, user, expiry, claims
  c8y-token get --mqtt-host 192.0.2.10 --timeout 30s`)
    .action(async (flags: BrokerFlags & { format: 'token' | 'json' | 'header' }) => {
      const { get } = await import('./commands/get.ts');
      await get({ ...tokenOptions(flags), format: flags.format });
    });

  addBrokerOptions(program.command('decode'))
    .description("print a token's claims as JSON (the token is not verified)")
    .argument('[token]', 'the token; default: stdin when piped, else a freshly fetched token')
    .addHelpText('after', `
Examples:
  c8y-token decode                          # fetch a token and show its claims
  c8y-token get | c8y-token decode
  c8y-token decode "$C8Y_TOKEN" | jq -r .ten`)
    .action(async (token: string | undefined, flags: BrokerFlags) => {
      const { decode } = await import('./commands/decode.ts');
      await decode({ ...tokenOptions(flags), token });
    });

  addUrlOption(addBrokerOptions(program.command('env')))
    .description('print shell commands that export C8Y_TOKEN, C8Y_URL, C8Y_TENANT and C8Y_HEADER')
    .addOption(new Option('--shell <shell>', 'shell syntax').choices(SHELLS).default('sh'))
    .addHelpText('after', `
Examples:
  eval "$(c8y-token env)"
  c8y-token env --shell fish | source
  curl -H "$C8Y_HEADER" "$C8Y_URL/user/currentUser"`)
    .action(async (flags: BrokerFlags & UrlFlags & { shell: Shell }) => {
      const { env } = await import('./commands/env.ts');
      await env({ ...tokenOptions(flags), url: flags.url, shell: flags.shell });
    });

  addUrlOption(addBrokerOptions(program.command('exec')))
    .description('run a command with C8Y_TOKEN, C8Y_URL, C8Y_TENANT and C8Y_HEADER in its environment')
    .argument('<command...>', 'the command and its arguments (after --)')
    .passThroughOptions()
    .addHelpText('after', `
Signals are forwarded to the command; the exit code is the command's (128 + the signal's number when a signal
ended it), or 126/127 when it cannot be run or is not found.

Examples:
  c8y-token exec -- sh -c 'curl -sf -H "$C8Y_HEADER" "$C8Y_URL/user/currentUser"'
  c8y-token exec --profile second -- ./upload.sh`)
    .action(async (words: string[], flags: BrokerFlags & UrlFlags) => {
      const { exec } = await import('./commands/exec.ts');
      const [command, ...args] = words as [string, ...string[]];
      await exec({ ...tokenOptions(flags), url: flags.url, command, args, onSpawn: () => listenForInterruptions(false) });
    });

  const cache = program.command('cache').description('show or clear the cached tokens');
  for (const [action, description] of [
    ['status', "show each cached token's broker, tenant, user and remaining validity (never the token)"],
    ['clear', 'remove every cached token'],
  ] as const) {
    cache.command(action).description(description).action(async () => {
      const { cache: run } = await import('./commands/cache.ts');
      await run({ action });
    });
  }

  return program;
}

/** The one place where failures become exit codes and messages. */
export async function main(argv: string[] = process.argv): Promise<void> {
  const verbose = argv.includes('--verbose');
  listenForInterruptions(true);
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error, verbose);
  } finally {
    listenForInterruptions(false);
  }
}

function reportError(error: unknown, verbose: boolean): number {
  if (error instanceof CommanderError) {
    // commander has already printed its message (or the help / version text).
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof C8yTokenError) {
    const lines = [`c8y-token: ${error.message}`];
    if (error.hint) lines.push(`  ${error.hint}`);
    if (verbose && error.detail) lines.push(`  detail: ${error.detail}`);
    process.stderr.write(`${lines.join('\n')}\n`);
    return error.exitCode;
  }
  process.stderr.write(
    `c8y-token: unexpected error; please report it with the output of --verbose\n${(error as Error)?.stack ?? String(error)}\n`,
  );
  return 1;
}
