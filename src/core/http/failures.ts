import { STATUS_CODES } from 'node:http';
import { C8yTokenError, wording, type ErrorKind, type Wording } from '../errors.ts';

const RESOLVE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const CONNECT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL']);
/** The connection broke after it was made: reset by the peer, or closed before the response was complete. */
const BROKEN = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'UND_ERR_SOCKET']);
const TIMEOUT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
/** OpenSSL's verification failures: the peer's certificate is not trusted for this host (curl's 60). */
const CERTIFICATE = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The system's or undici's code for a failure, its cause's when it has none itself (undici wraps Node's errors). */
export function errorCode(error: unknown): string {
  const failure = error as (NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }) | undefined;
  // String(): a DOMException's code is a number.
  return String(failure?.code ?? failure?.cause?.code ?? '');
}

/**
 * Turns what undici or Node threw for a request into an error whose kind is curl's exit code for it. `phase` says
 * whether the response had begun: a connection the server closes is an empty reply before, a partial body after.
 */
export function transferError(error: unknown, url: URL, phase: 'response' | 'body' = 'response'): C8yTokenError {
  if (error instanceof C8yTokenError) return error;
  const failure = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = errorCode(error);
  const detail = [failure?.message, failure?.cause?.message].filter(Boolean).join(': ') || String(error);
  const make = (kind: ErrorKind, message: string, hint: string | Wording) =>
    new C8yTokenError(kind, message, { hint, detail, cause: error });
  if (RESOLVE.has(code)) {
    return make(
      'resolve',
      `could not resolve host ${url.hostname}`,
      wording`check the tenant host ({url}, C8Y_URL or the token's issuer) and the device's DNS settings`,
    );
  }
  if (CONNECT.has(code)) {
    return make(
      'connect',
      `could not connect to ${url.host} (${code})`,
      'check the network connection and the port; is a proxy or firewall in the way?',
    );
  }
  if (TIMEOUT.has(code)) {
    const phase = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connecting to' : 'waiting for';
    return make(
      'timeout',
      `timed out ${phase} ${url.host}`,
      wording`the tenant or the network is slow: try a longer {connectTimeout}[ or {maxTime}][, or {retry}]`,
    );
  }
  if (code === 'UND_ERR_SOCKET' && phase === 'response') {
    return make(
      'emptyReply',
      `${url.host} closed the connection without a reply`,
      'the tenant or a proxy dropped the request: try again',
    );
  }
  if (code === 'UND_ERR_SOCKET') {
    return make(
      'partial',
      `the connection to ${url.host} closed before the whole body came`,
      'the tenant, a proxy or the network closed it: try again',
    );
  }
  if (BROKEN.has(code)) {
    return make(
      'receive',
      `the connection to ${url.host} broke before the response was complete (${code})`,
      'the tenant, a proxy or the network closed it: try again',
    );
  }
  if (CERTIFICATE.has(code)) {
    return make(
      'certificate',
      `the certificate of ${url.host} is not trusted (${code})`,
      wording`add the CA that signed the tenant's certificate to the system's (update-ca-certificates), or pass {cacert} ({insecure} skips the check: insecure)`,
    );
  }
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return make(
      'tls',
      `TLS handshake with ${url.host} failed (${code})`,
      wording`does the server speak https on this port? check {url} and the port`,
    );
  }
  return make(
    'other',
    `request to ${url.origin} failed: ${code || failure?.message || 'unknown error'}`,
    wording`add {verbose} for detail`,
  );
}

/** Reads a response body: a connection that breaks midway is reported like one that breaks before the response. */
export async function receiving<T>(url: URL, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw transferError(error, url, 'body');
  }
}

/** The error for an HTTP status >= 400: Cumulocity's own `error` and `message` say what went wrong. */
export function statusError(status: number, method: string, url: URL, body: string): C8yTokenError {
  let reason = '';
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    reason = [parsed.error, parsed.message].filter((part) => typeof part === 'string' && part !== '').join(': ');
  } catch {
    // Not a Cumulocity error body: the status says it all.
  }
  const message = `HTTP ${[status, STATUS_CODES[status]].filter(Boolean).join(' ')} from ${method} ${url.pathname}${url.search}`;
  const hint =
    STATUS_HINTS[status] ??
    (status >= 500 ? wording`the tenant has a problem: try again later[, or with {retry} N]` : undefined);
  return new C8yTokenError('http', reason ? `${message}: ${printable(reason)}` : message, hint ? { hint } : {});
}

const STATUS_HINTS: Record<number, string | Wording> = {
  401: 'the tenant refused the token: is the device still registered, and its user enabled?',
  403: 'the device user lacks the permission: device users may only read and change their own data',
  429: wording`too many requests: try again later[ ({retry} N waits as long as the tenant asks)]`,
};

/** Server text reaches the terminal: no control characters, bounded length. */
function printable(text: string): string {
  const clean = text.replace(/\p{Cc}/gu, ' ');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}
