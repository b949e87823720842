import { type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
import type { Dispatcher } from 'undici';
import { abortError, C8yTokenError, type ErrorKind, throwIfAborted, wording } from '../errors.ts';
import { formatDuration } from '../duration.ts';
import type { RequestBody } from './body.ts';
import { errorCode, transferError } from './failures.ts';
import { hasHeader, type Header, type HttpRequest } from './http-request.ts';
import { assertAllowedPath } from './target.ts';
import { traceRequest, traceResponse, type Trace } from './trace.ts';

/** Credentials that go to one origin only. */
export interface Authorizer {
  readonly origin: string;
  /** The Authorization header's value. */
  authorization(): string;
  /**
   * Replaces credentials the server has just refused (401): `refused` is the Authorization header's value it refused.
   * Called at most once per request. Resolves false when there are no others to be had: the 401 then stands.
   */
  refresh(refused: string): Promise<boolean>;
}

export interface SendOptions {
  dispatcher: Dispatcher;
  auth?: Authorizer | undefined;
  /** -L: follow redirects. */
  location?: boolean | undefined;
  maxRedirects?: number | undefined;
  /** --retry: how often to retry a timeout or a 408, 429, 500, 502, 503 or 504. */
  retry?: number | undefined;
  /** --retry-delay: a fixed wait between retries instead of the doubling one (1s, 2s, 4s, ...). */
  retryDelayMs?: number | undefined;
  /** --retry-max-time: no retry begins once this long has passed since the first attempt began. */
  retryMaxTimeMs?: number | undefined;
  /** --retry-connrefused: a refused connection is retried too. */
  retryConnRefused?: boolean | undefined;
  /** --retry-all-errors: every failure is retried (but an interruption), and with `failStatuses` every status >= 400. */
  retryAllErrors?: boolean | undefined;
  /** An HTTP status >= 400 is a failure to the caller (curl's -f): --retry-all-errors retries it. */
  failStatuses?: boolean | undefined;
  /** --max-time: the longest one attempt (redirects and reading the body included) may take. */
  maxTimeMs?: number | undefined;
  signal?: AbortSignal | undefined;
  trace?: Trace | undefined;
  /** Receives the warnings curl prints too (a retry); not called with -s. */
  warn?: ((line: string) => void) | undefined;
  /** Called with each redirect response that is followed (-i -L prints them all), before the next request. */
  onRedirect?: ((hop: Response) => void | Promise<void>) | undefined;
  /**
   * Called before each retry's wait: with the response that is retried (its body already dropped), or with none when
   * the attempt failed.
   */
  onRetry?: ((response: Response | undefined) => void | Promise<void>) | undefined;
}

/** A response's status line and headers. */
export interface Response {
  url: URL;
  status: number;
  /**
   * The standard reason phrase of the status: undici 6 (the one that supports Node 18) does not hand on the one
   * the server sent, and HTTP/2 has none.
   */
  statusText: string;
  /** By lower-cased name; a repeated header has an array of its values. */
  headers: IncomingHttpHeaders;
  /** In the order and spelling the server sent them. */
  rawHeaders: Header[];
}

export type ResponseBody = Dispatcher.ResponseData['body'];

export interface Exchange extends Response {
  /** The URL that answered, after any redirects. */
  url: URL;
  method: string;
  /** Must be read or dumped: the --max-time clock of the attempt stops when it closes. */
  body: ResponseBody;
  redirects: number;
  retries: number;
}

export const DEFAULT_MAX_REDIRECTS = 50;
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** curl's longest wait between retries. */
const MAX_RETRY_WAIT_MS = 10 * 60_000;

/** Sends a request as curl would with the given options; the token goes to `auth.origin` and nowhere else. */
export async function send(request: HttpRequest, options: SendOptions): Promise<Exchange> {
  const state = { refreshed: false };
  const started = Date.now();
  let retries = 0;
  for (;;) {
    const attempt = deadline(options.maxTimeMs, options.signal);
    const retryLeft =
      retries < (options.retry ?? 0) &&
      request.body?.replayable !== false &&
      (options.retryMaxTimeMs === undefined || Date.now() - started < options.retryMaxTimeMs);
    let exchange: Omit<Exchange, 'retries'>;
    try {
      exchange = await follow(request, options, attempt.signal, state);
    } catch (error) {
      attempt.clear();
      const failure = transferError(error, request.url);
      if (!retryLeft || options.signal?.aborted || !retriedFailure(failure, options)) throw failure;
      await options.onRetry?.(undefined);
      await pause(retryWait(retries, options), failure.message, retries, options);
      retries++;
      continue;
    }
    if (retryLeft && retriedStatus(exchange.status, options)) {
      await exchange.body.dump();
      attempt.clear();
      await options.onRetry?.(exchange);
      const wait = retryAfter(exchange.headers) ?? retryWait(retries, options);
      await pause(wait, `HTTP ${exchange.status} from ${exchange.method} ${exchange.url.pathname}`, retries, options);
      retries++;
      continue;
    }
    exchange.body.once('close', attempt.clear);
    return { ...exchange, retries };
  }
}

const TRANSIENT_FAILURES = new Set<ErrorKind>(['timeout', 'resolve', 'proxyResolve']);

/**
 * curl's transient failures: a timeout, a host or proxy name that does not resolve (the DNS of a device that has just
 * booted or lost its link); a refused connection when asked; anything when asked for all errors.
 */
function retriedFailure(failure: C8yTokenError, options: SendOptions): boolean {
  if (TRANSIENT_FAILURES.has(failure.kind) || options.retryAllErrors) return true;
  return options.retryConnRefused === true && failure.kind === 'connect' && errorCode(failure.cause) === 'ECONNREFUSED';
}

function retriedStatus(status: number, options: SendOptions): boolean {
  return (
    RETRY_STATUSES.has(status) || (options.retryAllErrors === true && options.failStatuses === true && status >= 400)
  );
}

async function follow(
  request: HttpRequest,
  options: SendOptions,
  signal: AbortSignal,
  state: { refreshed: boolean },
): Promise<Omit<Exchange, 'retries'>> {
  const trace = options.trace ?? (() => {});
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let { url, method, headers, body } = request;
  let redirects = 0;
  for (;;) {
    throwIfAborted(signal);
    const auth = options.auth && url.origin === options.auth.origin ? options.auth : undefined;
    const authorization = auth?.authorization();
    const response = await dispatch(url, method, headers, body, authorization, options, signal);
    if (response.status === 401 && auth && !state.refreshed) {
      state.refreshed = true;
      if (body?.replayable !== false) {
        trace('* 401: the tenant refused the token; fetching a fresh one and sending again');
        // The refused response is kept until then: it is the answer when there is no other token.
        if (await auth.refresh(authorization!)) {
          await response.body.dump();
          continue;
        }
      } else {
        trace('* 401: the body came from stdin and cannot be sent again, so no fresh token is tried');
      }
    }
    const location = response.headers.location;
    if (!options.location || !REDIRECT_STATUSES.has(response.status) || typeof location !== 'string') {
      return { ...response, url, method, redirects };
    }
    await response.body.dump();
    await options.onRedirect?.({ ...response, url });
    if (++redirects > maxRedirects) {
      throw new C8yTokenError('redirects', `more than ${maxRedirects} redirects, the last one to ${location}`, {
        hint: 'the tenant or a proxy sends requests round in a loop',
      });
    }
    const next = new URL(location, url);
    if (next.protocol !== 'https:' && next.protocol !== 'http:') {
      throw new C8yTokenError('other', `refusing a redirect to ${next.protocol} (${next.href})`);
    }
    assertAllowedPath(next);
    const toGet = response.status === 303 ? method !== 'HEAD' : response.status <= 302 && method === 'POST';
    if (toGet && !request.methodForced) {
      method = 'GET';
      body = undefined;
      headers = headers.filter(([name]) => !/^content-(type|length)$/i.test(name));
    }
    if (body && !body.replayable)
      throw new C8yTokenError(
        'other',
        `cannot follow the redirect to ${next.href}: the body from stdin cannot be sent again`,
      );
    // curl's rule too: credentials given with -H do not follow the request to another origin.
    if (next.origin !== url.origin) headers = headers.filter(([name]) => name.toLowerCase() !== 'authorization');
    trace(`* following the ${response.status} redirect to ${next.href}`);
    url = next;
  }
}

async function dispatch(
  url: URL,
  method: string,
  headers: Header[],
  body: RequestBody | undefined,
  authorization: string | undefined,
  options: SendOptions,
  signal: AbortSignal,
): Promise<Omit<Response, 'url'> & { body: ResponseBody }> {
  const opened = body ? await body.open() : undefined;
  const sent: Header[] = [...headers];
  if (authorization !== undefined) sent.splice(1, 0, ['Authorization', authorization]);
  if (opened && !Buffer.isBuffer(opened.body) && opened.length !== undefined && !hasHeader(sent, 'content-length')) {
    sent.push(['Content-Length', String(opened.length)]);
  }
  if (options.trace) traceRequest(options.trace, method, url, sent);
  try {
    const response = await options.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: method as Dispatcher.HttpMethod,
      headers: sent.flat(),
      body: opened?.body ?? null,
      signal,
      // As the server spelled them: -i prints them so. (undici 6 reads this option; its types misspell it.)
      responseHeaders: 'raw',
      // undici closes the connection after a HEAD (for servers that send a body anyway); curl keeps it, and a
      // `Connection: close` in the answer to -I would differ from curl's.
      reset: false,
    } as Dispatcher.RequestOptions);
    const rawHeaders = pairs(response.headers as unknown as string[]);
    if (options.trace) traceResponse(options.trace, response.statusCode, reasonPhrase(response.statusCode), rawHeaders);
    return {
      status: response.statusCode,
      statusText: reasonPhrase(response.statusCode),
      headers: byName(rawHeaders),
      rawHeaders,
      body: response.body,
    };
  } catch (error) {
    throw transferError(error, url);
  }
}

