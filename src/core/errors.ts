/**
 * Every expected failure is a C8yTokenError with a kind; the kind alone decides the exit code,
 * so the table in docs/exit-codes.md and the code cannot disagree.
 */
export const EXIT_CODES = {
  other: 1,
  usage: 2,
  /** The codes from here on are curl's, so that scripts written for curl read them alike. */
  proxyResolve: 5,
  resolve: 6,
  connect: 7,
  /** An HTTP status >= 400 the caller treats as failure (curl's --fail), or any during pagination. */
  http: 22,
  /** The connection closed before the whole body came (fewer bytes than Content-Length said). */
  partial: 18,
  write: 23,
  /** A file to upload cannot be read. */
  read: 26,
  timeout: 28,
  /** A download cannot resume: the server ignored the byte range asked for. */
  range: 33,
  tls: 35,
  redirects: 47,
  /** The connection broke while the response was on its way (reset, or closed before the whole body came). */
  receive: 56,
  /** The connection closed before any response came. */
  emptyReply: 52,
  certificate: 60,
  /** The body is in an encoding that cannot be decoded, or is not what its encoding says (`compressed`). */
  decoding: 61,
  /** A CA file to trust (`cacert`, SSL_CERT_FILE) cannot be read or holds no certificate. */
  caFile: 77,
  /** `exec`: the command cannot be run, or does not exist (as sh and env(1) report it). */
  commandNotExecutable: 126,
  commandNotFound: 127,
  /** Stopped by SIGINT or SIGTERM: 128 + the signal's number, as shells report it. */
  sigint: 130,
  sigterm: 143,
} as const;

export type ErrorKind = keyof typeof EXIT_CODES;

/**
 * The settings an error's text can point to, each by the name a Node program knows it by: its option, or undefined
 * when only the command line has it. The CLI shows each by its flag instead (src/cli/reporting.ts), so that the core
 * holds no command-line wording.
 */
export const OPTION_NAMES = {
  url: 'url',
  minValidity: 'minValidity',
  mqttHost: 'mqttHost',
  mqttPort: 'mqttPort',
  mqttCafile: 'mqttCafile',
  mqttCert: 'mqttCert',
  mqttKey: 'mqttKey',
  mqttUsername: 'mqttUsername',
  mqttPasswordFile: 'mqttPasswordFile',
  topicPrefix: 'topicPrefix',
  profile: 'profile',
  connectTimeout: 'tenantConnectTimeoutMs',
  cacert: 'cacert',
  insecure: 'insecure',
  verbose: 'log',
  paginate: 'paginate()',
  maxTime: undefined,
  retry: undefined,
} as const satisfies Record<string, string | undefined>;

export type Setting = keyof typeof OPTION_NAMES;
export type SettingNames = Record<Setting, string | undefined>;

/**
 * Text that names settings, written with the `wording` tag: in the template's own parts `{setting}` stands for the
 * setting's name, and a `[...]` part holding one is left out where a setting in it has no name; values put in with
 * `${}` (paths, server text) are taken as they are, but for a Wording, which names its settings in turn. Called with a
 * string, the whole string is the template.
 */
export interface Wording {
  readonly parts: readonly string[];
  readonly values: readonly unknown[];
}

export function wording(parts: TemplateStringsArray | string, ...values: unknown[]): Wording {
  return { parts: typeof parts === 'string' ? [parts] : [...parts], values };
}

function isWording(value: unknown): value is Wording {
  return typeof value === 'object' && value !== null && Array.isArray((value as Wording).parts);
}

const GROUP = /\[([^[\]]*\{\w+\}[^[\]]*)\]/g;
const PLACEHOLDER = /\{(\w+)\}/g;

/** The text with each setting named by `names`. */
export function render(text: string | Wording, names: SettingNames): string {
  if (typeof text === 'string') return text;
  const known = (setting: string): setting is Setting => Object.hasOwn(names, setting);
  /** A group that names no setting is text in brackets; one that does is kept, unbracketed, if all have names. */
  const group = (whole: string, inner: string) => {
    const settings = [...inner.matchAll(PLACEHOLDER)].map(([, setting]) => setting!).filter(known);
    if (settings.length === 0) return whole;
    return settings.every((setting) => names[setting] !== undefined) ? inner : '';
  };
  const fill = (part: string) =>
    part
      .replace(GROUP, group)
      .replace(PLACEHOLDER, (whole: string, setting: string) => (known(setting) ? (names[setting] ?? '') : whole));
  const value = (v: unknown) => (isWording(v) ? render(v, names) : String(v));
  return text.parts.map((part, i) => fill(part) + (i < text.values.length ? value(text.values[i]) : '')).join('');
}

/** What an error says, where it names settings, as written: kept for whoever shows the error with other names. */
const WORDING = new WeakMap<C8yTokenError, { message: string | Wording; hint: string | Wording | undefined }>();

export class C8yTokenError extends Error {
  override readonly name = 'C8yTokenError';
  readonly kind: ErrorKind;
  /** What the user should check; printed on its own line after the message. */
  readonly hint: string | undefined;
  /** Extra detail for a human who asks for it (never a credential). */
  readonly detail: string | undefined;

  constructor(
    kind: ErrorKind,
    message: string | Wording,
    options: { hint?: string | Wording | undefined; detail?: string; cause?: unknown } = {},
  ) {
    super(render(message, OPTION_NAMES), { cause: options.cause });
    this.kind = kind;
    this.hint = options.hint === undefined ? undefined : render(options.hint, OPTION_NAMES);
    this.detail = options.detail;
    WORDING.set(this, { message, hint: options.hint });
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

/** The error's message and hint with each setting named by `names` (the CLI's flags). */
export function describeError(
  error: C8yTokenError,
  names: SettingNames,
): { message: string; hint: string | undefined } {
  const text = WORDING.get(error);
  if (!text) return { message: error.message, hint: error.hint };
  return { message: render(text.message, names), hint: text.hint === undefined ? undefined : render(text.hint, names) };
}

export function usageError(message: string | Wording, hint?: string | Wording): C8yTokenError {
  return new C8yTokenError('usage', message, hint === undefined ? {} : { hint });
}

/** The error an aborted wait rejects with: the signal's reason when it is ours (SIGINT, SIGTERM), else a generic one. */
export function abortError(signal: AbortSignal): C8yTokenError {
  return signal.reason instanceof C8yTokenError
    ? signal.reason
    : new C8yTokenError('other', 'aborted', { cause: signal.reason });
}

/** What every wait does first: a signal aborted before the wait began would never fire its 'abort' event. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
