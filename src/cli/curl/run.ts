import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_TENANT_CONNECT_TIMEOUT_MS } from '../../core/defaults.ts';
import { describeSystemError } from '../../core/system-errors.ts';
import { C8yTokenError, usageError } from '../../core/errors.ts';
import { getToken, type GetTokenOptions } from '../../core/get-token.ts';
import { loadAgent } from '../../core/http/agent.ts';
import { tenantDispatcher } from '../../core/http/dispatcher.ts';
import { tenantTrust } from '../../core/http/trust.ts';
import { rememberedTrustAnchors } from '../../core/http/trust-anchors.ts';
import { decodeBody } from '../../core/http/content-encoding.ts';
import { bufferInput, type BufferedInput } from '../../core/http/body.ts';
import { receiving, statusError } from '../../core/http/failures.ts';
import { paginateRaw, parseItems } from '../../core/http/paginate.ts';
import { progressMeter } from './progress.ts';
import { hasHeader, type HttpRequest } from '../../core/http/http-request.ts';
import { prepareRequest, requestAt, type PreparedRequest, type RequestSpec, uploadPath } from './request.ts';
import { send, type Authorizer, type Exchange, type Response, type SendOptions } from '../../core/http/send.ts';
import { resumedAnswer, resumeOffset } from './resume.ts';
import { closeAfter, Sink } from './sink.ts';
import { tokenAuthorizer } from '../../core/http/token-authorizer.ts';
import { assertAllowedRequestPath, targetUrl } from '../../core/http/target.ts';
import { statusAndHeaders, writeResponse } from './write-response.ts';
import { expandWriteOut, type TransferInfo } from './write-out.ts';
import { once } from '../output.ts';
import { describeFailure, inFlags } from '../reporting.ts';
import { tenantClockCheck } from './tenant-clock.ts';
import { checkTenantUrl, tenantUrl } from '../../core/token/tenant-url.ts';

export interface CurlOptions extends GetTokenOptions, RequestSpec {
  /** Relative to the tenant's base URL, query string included; or an absolute URL on the tenant's origin. */
  path: string;
  /** --url: the tenant's base URL; else $C8Y_URL; else `https://<iss>` from the token. */
  url?: string | undefined;
  /** -i: the response headers before the body. */
  include?: boolean | undefined;
  /** -f: exit 22 on an HTTP status >= 400, without printing the body. */
  fail?: boolean | undefined;
  /** --fail-with-body: exit 22 on an HTTP status >= 400, after printing the body. */
  failWithBody?: boolean | undefined;
  /** -o: write the body to this file (`-`: stdout). */
  output?: string | undefined;
  /** -D: write every response's status line and headers to this file (`-`: stdout). */
  dumpHeader?: string | undefined;
  /** -C: resume the download at this byte, or (`-`) after what the -o file holds. */
  continueAt?: number | '-' | undefined;
  /** -w: what to print after the transfer. */
  writeOut?: string | undefined;
  location?: boolean | undefined;
  /** --max-redirs. */
  maxRedirects?: number | undefined;
  /** false with --no-progress-meter. */
  progressMeter?: boolean | undefined;
  /** --create-dirs: create the -o file's directories. */
  createDirs?: boolean | undefined;
  maxTimeMs?: number | undefined;
  /** --connect-timeout, for the tenant (named apart from getToken's own connectTimeoutMs for the broker). */
  tenantConnectTimeoutMs?: number | undefined;
  retry?: number | undefined;
  retryDelayMs?: number | undefined;
  retryMaxTimeMs?: number | undefined;
  retryConnRefused?: boolean | undefined;
  retryAllErrors?: boolean | undefined;
  /** -k: do not check the tenant's certificate. */
  insecure?: boolean | undefined;
  /** --cacert: trust these CAs (PEM) instead of Node's and the system's. */
  cacert?: string | undefined;
  /** --capath: trust the CAs in this hashed directory as well. */
  capath?: string | undefined;
  /** -x: the proxy for every request instead of the environment's ('' for none). */
  proxy?: string | undefined;
  /** --noproxy: the hosts reached without a proxy, instead of $no_proxy. */
  noProxy?: string | undefined;
  /** --paginate: print the items of all pages of a collection as one JSON array. */
  paginate?: boolean | undefined;
  pageSize?: number | undefined;
  /** Re-indent JSON; default: when stdout is a terminal and is where the body goes. */
  pretty?: boolean | undefined;
  /** -s: no warnings, no progress bar. */
  silent?: boolean | undefined;
  /** -v: request and response headers on stderr, the Authorization value redacted. */
  verbose?: boolean | undefined;
}

export interface CurlStreams {
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean; columns?: number };
}

