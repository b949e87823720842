import { Argument, Command, CommanderError, Option } from 'commander';
import type { Reporting } from './reporting.ts';
import {
  type BrokerFlags,
  type ConnectionFlags,
  connectionOptions,
  type CurlFlags,
  curlOptions,
  tokenOptions,
  type UrlFlags,
} from './flags.ts';
// The token commands are imported, not import()ed on use: they and the core they share (settings, cache, claims)
// load faster whole than as the small chunks that lazy import()s split them into (docs/performance.md). What is heavy
// stays lazy: mqtt.js (cache misses), undici (curl, doctor), completion.
import { cache } from './commands/cache.ts';
import { decode } from './commands/decode.ts';
import { env } from './commands/env.ts';
import { exec } from './commands/exec.ts';
import { get } from './commands/get.ts';
import type { CompletionShell } from './completion/scripts.ts';
import {
  DEFAULT_MIN_VALIDITY_MS,
  DEFAULT_PAGE_SIZE,
  DEFAULT_REPUBLISH_MS,
  DEFAULT_TIMEOUT_MS,
  MAX_PAGE_SIZE,
} from '../core/defaults.ts';
import type { DataArg, DataKind } from './curl/data.ts';
import { exitCodesHelp } from './exit-codes.ts';
import { listenForInterruptions } from './interruption.ts';
import { ENV_SHELLS, type EnvShell } from './shell-exports.ts';
import { commanderUsageError } from './usage-errors.ts';
import { parseDuration, parsePositiveDuration } from '../core/duration.ts';
import { parseCount, parsePort } from '../core/whole-number.ts';

const EXIT_CODES_HELP = exitCodesHelp('token');
const CURL_EXIT_CODES_HELP = exitCodesHelp('all');

/** The one list of differences from curl; docs/curl.md gives the reasons. */
const CURL_DIFFERENCES_HELP = `
Differences from curl (docs/curl.md says why):
  - the argument is a path on the tenant; --url is the tenant's base URL; the token goes to that origin only
  - a 401 is tried once more with a fresh token
  - Accept: application/json by default; a -d body that starts like JSON is sent as application/json
  - a path is percent-encoded, not refused; a missing @file is exit 2, before anything is sent
  - under --retry only the final response's body is written
  - no progress meter unless stderr is a terminal (and the download is 1 MiB or more, to -o)
  - /apps/ and *.js paths are refused; --paginate, --page-size, --pretty, --raw are c8y-token's own
  - -C resumes downloads only; -D into a missing directory is exit 23
  - --retry-all-errors retries failures up to the response's headers, not a body cut short
  - durations take units (500ms, 30s, 1m); HTTP/1.1 only; http(s) proxies only; --cacert replaces every other CA`;

function addBrokerOptions(
  command: Command,
  {
    verbose = new Option('--verbose', 'explain each step on stderr (never shows the token)'),
    cache = true,
  }: { verbose?: Option; cache?: boolean } = {},
): Command {
  command
    .addOption(new Option('--timeout <duration>', 'give up when no token has come after this long (15, 30s, 1m)')
      .argParser((v) => parsePositiveDuration(v, '--timeout')).default(DEFAULT_TIMEOUT_MS, '15s'))
    .addOption(new Option('--republish <duration>', 'ask again this often while waiting')
      .argParser((v) => parsePositiveDuration(v, '--republish')).default(DEFAULT_REPUBLISH_MS, '5s'))
    .option('--mqtt-host <host>', 'MQTT broker host (default: tedge mqtt.client.host, else 127.0.0.1)')
    .option('--mqtt-port <port>', 'MQTT broker port (default: tedge mqtt.client.port, else 1883)', (v) => parsePort(v, '--mqtt-port'))
    .option('--mqtt-cafile <file>', 'CA certificate: connect to the broker over TLS')
    .option('--mqtt-capath <dir>', 'directory of CA certificates, all trusted: connect to the broker over TLS')
    .option('--mqtt-cert <file>', 'client certificate for the broker')
    .option('--mqtt-key <file>', 'client private key for the broker')
    .option('--mqtt-username <name>', 'user name for the broker (default: tedge mqtt.client.auth.username)')
    .option('--mqtt-password-file <file>', "file whose first line is the broker user's password")
    .option('--topic-prefix <prefix>', 'bridge topic prefix (default: tedge c8y.bridge.topic_prefix, else c8y)')
    .option('--profile <name>', 'thin-edge cloud profile whose bridge to use')
    .option('--config-dir <dir>', 'thin-edge configuration directory (default: $TEDGE_CONFIG_DIR, else /etc/tedge)');
  if (cache) {
    command
      .addOption(new Option('--min-validity <duration>', 'reuse a cached token only while it stays valid this long')
        .argParser((v) => parseDuration(v, '--min-validity')).default(DEFAULT_MIN_VALIDITY_MS, '5m'))
      .option('--no-cache', 'neither reuse a cached token nor cache the new one');
  }
  return command.addOption(verbose);
}

