import { EXIT_CODE_TABLE } from '../src/cli/exit-codes.ts';
import type { CommandSpec } from '../src/cli/program-spec.ts';

/** The variables c8y-token reads, as in docs/configuration.md, docs/cache.md and docs/curl.md. */
const ENVIRONMENT: [names: string, meaning: string][] = [
  ['C8Y_URL', "the tenant's base URL, as --url; env and exec set it for their command"],
  ['TEDGE_CLOUD_PROFILE', "thin-edge's cloud profile, as --profile"],
  ['TEDGE_CONFIG_DIR', "thin-edge's configuration directory, as --config-dir"],
  [
    'TEDGE_MQTT_CLIENT_HOST, TEDGE_MQTT_CLIENT_PORT, TEDGE_C8Y_BRIDGE_TOPIC_PREFIX, ...',
    "thin-edge's own overrides of its settings (TEDGE_ and the key, upper-cased, . as _), read as tedge reads them",
  ],
  [
    'C8Y_TOKEN_CACHE_DIR, XDG_RUNTIME_DIR, HOME',
    'where cached tokens live: $C8Y_TOKEN_CACHE_DIR, else $XDG_RUNTIME_DIR/c8y-token, else ~/.cache/c8y-token',
  ],
  [
    'https_proxy, HTTPS_PROXY, http_proxy, all_proxy, ALL_PROXY, no_proxy, NO_PROXY',
    'the proxy for the tenant, as curl reads them (-x and --noproxy come first)',
  ],
  [
    'CURL_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR',
    "the CA certificates trusted for the tenant besides Node's, as curl reads them (--cacert and --capath instead)",
  ],
];

const FILES: [path: string, meaning: string][] = [
  [
    '/etc/tedge/tedge.toml',
    "thin-edge's settings, read through tedge config list (--config-dir names another directory)",
  ],
  [
    '$XDG_RUNTIME_DIR/c8y-token/',
    'the token cache (0700): one entry per broker and bridge (0600), its lock, the thin-edge settings remembered, and the system CA that verified each tenant only the system CAs verify',
  ],
];

/**
 * The man page (roff, man macros) from the same description of the program as --help: the program's usage,
 * options and help text, then one section per command with its options and examples.
 */
export function manPage(program: CommandSpec, version: string, date: Date): string {
  const commands = subcommands(program);
  const lines = [
    `.TH ${roff(program.name.toUpperCase())} 1 "${date.toISOString().slice(0, 10)}" "${program.name} ${version}" "User Commands"`,
    '.SH NAME',
    `${roff(program.name)} \\- ${roff(program.description)}`,
    '.SH SYNOPSIS',
    '.nf',
    ...[program, ...commands].map((command) => roff(command.usage)),
    '.fi',
    '.SH OPTIONS',
    ...options(program),
    '.SH COMMANDS',
    ...commands.flatMap((command) => [
      `.SS "${roff(command.usage)}"`,
      roff(command.description),
      ...options(command),
      ...epilog(command.epilog, (heading) => [`.PP\n.B ${roff(heading)}`]),
    ]),
    '.SH "EXIT STATUS"',
    ...EXIT_CODE_TABLE.flatMap((entry) => ['.TP', `.B ${entry.code}`, roff(entry.help)]),
    '.SH ENVIRONMENT',
    ...ENVIRONMENT.flatMap(([names, meaning]) => ['.TP', `.B ${roff(names)}`, roff(meaning)]),
    '.SH FILES',
    ...FILES.flatMap(([path, meaning]) => ['.TP', `.I ${roff(path)}`, roff(meaning)]),
    ...epilog(program.epilog, (heading) => [`.SH ${roff(heading.toUpperCase())}`]),
  ];
  return `${lines.join('\n')}\n`;
}

function subcommands(command: CommandSpec): CommandSpec[] {
  return command.commands.flatMap((sub) => [sub, ...subcommands(sub)]);
}

function options(command: CommandSpec): string[] {
  return command.options.flatMap((option) => ['.TP', `.B ${roff(option.term)}`, roff(option.description)]);
}

/**
 * The help text's blocks (`Examples:` and its indented lines), each under a heading, kept as they are laid out; the
 * exit codes are the page's EXIT STATUS instead.
 */
function epilog(text: string, heading: (title: string) => string[]): string[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => block.replace(/^\n+/, ''))
    .filter((block) => block !== '' && !block.startsWith('Exit codes:'))
    .flatMap((block) => {
      const [first = '', ...rest] = block.split('\n');
      const title = /^(\S.*):$/.exec(first)?.[1];
      const body = title === undefined ? [first, ...rest] : rest;
      return [...(title === undefined ? [] : heading(title)), '.PP', '.nf', ...body.map(roff), '.fi'];
    });
}

/** What the help text writes beyond ASCII, as ASCII: the page renders alike in every locale, C included. */
const ASCII: Record<string, string> = { '\u2026': '...', '\u2014': '--', '\u2013': '-', '\u2018': "'", '\u2019': "'" };

/**
 * Text as roff: backslashes and hyphens escaped, and no line taken for a request because it starts with . or '. A
 * character beyond ASCII that has no ASCII spelling above fails the build.
 */
function roff(text: string): string {
  return text
    .replace(/\P{ASCII}/gu, (char) => {
      const ascii = ASCII[char];
      if (ascii === undefined) throw new Error(`man page: no ASCII spelling for ${JSON.stringify(char)} in: ${text}`);
      return ascii;
    })
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .replace(/^[.']/gm, '\\&$&');
}