/**
 * c8y-token curl: sends one request (or, with --paginate, one per page) to the tenant with the device token, the way
 * curl would with the same options, and writes the response to stdout or the -o file. Rejects with a C8yTokenError.
 */
export async function curl(options: CurlOptions, streams: CurlStreams = process): Promise<void> {
  const info: TransferInfo = {
    url: options.path,
    urlEffective: options.path,
    method: '',
    httpCode: 0,
    contentType: undefined,
    sizeDownload: 0,
    timeTotalMs: 0,
    numRedirects: 0,
    numRetries: 0,
    redirectUrl: undefined,
    exitCode: 0,
    errorMessage: undefined,
    headers: {},
  };
  const warn = options.silent ? () => {} : (line: string) => streams.stderr.write(`c8y-token: ${line}\n`);
  let failure: unknown;
  try {
    await transfer(options, streams, info, warn);
  } catch (error) {
    failure = error;
    info.exitCode = error instanceof C8yTokenError ? error.exitCode : 1;
    info.errorMessage = error instanceof C8yTokenError ? describeFailure(error).message : (error as Error).message;
  }
  // -w reports failures too (%{exitcode}, %{errormsg}); the transfer's own error is the one reported.
  if (options.writeOut !== undefined)
    await writeOut(options.writeOut, info, streams, warn).catch((error) => (failure ??= error));
  if (failure !== undefined) throw failure;
}

async function transfer(
  options: CurlOptions,
  streams: CurlStreams,
  info: TransferInfo,
  warn: (line: string) => void,
): Promise<void> {
  assertCombinable(options);
  assertAllowedRequestPath(options.path);
  checkTenantUrl(options.url, options.env);
  let input: Promise<BufferedInput> | undefined;
  const stdin = () => (input ??= bufferInput(streams.stdin));
  const resumeFrom = await resumeOffset(options.continueAt, options.output);
  // As in curl, a resumed download asks for the rest, whatever -r asked for.
  const prepared = await prepareRequest(resumeFrom > 0 ? { ...options, range: `${resumeFrom}-` } : options, stdin);
  const trace = options.verbose ? (line: string) => streams.stderr.write(`${line}\n`) : undefined;
  const anchors = rememberedTrustAnchors(options.env ?? process.env, (line) => trace?.(`* ${line}`));
  const trust = await tenantTrust({ ...options, anchors });
  const dump = headerDump(options.dumpHeader, streams);
  await closeAfter(dump, async () => {
    // curl creates the -D file before it connects: it is there, empty, when the connection fails.
    await dump?.create();
    // Started early, used late: loading undici overlaps the token retrieval.
    const agent = loadAgent();
    const { request, auth, checkClock } = await tenantRequest(options, prepared, warn, trace);
    info.url = request.url.href;
    info.urlEffective = request.url.href;
    info.method = request.method;
    const dispatcher = tenantDispatcher(await agent, trust, {
      connectTimeoutMs: options.tenantConnectTimeoutMs ?? DEFAULT_TENANT_CONNECT_TIMEOUT_MS,
      connections: options.paginate ? 2 : 1,
      proxy: options.proxy,
      noProxy: options.noProxy,
      env: options.env,
      trace,
    });
    const output = await openOutput(options, streams, dump, resumeFrom);
    const sendOptions = { dispatcher, auth, trace, warn, ...transferOptions(options, info, output, dump) };
    const run: Run = { options, streams, info, output, checkClock };
    const started = performance.now();
    try {
      await closeAfter(output.sink, () =>
        options.paginate ? fetchPages(request, sendOptions, run) : fetchOne(request, sendOptions, run),
      );
    } finally {
      info.timeTotalMs = performance.now() - started;
      await dispatcher.destroy();
    }
  });
}

/** How the request goes (redirects, retries, time limits) and where the headers of intermediate responses go. */
function transferOptions(
  options: CurlOptions,
  info: TransferInfo,
  output: Output,
  dump: Sink | undefined,
): Omit<SendOptions, 'dispatcher' | 'auth' | 'trace' | 'warn'> {
  return {
    location: options.location,
    maxRedirects: options.maxRedirects,
    retry: options.retry,
    retryDelayMs: options.retryDelayMs,
    retryMaxTimeMs: options.retryMaxTimeMs,
    retryConnRefused: options.retryConnRefused,
    retryAllErrors: options.retryAllErrors,
    failStatuses: options.fail || options.failWithBody,
    maxTimeMs: options.maxTimeMs,
    signal: options.signal,
    // -i -L and -D: every response's headers, the redirects' too, as curl writes them.
    ...(output.headerSinks.length > 0 && { onRedirect: output.writeHeaders }),
    onRetry: async (response) => {
      // Counted here too: -w %{num_retries} after a transfer that failed in the end has no exchange to read it from.
      info.numRetries++;
      // The retried attempts' bodies are not written (stdout cannot be rewound), but -D gets their headers, as in curl.
      if (response && dump) await writeHeaderLines(statusAndHeaders(response), [dump]);
    },
  };
}