/** How `curl` and `doctor` reach the tenant: curl's flags, and the environment variables curl reads. */
function addConnectionOptions(command: Command): Command {
  return command
    .option('-k, --insecure', "do not check the tenant's certificate")
    .option('--cacert <file>', "trust the CA certificates in this PEM file instead of Node's and the system's")
    .option('--capath <dir>', 'trust the CA certificates in this directory (hashed names: openssl rehash) as well')
    .option('-x, --proxy <[protocol://]host[:port]>', 'use this proxy instead of $https_proxy, $http_proxy, $all_proxy')
    .option('--noproxy <hosts>', 'hosts reached without the proxy (comma-separated; * for all), instead of $no_proxy');
}

function addUrlOption(command: Command): Command {
  return command.option('--url <url>', 'tenant base URL (default: $C8Y_URL, else https://<iss> from the token)');
}

/** A command whose parse errors are ours (one line and a hint, exit 2, reported by main) rather than commander's. */
class ProgramCommand extends Command {
  override createCommand(name?: string): Command {
    return new ProgramCommand(name);
  }

  override error(message: string): never {
    throw commanderUsageError(message, this);
  }
}

/** Every command and its options; `version` is the package's, for --version and curl's User-Agent. */
export function buildProgram(version: string): Command {
  const program = new ProgramCommand('c8y-token')
    .enablePositionalOptions()
    .description('Get the Cumulocity device token (JWT) from thin-edge.io, and call the Cumulocity REST API with it')
    .version(version, '-V, --version')
    .exitOverride()
    .addHelpText('after', `${CURL_EXIT_CODES_HELP}

Examples:
  export C8Y_TOKEN=$(c8y-token get)
  c8y-token get --format json
  c8y-token decode
  c8y-token curl /user/currentUser

  eval "$(c8y-token env)"
  c8y-token exec -- ./script-that-uses-C8Y_TOKEN.sh
  c8y-token cache status`);

  addGetCommand(program);
  addDecodeCommand(program);
  addDoctorCommand(program);
  addCurlCommand(program, version);
  addEnvCommand(program);
  addExecCommand(program);
  addCacheCommand(program);
  addCompletionCommand(program);
  return program;
}


/** `get`: the token on stdout. */
function addGetCommand(program: Command): void {
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
      await get({ ...tokenOptions(flags), format: flags.format });
    });
}

/** `decode`: a token's claims. */
function addDecodeCommand(program: Command): void {
  addBrokerOptions(program.command('decode'))
    .description("print a token's claims as JSON (the token is not verified)")
    .argument('[token]', 'the token; default: stdin when piped, else a freshly fetched token')
    .addHelpText('after', `
Examples:
  c8y-token decode                          # fetch a token and show its claims
  c8y-token get | c8y-token decode
  printf '%s' "$C8Y_TOKEN" | c8y-token decode | jq -r .ten`)
    .action(async (token: string | undefined, flags: BrokerFlags) => {
      await decode({ ...tokenOptions(flags), token });
    });
}

