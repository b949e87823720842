import { text } from 'node:stream/consumers';
import { basename } from 'node:path';
import { C8yTokenError, usageError } from '../../core/errors.ts';
import {
  bufferInput,
  type BufferedInput,
  READ_HINT,
  type RequestBody,
  segmentsBody,
  unreadable,
} from '../../core/http/body.ts';
import type { Header, HttpRequest } from '../../core/http/http-request.ts';
import { ACCEPT_ENCODING } from '../../core/http/content-encoding.ts';
import { dataBody, type DataArg, urlencodedPiece } from './data.ts';
import { multipartBody, parseFormArg } from './multipart.ts';

/** A request as curl's options describe it. */
export interface RequestSpec {
  /** -X: the method; kept on redirects, as curl does. */
  method?: string | undefined;
  /** -H: `Name: value`; `Name:` removes a header c8y-token would send; `Name;` sends it empty. */
  headers?: string[] | undefined;
  /** -d, --data-binary, --data-raw, --json, in command-line order. */
  data?: DataArg[] | undefined;
  /** -F: multipart form parts. */
  form?: string[] | undefined;
  /** -T: the file to send as the body of a PUT, streamed (`-`: stdin). */
  uploadFile?: string | undefined;
  /** -G: the data goes into the query string of a GET. */
  get?: boolean | undefined;
  /** --url-query: pieces of the query string, encoded as --data-urlencode does; `+content` goes as it is. */
  urlQuery?: string[] | undefined;
  /** -I: HEAD. */
  head?: boolean | undefined;
  userAgent?: string | undefined;
  /** -e: the Referer header. */
  referer?: string | undefined;
  /** -r: the Range header's bytes (`0-99`, `100-`, `-50`). */
  range?: string | undefined;
  /** --compressed: ask for the encodings curl asks for (and decode the answer: the caller's part). */
  compressed?: boolean | undefined;
}