/** The options curl refuses together. */
function assertCombinable(options: CurlOptions): void {
  if (options.paginate && (options.include || options.head || options.dumpHeader !== undefined || options.compressed))
    throw usageError('--paginate cannot be combined with -i, -I, -D or --compressed');
  if (options.fail && options.failWithBody)
    throw usageError('-f/--fail and --fail-with-body cannot be combined', 'pick one, as curl asks');
  if (options.continueAt !== undefined && (options.data?.length || options.form?.length || options.uploadFile))
    throw usageError('-C/--continue-at cannot be combined with a request body', 'c8y-token resumes downloads only');
}

/** The request on the tenant, the token that goes along, and the check of the tenant's clock in its answers. */
async function tenantRequest(
  options: CurlOptions,
  prepared: PreparedRequest,
  warn: (line: string) => void,
  trace: ((line: string) => void) | undefined,
): Promise<{ request: HttpRequest; auth: Authorizer | undefined; checkClock: (exchange: Exchange) => void }> {
  // A refused token is replaced after a 401, and the tenant's Date header is checked too: the clock warning is worth
  // one line per run, not one per token or answer.
  const clockWarning = once(warn);
  const tokenOptions: GetTokenOptions = { ...options, warn: clockWarning };
  const token = await getToken(tokenOptions);
  const base = tenantUrl(token, options.url, options.env);
  if (base.warning) warn(inFlags(base.warning));
  const baseUrl = new URL(base.url);
  const request = requestAt(prepared, targetUrl(baseUrl, uploadPath(options.path, options.uploadFile)));
  // A credential given with -H is the user's choice; it is sent instead of the token, and never refreshed.
  // `-H 'Authorization:'` sends none.
  const auth =
    hasHeader(request.headers, 'authorization') || request.omitted.has('authorization')
      ? undefined
      : tokenAuthorizer(token, baseUrl.origin, (refused) => getToken({ ...tokenOptions, exclude: refused }), warn);
  return { request, auth, checkClock: tenantClockCheck(clockWarning, trace) };
}

/** Where the response goes: the body to stdout or the -o file; the headers with it (-i, -I) and to -D. */
interface Output {
  sink: Sink;
  toFile: boolean;
  /** -C: the byte the -o file is continued at; 0 when it is written from the start. */
  resumeFrom: number;
  pretty: boolean;
  headerSinks: Sink[];
  writeHeaders: (response: Response) => Promise<void>;
}

async function openOutput(
  options: CurlOptions,
  streams: CurlStreams,
  dump: Sink | undefined,
  resumeFrom: number,
): Promise<Output> {
  const toFile = options.output !== undefined && options.output !== '-';
  if (toFile && options.createDirs) {
    await mkdir(dirname(options.output!), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      throw new C8yTokenError(
        'write',
        `--create-dirs: cannot create ${dirname(options.output!)}: ${describeSystemError(error)}`,
        {
          hint: 'check the -o path: may its directories be created there?',
        },
      );
    });
  }
  const sink = toFile ? Sink.file(options.output!, resumeFrom > 0) : Sink.stream(streams.stdout);
  const include = options.include === true || options.head === true;
  const headerSinks = [...(include ? [sink] : []), ...(dump ? [dump] : [])];
  return {
    sink,
    toFile,
    resumeFrom,
    pretty: options.pretty ?? (!toFile && streams.stdout.isTTY === true),
    headerSinks,
    writeHeaders: (response) => writeHeaderLines(statusAndHeaders(response), headerSinks),
  };
}

/** What the requests of one run share once the first is ready to go. */
interface Run {
  options: CurlOptions;
  streams: CurlStreams;
  info: TransferInfo;
  output: Output;
  checkClock: (exchange: Exchange) => void;
}

/** --paginate: every page's items, as one JSON array. */
async function fetchPages(request: HttpRequest, sendOptions: SendOptions, run: Run): Promise<void> {
  const pages = paginateRaw(request, {
    ...sendOptions,
    pageSize: run.options.pageSize,
    onPage: (exchange, bytes) => {
      run.checkClock(exchange);
      record(run.info, exchange);
      run.info.sizeDownload += bytes;
    },
  });
  await writeArray(pages, run.output.sink, run.output.pretty, request);
}