/** `doctor`: each step from the settings to the tenant, checked. */
function addDoctorCommand(program: Command): void {
  addUrlOption(addBrokerOptions(addConnectionOptions(program.command('doctor')), { cache: false }))
    .description('check, step by step, why a token does or does not come')
    .option('--json', 'print the checks as JSON')
    .addHelpText('after', `
Checks, in order: configuration (and where each value came from), broker reachable, cloud bridge health,
token round trip (a fresh token, never a cached one), token claims, tenant reachable (GET /user/currentUser,
within --timeout), the device clock against the tenant's (a warning beyond a minute). Exits non-zero with the
failing check's exit code: 7 for the broker, 28 for the token, 1 for the bridge; for the tenant, curl's (5, 6, 7,
22 for an HTTP error such as 401, 28, 35, 56, 60, 77).

Examples:
  c8y-token doctor
  c8y-token doctor --json | jq '.checks[] | select(.status != "ok")'`)
    .action(async (flags: BrokerFlags & UrlFlags & ConnectionFlags & { json?: boolean }) => {
      const { doctor } = await import('./commands/doctor.ts');
      await doctor({ ...tokenOptions(flags), ...connectionOptions(flags), url: flags.url, json: flags.json === true });
    });
}

/** `env`: the token in shell variables. */
function addEnvCommand(program: Command): void {
  addUrlOption(addBrokerOptions(program.command('env')))
    .description('print shell commands that export C8Y_TOKEN, C8Y_URL, C8Y_TENANT and C8Y_HEADER')
    .addOption(new Option('--shell <shell>', 'shell syntax').choices(ENV_SHELLS).default('sh'))
    .addHelpText('after', `
Examples:
  eval "$(c8y-token env)"
  c8y-token env --shell fish | source
  printf '%s\\n' "$C8Y_HEADER" | curl -H @- "$C8Y_URL/user/currentUser"`)
    .action(async (flags: BrokerFlags & UrlFlags & { shell: EnvShell }) => {
      await env({ ...tokenOptions(flags), url: flags.url, shell: flags.shell });
    });
}

/** `exec`: a command with the token in its environment. */
function addExecCommand(program: Command): void {
  addUrlOption(addBrokerOptions(program.command('exec')))
    .description('run a command with C8Y_TOKEN, C8Y_URL, C8Y_TENANT and C8Y_HEADER in its environment')
    .argument('<command...>', 'the command and its arguments (after --)')
    .passThroughOptions()
    .addHelpText('after', `
Signals: the command gets each once. In a terminal's foreground it runs in c8y-token's process group, so Ctrl-C,
Ctrl-\\ and Ctrl-Z reach it as if run directly, and c8y-token forwards only SIGTERM, SIGUSR1 and SIGUSR2. Elsewhere
(cron, systemd, scripts, background jobs) it runs in a session of its own, and c8y-token forwards SIGINT, SIGTERM,
SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2. Limits (a service manager that signals every process, as systemd's default
KillMode does): docs/reliability.md.

Exit: the command's exit code; when a signal ended it, c8y-token ends by that signal (the shell shows 128 + its
number, and a loop stops at Ctrl-C), but by exit 128 + n for one that would dump core; 126/127 when it cannot be run
or is not found.

Examples:
  c8y-token exec -- sh -c 'printf "%s\\n" "$C8Y_HEADER" | curl -sf -H @- "$C8Y_URL/user/currentUser"'
  c8y-token exec --profile second -- ./upload.sh`)
    .action(async (words: string[], flags: BrokerFlags & UrlFlags) => {
      const [command, ...args] = words as [string, ...string[]];
      await exec({ ...tokenOptions(flags), url: flags.url, command, args, onSpawn: () => listenForInterruptions(false) });
    });
}

/** `cache status` and `cache clear`. */
function addCacheCommand(program: Command): void {
  const cacheCommand = program.command('cache').description('show or clear the cached tokens');
  for (const [action, description] of [
    ['status', "show each cached token's broker, tenant, user and remaining validity (never the token)"],
    ['clear', 'remove every cached token'],
  ] as const) {
    cacheCommand.command(action).description(description).action(async () => {
      await cache({ action });
    });
  }
}