/** The request minus its URL, which needs the token's issuer; bodies are checked before any token is fetched. */
export interface PreparedRequest {
  method: string;
  methodForced: boolean;
  headers: Header[];
  /** Lower-cased names `-H 'Name:'` leaves out (`authorization`: no token either). */
  omitted: Set<string>;
  body: RequestBody | undefined;
  /** --url-query's pieces, then -G's data, for the query string. */
  query: string | undefined;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** `stdin` is read (up to the replay limit) only when a body option names `@-`. */
export async function prepareRequest(
  spec: RequestSpec,
  stdin: () => Promise<BufferedInput> = () => bufferInput(process.stdin),
): Promise<PreparedRequest> {
  const data = spec.data ?? [];
  const form = spec.form ?? [];
  const upload = spec.uploadFile;
  if (data.length > 0 && form.length > 0) throw conflict('-d/--data/--json and -F/--form');
  if (upload !== undefined && (data.length > 0 || form.length > 0)) throw conflict('-T/--upload-file and -d or -F');
  if (spec.head && (form.length > 0 || upload !== undefined || (data.length > 0 && !spec.get)))
    throw conflict('-I/--head and a request body');
  if (spec.get && form.length > 0) throw conflict('-G/--get and -F/--form');

  let body: RequestBody | undefined;
  const query = await urlQuery(spec.urlQuery ?? [], stdin);
  if (upload !== undefined) {
    body = await uploadBody(upload, stdin);
  } else if (form.length > 0) {
    body = await multipartBody(form.map(parseFormArg), stdin);
  } else if (data.length > 0) {
    const built = await dataBody(data, stdin);
    if (spec.get) query.push(await readAll(built));
    else body = built;
  }

  if (spec.method !== undefined && !TOKEN.test(spec.method))
    throw usageError(`-X: '${spec.method}' is not a request method`, 'use a method such as GET, POST, PUT or DELETE');
  const method = spec.method ?? (spec.head ? 'HEAD' : upload !== undefined ? 'PUT' : body ? 'POST' : 'GET');
  const defaults: Header[] = [
    ['User-Agent', spec.userAgent ?? 'c8y-token'],
    ['Accept', 'application/json'],
    ...(spec.compressed ? [['Accept-Encoding', ACCEPT_ENCODING] as Header] : []),
    ...(spec.referer ? [['Referer', spec.referer] as Header] : []),
    ...(spec.range ? [['Range', `bytes=${spec.range}`] as Header] : []),
    ...(body?.contentType ? [['Content-Type', body.contentType] as Header] : []),
  ];
  const given = (spec.headers ?? []).map(parseHeaderArg);
  return {
    method,
    methodForced: spec.method !== undefined,
    headers: mergeHeaders(defaults, given),
    omitted: new Set(given.filter(([, value]) => value === undefined).map(([name]) => name.toLowerCase())),
    body,
    query: query.length > 0 ? query.join('&') : undefined,
  };
}

/** -T's body: the file, streamed and read again for each attempt, or stdin; no Content-Type, as curl sends none. */
async function uploadBody(file: string, stdin: () => Promise<BufferedInput>): Promise<RequestBody> {
  if (file === '-') return segmentsBody([{ input: await stdin(), stripNewlines: false }], undefined);
  const problem = await unreadable(file);
  if (problem) throw new C8yTokenError('read', `-T: cannot read ${file}: ${problem}`, { hint: READ_HINT });
  return segmentsBody([{ file, stripNewlines: false }], undefined);
}

/** curl's rule for -T: a path that ends in `/` gets the file's name (the query string stays after it). */
export function uploadPath(path: string, file: string | undefined): string {
  if (file === undefined || file === '-') return path;
  const query = path.indexOf('?');
  const [pathname, search] = query < 0 ? [path, ''] : [path.slice(0, query), path.slice(query)];
  return pathname.endsWith('/') ? `${pathname}${encodeURIComponent(basename(file))}${search}` : path;
}

/** As curl joins them: empty pieces too (two give `&`), and nothing when all of it is empty. */
async function urlQuery(args: string[], stdin: () => Promise<BufferedInput>): Promise<string[]> {
  const pieces: string[] = [];
  for (const arg of args)
    pieces.push(arg.startsWith('+') ? arg.slice(1) : await urlencodedPiece(arg, stdin, '--url-query'));
  return pieces.join('&') === '' ? [] : [pieces.join('&')];
}

export function requestAt(prepared: PreparedRequest, url: URL): HttpRequest {
  const { query, ...request } = prepared;
  const target = new URL(url);
  if (query) target.search = target.search ? `${target.search}&${query}` : `?${query}`;
  return { ...request, url: target };
}

/** curl's rule: a header given with -H replaces the one c8y-token would send under the same name. */
function mergeHeaders(defaults: Header[], given: [string, string | undefined][]): Header[] {
  const named = new Set(given.map(([name]) => name.toLowerCase()));
  const headers = defaults.filter(([name]) => !named.has(name.toLowerCase()));
  for (const [name, value] of given) if (value !== undefined) headers.push([name, value]);
  return headers;
}

function parseHeaderArg(arg: string): [string, string | undefined] {
  const match = /^([^:;]*)([:;])(.*)$/s.exec(arg);
  const name = match?.[1]?.trim() ?? '';
  // HTTP allows no control character in a value but the tab: a stray one would make undici refuse the request.
  if (!match || !TOKEN.test(name) || CONTROL.test(match[3]!) || (match[2] === ';' && match[3]!.trim() !== '')) {
    throw usageError(
      `-H: '${arg}' is not a header`,
      "use 'Name: value'; 'Name:' to leave a header out; 'Name;' for an empty one",
    );
  }
  const value = match[3]!.trim();
  if (match[2] === ';') return [name, ''];
  return [name, value === '' ? undefined : value];
}

async function readAll(body: RequestBody): Promise<string> {
  const { body: content } = await body.open();
  return Buffer.isBuffer(content) ? content.toString('utf8') : text(content);
}

function conflict(what: string) {
  return usageError(`${what} cannot be combined`, 'curl allows one request method: pick one way to send data');
}