function pairs(flat: string[]): Header[] {
  const headers: Header[] = [];
  for (let n = 0; n + 1 < flat.length; n += 2) headers.push([String(flat[n]), String(flat[n + 1])]);
  return headers;
}

function byName(headers: Header[]): IncomingHttpHeaders {
  const named: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const seen = named[key];
    named[key] = seen === undefined ? value : [seen, value].flat();
  }
  return named;
}

/** An AbortSignal for one attempt: --max-time, or the caller's signal (SIGINT), whichever comes first. */
function deadline(
  maxTimeMs: number | undefined,
  outer: AbortSignal | undefined,
): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(abortError(outer!));
  outer?.addEventListener('abort', onAbort, { once: true });
  if (outer?.aborted) onAbort();
  const timer =
    maxTimeMs === undefined
      ? undefined
      : setTimeout(() => {
          controller.abort(
            new C8yTokenError(
              'timeout',
              wording`the request took longer than [{maxTime} ]${formatDuration(maxTimeMs)}`,
              {
                hint: wording`the tenant or the network is slow: allow it more time[ ({maxTime})], or try again[ ({retry})]`,
              },
            ),
          );
        }, maxTimeMs);
  // An open request holds the process; the timer alone must not.
  timer?.unref();
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

function retryWait(retries: number, options: SendOptions): number {
  return options.retryDelayMs ? options.retryDelayMs : Math.min(1000 * 2 ** retries, MAX_RETRY_WAIT_MS);
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfter(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['retry-after'];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_WAIT_MS) : undefined;
}

async function pause(ms: number, why: string, retries: number, options: SendOptions): Promise<void> {
  const left = (options.retry ?? 0) - retries;
  options.warn?.(
    `warning: ${why}; retrying in ${formatDuration(ms)} (${left} ${left === 1 ? 'retry' : 'retries'} left)`,
  );
  throwIfAborted(options.signal);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(options.signal!));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? '';
}