/** `completion`: a shell's completion script, from the program's own definition. */
function addCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish'] satisfies CompletionShell[]))
    .addHelpText('after', `
Examples:
  source <(c8y-token completion bash)                          # in ~/.bashrc
  c8y-token completion zsh > "\${fpath[1]}/_c8y-token"          # then start a new zsh
  c8y-token completion fish > ~/.config/fish/completions/c8y-token.fish`)
    .action(async (shell: CompletionShell) => {
      const [{ completion }, { describeProgram }] = await Promise.all([
        import('./commands/completion.ts'),
        import('./program-spec.ts'),
      ]);
      await completion({ shell, program: describeProgram(program) });
    });
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function addCurlCommand(program: Command, version: string): void {
  // curl joins -d, --data-binary, --data-raw and --json in command-line order, so all four fill one list.
  const data: DataArg[] = [];
  const verbose = new Option('-v, --verbose', 'show request and response headers (Authorization redacted) and how the token was fetched');
  const command = program
    .command('curl')
    .description("call the Cumulocity REST API with the device token; the options are curl's, but for the differences below")
    .argument('<path>', 'path on the tenant, query string included (/inventory/managedObjects?pageSize=100)');
  addCurlTransferOptions(addCurlOutputOptions(addCurlRequestOptions(command, data)));
  addUrlOption(addBrokerOptions(addConnectionOptions(command), { verbose }))
    .addHelpText('after', `${CURL_EXIT_CODES_HELP}
${CURL_DIFFERENCES_HELP}

Examples:
  c8y-token curl /user/currentUser
  c8y-token curl '/inventory/managedObjects?type=c8y_Device' --paginate > devices.json
  c8y-token curl -X PUT /inventory/managedObjects/1234 -d '{"c8y_Notes":"checked"}'
  c8y-token curl /inventory/binaries -F 'object={"name":"log.txt","type":"text/plain"}' -F file=@log.txt
  c8y-token curl -sf -o /dev/null -w '%{http_code}\\n' /inventory/managedObjects/1234`)
    .action(async (path: string, flags: CurlFlags) => {
      const { curl } = await import('./commands/curl.ts');
      await curl(curlOptions(path, flags, data, version));
    });
}

/** What curl sends: method, headers, body. */
function addCurlRequestOptions(command: Command, data: DataArg[]): Command {
  const dataOption = (flags: string, kind: DataKind, description: string) =>
    new Option(flags, description).argParser((value: string) => {
      data.push({ kind, value });
      return data;
    });
  return command
    .option('-X, --request <method>', 'request method (default: GET, POST with a body, HEAD with -I)')
    .option('-H, --header <header>', "header 'Name: value' (repeatable); 'Name:' leaves out one c8y-token sends", collect)
    .addOption(dataOption('-d, --data <data>', 'data', 'request body (repeatable, joined with &); @file or @- reads it, dropping newlines'))
    .addOption(dataOption('--data-binary <data>', 'binary', 'request body; @file or @- reads it byte for byte'))
    .addOption(dataOption('--data-raw <data>', 'raw', 'request body; a leading @ is just a character'))
    .addOption(dataOption('--json <data>', 'json', 'JSON request body (@file, @-); Content-Type and Accept JSON'))
    .addOption(dataOption('--data-urlencode <data>', 'urlencode', 'body piece, URL-encoded: content, =content, name=content, @file, name@file'))
    .option('-F, --form <name=content>', 'multipart part (repeatable): name=value, name=@file, name=<file; ;type= ;filename=', collect)
    .option('-T, --upload-file <file>', 'PUT this file as the body, streamed (-: stdin); a path ending in / gets its name')
    .option('-G, --get', 'send the -d data in the query string of a GET')
    .option('--url-query <data>', 'add to the query string, URL-encoded as --data-urlencode (repeatable); +content as it is', collect)
    .option('-A, --user-agent <name>', 'User-Agent to send (default: c8y-token/<version>)')
    .option('-e, --referer <url>', 'Referer to send')
    .option('-r, --range <range>', 'ask for part of the body: Range: bytes=<range> (0-99, 100-, -50)')
    .option('-C, --continue-at <offset>', 'resume a download at this byte; -: after what the -o file holds',
      (v) => (v === '-' ? v : parseCount(v, '-C', 0, 999_999_999)))
    .option('--compressed', 'ask for a compressed response (deflate, gzip, br) and decode it')
    .option('-g, --globoff', "accepted as in curl: c8y-token never expands {} or [] in the path");
}

