import { pipeline, Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { C8yTokenError } from '../errors.ts';

/** Makes the decoder for a body that starts with these bytes (at least two, unless the body is shorter). */
type Decoder = (start: Buffer) => Transform;

/** zstd only where this Node decodes it (22.15 and later; 18 and 20 have none). */
const createZstdDecompress = (zlib as { createZstdDecompress?: () => Transform }).createZstdDecompress;

// A body cut short ends with what it decoded so far, without an error: curl reports none either.
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const gunzip = () => zlib.createGunzip(SYNC);
const DECODERS: Record<string, Decoder> = {
  // `deflate` means zlib's format, but some servers send raw deflate: curl reads both, told apart by zlib's header.
  deflate: (start) => (isZlibHeader(start) ? zlib.createInflate(SYNC) : zlib.createInflateRaw(SYNC)),
  gzip: gunzip,
  'x-gzip': gunzip,
  br: () => zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
  ...(createZstdDecompress && { zstd: () => createZstdDecompress() }),
};

/** curl's Accept-Encoding for --compressed, in curl's order, less what this Node cannot decode. */
export const ACCEPT_ENCODING = ['deflate', 'gzip', 'br', 'zstd'].filter((name) => name in DECODERS).join(', ');

/**
 * The body's bytes with its Content-Encoding undone (a list is undone last to first, as it was applied), as curl's
 * --compressed does. An encoding it does not know, or a body that is not what its encoding says, is curl's exit 61.
 */
export function decodeBody(
  chunks: AsyncIterable<Buffer>,
  contentEncoding: string | string[] | undefined,
  url: URL,
): AsyncIterable<Buffer> {
  const names = [contentEncoding ?? []]
    .flat()
    .flatMap((value) => value.split(','))
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '' && name !== 'identity');
  let body = chunks;
  for (const name of names.reverse()) {
    const decoder = DECODERS[name];
    if (!decoder) {
      throw new C8yTokenError('decoding', `${url.host} sent the body in an encoding c8y-token cannot decode: ${name}`, {
        hint: `c8y-token decodes ${ACCEPT_ENCODING}; ask without Accept-Encoding to get the body as it is`,
      });
    }
    body = through(body, decoder, name, url);
  }
  return body;
}

async function* through(chunks: AsyncIterable<Buffer>, decoder: Decoder, name: string, url: URL) {
  const { start, rest } = await peek(chunks[Symbol.asyncIterator]());
  // An empty body (a HEAD, a 204) has nothing to decode.
  if (start.length === 0) return;
  const source = Readable.from(rest);
  let sourceFailure: unknown;
  source.once('error', (error) => (sourceFailure = error));
  try {
    yield* pipeline(source, decoder(start), () => {}) as AsyncIterable<Buffer>;
  } catch (error) {
    // The connection's failures keep their own exit codes; only the decoder's own is 61.
    if (error === sourceFailure) throw error;
    throw new C8yTokenError('decoding', `the ${name} body from ${url.host} cannot be decoded`, {
      hint: 'the server sent a body that is not what its Content-Encoding says',
      detail: (error as Error).message,
    });
  }
}

/** The first two bytes or more, and every byte again from the start. */
async function peek(iterator: AsyncIterator<Buffer>): Promise<{ start: Buffer; rest: AsyncIterable<Buffer> }> {
  const head: Buffer[] = [];
  let done = false;
  while (!done && Buffer.concat(head).length < 2) {
    const next = await iterator.next();
    if (next.done) done = true;
    else head.push(next.value);
  }
  async function* rest() {
    yield* head;
    if (!done) for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { start: Buffer.concat(head), rest: rest() };
}

/** zlib's two-byte header: compression method 8, and the pair a multiple of 31. */
function isZlibHeader(start: Buffer): boolean {
  return start.length >= 2 && (start[0]! & 0x0f) === 8 && ((start[0]! << 8) | start[1]!) % 31 === 0;
}
