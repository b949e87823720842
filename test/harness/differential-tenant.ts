import type { ServerResponse } from 'node:http';
import zlib, { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { sendJson, startTenant, type RecordedRequest } from '../../sim/tenant.ts';
import type { Lane } from './differential.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'];
/** The body of /file: 1000 bytes, each line numbered, to see which part a range brought. */
export const FILE_BODY = Array.from({ length: 100 }, (_, n) => `line ${String(n).padStart(3, '0')}\n`).join('');

/**
 * A tenant for the differential suite: sim/tenant.ts plus routes that misbehave on purpose (a connection closed
 * without a reply, a body cut short, a flaky endpoint) and routes for ranges, compression and exact header names.
 */
export async function startLane(): Promise<Lane> {
  const tenant = await startTenant();
  let calls = 0;
  const route = (path: string, handler: (request: RecordedRequest, response: ServerResponse) => void) => {
    for (const method of METHODS) tenant.route(method, path, handler);
  };
  const query = (request: RecordedRequest) => new URL(request.url, tenant.url).searchParams;

  route('/echo', (request, response) => sendJson(response, 200, { method: request.method }));
  route('/text', (_, response) => {
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 14 });
    response.end('line 1\nline 2\n');
  });
  route('/headers', (_, response) => {
    // A flat list of names and values: node:http takes no list of pairs (it throws, and the request hangs).
    response.writeHead(200, [
      'Content-Type',
      'text/plain',
      'X-Mixed-Case',
      'yes',
      'ETag',
      '"abc"',
      'x-lower',
      'no',
      'Content-Length',
      '3',
    ]);
    response.end('ok\n');
  });
  route('/empty-reply', (_, response) => response.socket?.destroy());
  route('/cut-short', (_, response) => {
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 100 });
    response.write('x'.repeat(40), () => setTimeout(() => response.socket?.destroy(), 50));
  });
  route('/flaky', (request, response) => {
    calls++;
    if (calls <= Number(query(request).get('fail') ?? 1))
      return sendJson(response, 503, { error: 'test/Unavailable', message: `attempt ${calls}` });
    sendJson(response, 200, { attempt: calls });
  });
  route('/slow', (_, response) => {
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 10 });
    response.write('12345');
    setTimeout(() => response.end('67890'), 3000).unref();
  });
  route('/moved', (_, response) => {
    response.writeHead(301, { Location: '/text', 'Content-Type': 'text/plain', 'Content-Length': 6 });
    response.end('moved\n');
  });
  route('/loop', (_, response) => {
    response.writeHead(302, { Location: '/loop' });
    response.end();
  });
  route('/file', (request, response) => ranged(request, response, true));
  route('/file-norange', (request, response) => ranged(request, response, false));
  route('/compressed', (request, response) => compressed(request, response, query(request).get('encoding')));
  route('/encoded', (request, response) => encoded(response, query(request).get('as') ?? ''));
  route('/upload', (request, response) => sendJson(response, 201, { length: request.body.length }));
  return { tenant, reset: () => (calls = 0) };
}

function ranged(request: RecordedRequest, response: ServerResponse, honour: boolean): void {
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? '');
  if (!honour || !range) {
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': FILE_BODY.length });
    return void response.end(FILE_BODY);
  }
  const start = range[1] === '' ? FILE_BODY.length - Number(range[2]) : Number(range[1]);
  const end =
    range[1] !== '' && range[2] !== '' ? Math.min(Number(range[2]), FILE_BODY.length - 1) : FILE_BODY.length - 1;
  if (start >= FILE_BODY.length) {
    response.writeHead(416, { 'Content-Range': `bytes */${FILE_BODY.length}`, 'Content-Length': 0 });
    return void response.end();
  }
  const part = FILE_BODY.slice(start, end + 1);
  response.writeHead(206, {
    'Content-Type': 'text/plain',
    'Content-Range': `bytes ${start}-${end}/${FILE_BODY.length}`,
    'Content-Length': part.length,
  });
  response.end(part);
}

/** Encodes the body as ?encoding= asks, when the client accepts that encoding; else the first it accepts. */
function compressed(request: RecordedRequest, response: ServerResponse, wanted: string | null): void {
  const accepted = String(request.headers['accept-encoding'] ?? '');
  const body = Buffer.from(JSON.stringify({ compressed: true, filler: 'x'.repeat(200) }));
  const encoders: Record<string, (bytes: Buffer) => Buffer> = {
    br: brotliCompressSync,
    gzip: gzipSync,
    deflate: deflateSync,
    // Node 22.15 and later.
    ...('zstdCompressSync' in zlib && {
      zstd: (zlib as unknown as Record<string, (b: Buffer) => Buffer>).zstdCompressSync!,
    }),
  };
  const encoding = Object.keys(encoders).find((name) => accepted.includes(name) && (wanted ?? name) === name);
  const bytes = encoding ? encoders[encoding]!(body) : body;
  response.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': bytes.length,
    ...(encoding && { 'Content-Encoding': encoding }),
  });
  response.end(bytes);
}

const TEXT = Buffer.from('hello hello hello hello\n');
/** Bodies whose encoding is odd: a list, an unknown one, raw deflate, cut short, or not what it says. */
const ODD_ENCODINGS: Record<string, [encoding: string, body: Buffer]> = {
  chain: ['gzip, br', brotliCompressSync(gzipSync(TEXT))],
  unknown: ['compress', TEXT],
  'raw-deflate': ['deflate', deflateRawSync(TEXT)],
  'x-gzip': ['x-gzip', gzipSync(TEXT)],
  capitals: ['GZIP', gzipSync(TEXT)],
  identity: ['identity', TEXT],
  truncated: ['gzip', gzipSync(TEXT).subarray(0, 15)],
  corrupt: ['gzip', Buffer.from('not gzip at all\n')],
};

function encoded(response: ServerResponse, kind: string): void {
  const [encoding, body] = ODD_ENCODINGS[kind] ?? ['identity', TEXT];
  response.writeHead(200, {
    'Content-Type': 'text/plain',
    'Content-Encoding': encoding,
    'Content-Length': body.length,
  });
  response.end(body);
}