/** One request (its redirects and retries included), its response written as curl's options say. */
async function fetchOne(request: HttpRequest, sendOptions: SendOptions, run: Run): Promise<void> {
  const { options, streams, info, output } = run;
  const exchange = await send(request, sendOptions);
  run.checkClock(exchange);
  record(info, exchange);
  const failed = exchange.status >= 400 && (options.fail || options.failWithBody);
  // curl's -f -i: the headers, then exit 22.
  await output.writeHeaders(exchange);
  if (failed && !options.failWithBody) {
    const body = await receiving(exchange.url, () => bodyText(exchange, options.compressed === true));
    throw statusError(exchange.status, exchange.method, exchange.url, body);
  }
  const { resumeFrom } = output;
  const complete = resumeFrom > 0 && exchange.method === 'GET' && resumedAnswer(exchange, resumeFrom) === 'complete';
  // A download already complete writes nothing, but the -o file is there, as curl leaves it.
  if (complete) await output.sink.create();
  const written = await receiving(exchange.url, () =>
    writeResponse(exchange, output.sink, {
      headersOnly: options.head || complete,
      decode: options.compressed,
      onSize: (size) => (info.sizeDownload = size),
      pretty: output.pretty,
      progress:
        output.toFile && !options.silent && options.progressMeter !== false && streams.stderr.isTTY
          ? (total) => progressMeter(streams.stderr, total)
          : undefined,
    }),
  );
  info.sizeDownload = written.size;
  if (failed) throw statusError(exchange.status, exchange.method, exchange.url, written.start.toString('utf8'));
}

async function bodyText(exchange: Exchange, decode: boolean): Promise<string> {
  if (!decode) return exchange.body.text();
  const chunks: Buffer[] = [];
  for await (const chunk of decodeBody(exchange.body, exchange.headers['content-encoding'], exchange.url))
    chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function headerDump(path: string | undefined, streams: CurlStreams): Sink | undefined {
  if (path === undefined) return undefined;
  return path === '-' ? Sink.stream(streams.stdout) : Sink.file(path);
}

/**
 * The headers to each sink; line by line when there are two, as curl writes them (`-D - -i` shows each line twice).
 */
async function writeHeaderLines(text: string, sinks: Sink[]): Promise<void> {
  const lines = sinks.length > 1 ? text.split(/(?<=\r\n)/) : [text];
  for (const line of lines) for (const sink of sinks) await sink.write(line);
}

function record(info: TransferInfo, exchange: Exchange): void {
  info.urlEffective = exchange.url.href;
  info.method = exchange.method;
  info.httpCode = exchange.status;
  info.headers = exchange.headers;
  info.contentType =
    typeof exchange.headers['content-type'] === 'string' ? exchange.headers['content-type'] : undefined;
  info.numRedirects = exchange.redirects;
  info.numRetries = exchange.retries;
  const location = exchange.headers.location;
  info.redirectUrl =
    exchange.status >= 300 && exchange.status < 400 && typeof location === 'string'
      ? new URL(location, exchange.url).href
      : undefined;
}

/**
 * The items as one JSON array, one item after another, written page by page as the pages come: nothing is written
 * before the first page has arrived. Each item is the tenant's own bytes, or parsed and indented when pretty. One write
 * per page, not per item: stdout to a file or a pipe costs a system call per write.
 */
async function writeArray(
  pages: AsyncIterable<Buffer[]>,
  sink: Sink,
  pretty: boolean,
  request: HttpRequest,
): Promise<void> {
  const separator = Buffer.from(',\n');
  let count = 0;
  for await (const items of pages) {
    if (items.length === 0) continue;
    const texts = pretty
      ? parseItems(items, request).map((item) => Buffer.from(JSON.stringify(item, null, 2).replace(/^/gm, '  ')))
      : items;
    const parts: Buffer[] = [Buffer.from(count === 0 ? '[\n' : ',\n')];
    for (const [n, text] of texts.entries()) {
      if (n > 0) parts.push(separator);
      parts.push(text);
    }
    await sink.write(Buffer.concat(parts));
    count += items.length;
  }
  await sink.write(count === 0 ? '[]\n' : '\n]\n');
}

async function writeOut(
  template: string,
  info: TransferInfo,
  streams: CurlStreams,
  warn: (line: string) => void,
): Promise<void> {
  let text = template;
  if (template.startsWith('@')) {
    try {
      // curl reads the file line by line and drops the line ends: `\n` in the text writes one.
      text = (await readFile(template.slice(1), 'utf8')).replace(/[\r\n]/g, '');
    } catch (error) {
      warn(`warning: -w: cannot read ${template.slice(1)}: ${describeSystemError(error)}`);
      return;
    }
  }
  const { pieces, unknown } = expandWriteOut(text, info);
  // Even with -s, as curl does: a typo in a script's -w would otherwise go unseen.
  for (const name of unknown) streams.stderr.write(`c8y-token: warning: -w: unknown variable %{${name}}\n`);
  for (const piece of pieces) {
    const sink = Sink.stream(streams[piece.stream]);
    await sink.write(piece.text);
    await sink.close();
  }
}
