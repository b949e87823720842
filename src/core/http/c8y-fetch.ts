import type { Dispatcher } from 'undici';
import { OPTION_NAMES, render, usageError } from '../errors.ts';
import type { GetTokenOptions } from '../get-token.ts';
import type { DeviceToken } from '../token/claims.ts';
import { tokenSource, type TokenSource } from '../token/source.ts';
import { checkTenantUrl, tenantUrl } from '../token/tenant-url.ts';
import { DEFAULT_TENANT_CONNECT_TIMEOUT_MS } from '../defaults.ts';
import { loadAgent } from './agent.ts';
import { tenantDispatcher } from './dispatcher.ts';
import { receiving } from './failures.ts';
import { fetchBody, type FetchBody } from './fetch-body.ts';
import { paginate } from './paginate.ts';
import type { RequestBody } from './body.ts';
import type { Header, HttpRequest } from './http-request.ts';
import type { ProxySettings } from './proxy.ts';
import { send, type Authorizer, type Exchange } from './send.ts';
import { targetUrl } from './target.ts';
import { tokenAuthorizer } from './token-authorizer.ts';
import { tenantTrust, type TrustSettings } from './trust.ts';

/**
 * getToken's options (`url`: the tenant's base URL, default `C8Y_URL`, else `https://` and the token's issuer), the
 * proxy and trust settings of `c8y-token curl` (`proxy`, `noProxy`, `cacert`, `capath`, `insecure`; by default from
 * the environment, as curl reads it), and:
 */
export interface C8yFetchOptions extends GetTokenOptions, ProxySettings, TrustSettings {
  env?: NodeJS.ProcessEnv | undefined;
  /** Give up connecting to the tenant, TLS handshake included, after this long (default 30 s). */
  tenantConnectTimeoutMs?: number | undefined;
  /** The undici Dispatcher that sends the requests instead of c8y-token's own (then proxy and trust do not apply). */
  dispatcher?: Dispatcher | undefined;
  /** Where the token comes from; default: tokenSource(options). Pass one to share its token with other users. */
  tokens?: TokenSource | undefined;
}

export interface C8yRequestInit {
  /** Default GET. */
  method?: string | undefined;
  /** `Accept: application/json` is sent unless given here; an `Authorization` given here replaces the token. */
  headers?: Headers | Record<string, string> | Array<[string, string]> | undefined;
  /** Bytes and text are sent again after a 401; a stream is, up to 1 MiB (held in memory), else only once. */
  body?: FetchBody | null | undefined;
  signal?: AbortSignal | null | undefined;
  /** 'follow' (default) follows redirects; the token goes along only on the tenant's origin. */
  redirect?: 'follow' | 'manual' | undefined;
}