/** What curl writes, and where. */
function addCurlOutputOptions(command: Command): Command {
  return command
    .option('-i, --include', 'print the response headers before the body')
    .option('-I, --head', 'send HEAD and print the response headers')
    .option('-o, --output <file>', 'write the body to this file instead of stdout')
    .option('--create-dirs', "with -o, create the file's missing directories")
    .option('-D, --dump-header <file>', "write every response's status line and headers to this file (-: stdout)")
    .option('--stderr <file>', 'write warnings and error messages to this file instead of stderr (-: stdout)')
    .option('-w, --write-out <format>', 'print after the transfer: %{http_code} %{url_effective} %{time_total} %{size_download} %{content_type} %{exitcode} %{redirect_url} %{json} ...')
    .option('-f, --fail', "exit 22 on an HTTP status >= 400, with Cumulocity's error message instead of the body")
    .option('--fail-with-body', 'exit 22 on an HTTP status >= 400, after printing the body')
    .option('-s, --silent', 'no progress bar, warnings or error messages')
    .option('-S, --show-error', 'with -s: still print error messages')
    // curl's pair; the positive one (the default) keeps commander from filling in progressMeter: true.
    .addOption(new Option('--progress-meter', 'show the progress bar (the default)').hideHelp())
    .option('--no-progress-meter', 'no progress bar (warnings and errors still)')
    .addOption(new Option('--pretty', 'indent a JSON response (default when stdout is a terminal)').conflicts('raw'))
    .option('--raw', 'print the response as it came (default when stdout is not a terminal)');
}

/** How curl follows redirects, waits, retries and pages. */
function addCurlTransferOptions(command: Command): Command {
  return command
    .option('-L, --location', 'follow redirects (the token is never sent to another origin)')
    .option('--max-redirs <n>', 'with -L, follow at most n redirects (default: 50)', (v) => parseCount(v, '--max-redirs', 0, 1000))
    .option('-m, --max-time <duration>', 'give up on a request after this long', (v) => parsePositiveDuration(v, '--max-time'))
    .option('--connect-timeout <duration>', 'give up connecting (TLS included) after this long (default: 30s)',
      (v) => parsePositiveDuration(v, '--connect-timeout'))
    .option('--retry <n>', 'retry timeouts, unresolved names and HTTP 408, 429, 500, 502, 503, 504 up to n times', (v) => parseCount(v, '--retry', 0, 1000))
    .option('--retry-delay <duration>', 'wait between retries (default: 1s, doubling; Retry-After comes first)',
      (v) => parseDuration(v, '--retry-delay'))
    .option('--retry-max-time <duration>', 'start no retry once this long has passed since the first attempt',
      (v) => parseDuration(v, '--retry-max-time'))
    .option('--retry-connrefused', 'with --retry, retry a refused connection too')
    .option('--retry-all-errors', 'with --retry, retry every failure (with -f, every HTTP status >= 400 too)')
    .option('--paginate', 'GET every page of a collection and print all items as one JSON array')
    .option(
      '--page-size <n>',
      `pageSize for --paginate when the path has none (default: ${DEFAULT_PAGE_SIZE})`,
      (v) => parseCount(v, '--page-size', 1, MAX_PAGE_SIZE),
    );
}

/** Parses the command line and runs the command; commander's help and version (already printed) end here. */
export async function runProgram(argv: string[], version: string, reporting: Reporting): Promise<void> {
  const program = buildProgram(version).hook('preAction', (_, command) => {
    const flags = command.opts<{ verbose?: boolean; silent?: boolean; showError?: boolean }>();
    reporting.verbose = flags.verbose === true;
    // curl's -s hides error messages, -S brings them back.
    reporting.quiet = flags.silent === true && flags.showError !== true;
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // commander has printed the help or the version text; 'cache' without its command prints its help and fails.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  }
}

