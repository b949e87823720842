/**
 * Every exit code, the one table that `--help`, the man page (EXIT STATUS) and docs/exit-codes.md show
 * (test/exit-codes.test.ts checks that they agree, and that it holds every code of core/errors.ts's EXIT_CODES).
 */
export interface ExitCode {
  code: number;
  /** The line in `--help`. */
  help: string;
  /** The row in docs/exit-codes.md (Markdown). */
  doc: string;
  /** Listed in the help of `get`, whose failures are the broker's and the token's; every code is in curl's. */
  token?: true;
}

export const EXIT_CODE_TABLE: readonly ExitCode[] = [
  {
    code: 0,
    help: 'success (an HTTP error status too, unless -f or --fail-with-body)',
    doc: 'success (for `curl`, an HTTP error status too, unless `-f` or `--fail-with-body`, as in curl)',
    token: true,
  },
  { code: 1, help: 'other error', doc: 'other error', token: true },
  {
    code: 2,
    help: 'usage error (unknown flag, bad value, unreadable file); refused path (/apps/, *.js)',
    doc: 'usage error: unknown flag or command, bad value, unreadable MQTT TLS or body file, a `decode` input that is not a JWT or is empty; `curl`: a refused path (`/apps/`, `*.js`) or origin',
    token: true,
  },
  {
    code: 5,
    help: "could not resolve the proxy's host",
    doc: "`curl`, `doctor`: could not resolve the proxy's host",
  },
  { code: 6, help: 'could not resolve the tenant host', doc: '`curl`, `doctor`: could not resolve the tenant host' },
  {
    code: 7,
    help: 'could not connect to the tenant, the proxy or the MQTT broker',
    doc: 'could not connect to the MQTT broker (refused, unreachable, TLS or authentication failure); `curl`, `doctor`: or to the tenant, or to the proxy (or its scheme is not http or https)',
    token: true,
  },
  {
    code: 18,
    help: 'the connection closed before the whole body came',
    doc: '`curl`: the connection closed before the whole body came (fewer bytes than `Content-Length` said); what came is written',
  },
  {
    code: 22,
    help: 'HTTP status >= 400 with -f or --fail-with-body, or any error status with --paginate',
    doc: '`curl`: HTTP status >= 400 with `-f` or `--fail-with-body`; any error status with `--paginate`; `doctor`: the tenant answered `GET /user/currentUser` with an error status (401: the token was refused)',
  },
  {
    code: 23,
    help: 'could not write the output',
    doc: '`curl`: could not write the output (`-o` path, closed pipe)',
  },
  {
    code: 26,
    help: '-T: the file to upload cannot be read',
    doc: '`curl -T`: the file to upload cannot be read (missing, no permission, a directory)',
  },
  {
    code: 28,
    help: 'timed out (waiting for the token, --connect-timeout, --max-time)',
    doc: 'timed out waiting for the token (or for another process asking for it; the message names a bridge that reports down, or the issuer of tokens refused for another tenant); `decode`: or for a token on stdin; `curl`: or `--connect-timeout`, `--max-time`; `doctor`: or for the tenant',
    token: true,
  },
  {
    code: 33,
    help: '-C: the server ignored the byte range, so the download cannot resume',
    doc: '`curl -C`: the server ignored the byte range asked for, so the download cannot resume (the file is left as it was)',
  },
  {
    code: 35,
    help: 'TLS handshake with the tenant failed',
    doc: '`curl`, `doctor`: TLS handshake with the tenant failed',
  },
  {
    code: 47,
    help: 'more redirects than 50 (or --max-redirs)',
    doc: '`curl`: more than 50 redirects (or `--max-redirs`)',
  },
  {
    code: 52,
    help: 'the connection closed without a reply',
    doc: '`curl`, `doctor`: the tenant closed the connection without a reply',
  },
  {
    code: 56,
    help: 'the connection broke (reset) before the response was complete, or the proxy refused the tunnel',
    doc: '`curl`, `doctor`: the connection to the tenant broke (reset) before the response was complete, or the proxy refused the tunnel',
  },
  {
    code: 60,
    help: "the tenant's certificate is not trusted",
    doc: "`curl`, `doctor`: the tenant's certificate is not trusted",
  },
  {
    code: 61,
    help: "--compressed: the body's encoding is unknown, or the body is not what it says",
    doc: '`curl --compressed`: the body came in an encoding c8y-token cannot decode, or is not what its `Content-Encoding` says',
  },
  {
    code: 77,
    help: 'a CA file (--cacert, SSL_CERT_FILE) cannot be read',
    doc: '`curl`, `doctor`: a CA file (`--cacert`, `SSL_CERT_FILE`, `CURL_CA_BUNDLE`) cannot be read or holds no PEM certificate',
  },
  { code: 126, help: 'exec: the command cannot be run', doc: '`exec`: the command cannot be run', token: true },
  { code: 127, help: 'exec: the command was not found', doc: '`exec`: the command was not found', token: true },
  {
    code: 130,
    help: 'interrupted (SIGINT)',
    doc: 'interrupted by SIGINT (Ctrl-C) while waiting',
    token: true,
  },
  { code: 143, help: 'terminated (SIGTERM)', doc: 'terminated by SIGTERM while waiting', token: true },
];

/** The `Exit codes:` block of a command's help: every code, or (`token`) those of `get`. */
export function exitCodesHelp(scope: 'all' | 'token'): string {
  const codes = EXIT_CODE_TABLE.filter((entry) => scope === 'all' || entry.token);
  return `\nExit codes:\n${codes.map((entry) => `  ${String(entry.code).padEnd(4)}${entry.help}`).join('\n')}`;
}