export interface PageOptions {
  /** `pageSize` when the path's query string has none (default 1000; Cumulocity serves at most 2000). */
  pageSize?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** A `fetch` bound to the tenant: paths are relative to its base URL, and the device token goes along. */
export interface C8yFetch {
  (path: string, init?: C8yRequestInit): Promise<Response>;
  /** The items of a collection (`/inventory/managedObjects`, ...), page after page, the next two asked for ahead. */
  paginate(path: string, options?: PageOptions): AsyncGenerator<unknown, void, undefined>;
  /** Closes the connections to the tenant (not those of a dispatcher passed in). */
  close(): Promise<void>;
}

/**
 * Returns a fetch-like function for the tenant. The device token comes from a token source (renewed before it
 * expires); it is sent to the tenant's origin only, and a 401 gets one fresh token and one more try, body included.
 * HTTP error statuses resolve, as with fetch; a failed transfer rejects with a C8yTokenError, an abort with the
 * signal's reason.
 */
export function createC8yFetch(options: C8yFetchOptions = {}): C8yFetch {
  checkTenantUrl(options.url, options.env);
  const tokens = options.tokens ?? tokenSource(options);
  const { dispatcher, close } = tenantConnections(options);
  let warned = false;

  /** The URL on the tenant, and the token for it, renewed on a 401 through the source. */
  async function bind(path: string, signal: AbortSignal | undefined): Promise<{ url: URL; auth: Authorizer }> {
    const token = await untilAborted(tokens.current(), signal);
    const base = tenantUrl(token, options.url, options.env);
    if (base.warning && !warned) options.log?.(render(base.warning, OPTION_NAMES));
    warned = true;
    const url = targetUrl(new URL(base.url), path);
    return { url, auth: tokenAuthorizer(token, url.origin, (refused) => tokens.refresh(refused), options.warn) };
  }

  const c8yFetch = async (path: string, init: C8yRequestInit = {}): Promise<Response> => {
    const signal = init.signal ?? undefined;
    const method = init.method?.toUpperCase() ?? 'GET';
    const given = new Headers(init.headers);
    const body = init.body == null ? undefined : await fetchBody(init.body);
    if (body && (method === 'GET' || method === 'HEAD')) throw usageError(`a ${method} request cannot have a body`);
    const { url, auth } = await bind(path, signal);
    const request: HttpRequest = {
      url,
      method,
      methodForced: false,
      headers: requestHeaders(given, body),
      omitted: new Set(),
      body,
    };
    try {
      const exchange = await send(request, {
        dispatcher: await dispatcher(),
        auth: given.has('authorization') ? undefined : auth,
        location: init.redirect !== 'manual',
        signal,
        trace: options.log,
      });
      return await toResponse(exchange);
    } catch (error) {
      throw signal?.aborted ? signal.reason : error;
    }
  };

  return Object.assign(c8yFetch, {
    async *paginate(path: string, page: PageOptions = {}): AsyncGenerator<unknown, void, undefined> {
      const { url, auth } = await bind(path, page.signal);
      const request: HttpRequest = {
        url,
        method: 'GET',
        methodForced: false,
        headers: requestHeaders(),
        omitted: new Set(),
        body: undefined,
      };
      yield* paginate(request, {
        dispatcher: await dispatcher(),
        auth,
        location: true,
        pageSize: page.pageSize,
        signal: page.signal,
        trace: options.log,
      });
    },
    close,
  });
}

/** The dispatcher to the tenant: the one passed in, or c8y-token's own, made on first use and closed by close(). */
function tenantConnections(options: C8yFetchOptions): {
  dispatcher: () => Promise<Dispatcher>;
  close: () => Promise<void>;
} {
  let agent: Promise<Dispatcher> | undefined;
  const dispatcher = (): Promise<Dispatcher> => {
    if (options.dispatcher) return Promise.resolve(options.dispatcher);
    agent ??= Promise.all([loadAgent(), tenantTrust(options)]).then(([undici, trust]) =>
      tenantDispatcher(undici, trust, {
        connectTimeoutMs: options.tenantConnectTimeoutMs ?? DEFAULT_TENANT_CONNECT_TIMEOUT_MS,
        // paginate() asks for two pages at once.
        connections: 2,
        proxy: options.proxy,
        noProxy: options.noProxy,
        env: options.env,
        trace: options.log,
      }),
    );
    return agent;
  };
  const close = async () => {
    const closing = agent;
    agent = undefined;
    await (await closing)?.close();
  };
  return { dispatcher, close };
}

function requestHeaders(given = new Headers(), body?: RequestBody): Header[] {
  const headers: Header[] = [];
  if (!given.has('user-agent')) headers.push(['User-Agent', 'c8y-token']);
  if (!given.has('accept')) headers.push(['Accept', 'application/json']);
  if (body?.contentType && !given.has('content-type')) headers.push(['Content-Type', body.contentType]);
  for (const [name, value] of given) headers.push([name, value]);
  return headers;
}

/** A WHATWG Response over undici's answer; the body streams as it comes. */
async function toResponse(exchange: Exchange): Promise<Response> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(exchange.headers)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
  }
  const empty = exchange.method === 'HEAD' || [204, 205, 304].includes(exchange.status);
  if (empty) await exchange.body.dump();
  const response = new Response(empty ? null : webStream(exchange), {
    status: exchange.status,
    statusText: exchange.statusText,
    headers,
  });
  Object.defineProperty(response, 'url', { value: exchange.url.href });
  return response;
}

/** Pulled as it is read; a connection that breaks midway errors it with the C8yTokenError curl would report. */
function webStream(exchange: Exchange): ReadableStream<Uint8Array> {
  const chunks = exchange.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream({
    async pull(controller) {
      const next = await receiving(exchange.url, () => chunks.next());
      if (next.done) controller.close();
      else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    },
    cancel() {
      exchange.body.destroy();
    },
  });
}

function untilAborted(token: Promise<DeviceToken>, signal: AbortSignal | undefined): Promise<DeviceToken> {
  if (!signal) return token;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    token.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
