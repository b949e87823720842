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
  /** An HTTP status >= 400 with --fail, or any during --paginate. */
  http: 22,
  /** The connection closed before the whole body came (fewer bytes than Content-Length said). */
  partial: 18,
  write: 23,
  timeout: 28,
  tls: 35,
  redirects: 47,
  /** The connection broke while the response was on its way (reset, or closed before the whole body came). */
  receive: 56,
  /** The connection closed before any response came. */
  emptyReply: 52,
  certificate: 60,
  /** A CA file to trust (--cacert, SSL_CERT_FILE) cannot be read or holds no certificate. */
  caFile: 77,
  /** `exec`: the command cannot be run, or does not exist (as sh and env(1) report it). */
  commandNotExecutable: 126,
  commandNotFound: 127,
  /** Stopped by SIGINT or SIGTERM: 128 + the signal's number, as shells report it. */
  sigint: 130,
  sigterm: 143,
} as const;

export type ErrorKind = keyof typeof EXIT_CODES;

export class C8yTokenError extends Error {
  override readonly name = 'C8yTokenError';
  readonly kind: ErrorKind;
  /** What the user should check; printed on its own line after the message. */
  readonly hint: string | undefined;
  /** Extra detail for --verbose (never a credential). */
  readonly detail: string | undefined;

  constructor(kind: ErrorKind, message: string, options: { hint?: string; detail?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.hint = options.hint;
    this.detail = options.detail;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

export function usageError(message: string, hint?: string): C8yTokenError {
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
