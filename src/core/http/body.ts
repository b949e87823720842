import { createReadStream } from 'node:fs';
import { access, constants, readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { C8yTokenError, usageError } from '../errors.ts';
import { describeSystemError } from '../system-errors.ts';

/**
 * A body read from stdin can be sent again (after a 401, for --retry, on a 307 redirect) only when it is kept in memory:
 * up to this size it is; above it, it is streamed once and never replayed.
 */
export const STDIN_REPLAY_LIMIT = 1024 * 1024;

/** stdin, read ahead up to the replay limit: all of it (`rest` undefined), or the first part and the rest unread. */
export interface BufferedInput {
  head: Buffer;
  rest: AsyncIterator<Buffer> | undefined;
}

/**
 * One piece of a request body: bytes, a file read each time the body is sent (so a replay sends it again), or stdin.
 * `stripNewlines` is curl's rule for `-d @file`: carriage returns and newlines are left out.
 */
export type Segment =
  | Buffer
  | { file: string; stripNewlines: boolean }
  | { input: BufferedInput; stripNewlines: boolean };

export interface RequestBody {
  /** Content-Type to send when the request has none; undefined: none (an upload, as curl sends it). */
  contentType: string | undefined;
  /** False when the body streams stdin beyond the replay limit: it can be sent only once. */
  replayable: boolean;
  /** The body for one attempt, and its length when known (else it is sent chunked). */
  open(): Promise<{ body: Buffer | Readable; length: number | undefined }>;
}

export async function bufferInput(
  input: AsyncIterable<Buffer | string>,
  limit: number = STDIN_REPLAY_LIMIT,
): Promise<BufferedInput> {
  const iterator = input[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  while (size <= limit) {
    const { value, done } = await iterator.next();
    if (done) return { head: Buffer.concat(chunks), rest: undefined };
    const chunk = Buffer.from(value);
    chunks.push(chunk);
    size += chunk.length;
  }
  // Not calling return() on the iterator keeps the rest of the stream readable.
  return { head: Buffer.concat(chunks), rest: iterator as AsyncIterator<Buffer> };
}

/** Why a file cannot be read, in words ("no such file", "it is a directory"); undefined when it can. */
export async function unreadable(file: string): Promise<string | undefined> {
  try {
    await access(file, constants.R_OK);
    // A directory passes access(), and fails only once it is read.
    return (await stat(file)).isDirectory() ? describeSystemError({ code: 'EISDIR' }) : undefined;
  } catch (error) {
    return describeSystemError(error);
  }
}

/** Fails early, before any token or request, when a body file cannot be read. */
export async function assertReadable(file: string, option: string): Promise<void> {
  const problem = await unreadable(file);
  if (problem) throw usageError(`${option}: cannot read ${file}: ${problem}`, READ_HINT);
}

export const READ_HINT = 'check the file name, and that c8y-token may read it';

export function segmentsBody(segments: Segment[], contentType: string | undefined): RequestBody {
  const streamsInput = segments.some((s) => !Buffer.isBuffer(s) && 'input' in s && s.input.rest !== undefined);
  let sent = false;
  return {
    contentType,
    replayable: !streamsInput,
    async open() {
      if (streamsInput && sent)
        throw new C8yTokenError('other', 'the request body was read from stdin and cannot be sent again');
      sent = true;
      const parts = await Promise.all(segments.map(resolveSegment));
      if (parts.every(Buffer.isBuffer)) {
        const body = Buffer.concat(parts);
        return { body, length: body.length };
      }
      const sizes = parts.map((part) => (Buffer.isBuffer(part) ? part.length : part.size));
      const length = sizes.every((size) => size !== undefined) ? sizes.reduce((a, b) => a + b, 0) : undefined;
      return { body: Readable.from(chain(parts)), length };
    },
  };
}

type Part = Buffer | { size: number | undefined; chunks: () => AsyncIterable<Buffer> };

async function resolveSegment(segment: Segment): Promise<Part> {
  if (Buffer.isBuffer(segment)) return segment;
  if ('file' in segment) {
    if (segment.stripNewlines) return stripNewlines(await readFile(segment.file));
    const info = await stat(segment.file);
    return { size: info.isFile() ? info.size : undefined, chunks: () => createReadStream(segment.file) };
  }
  const { head, rest } = segment.input;
  const strip = segment.stripNewlines ? stripNewlines : (chunk: Buffer) => chunk;
  if (rest === undefined) return strip(head);
  return {
    size: undefined,
    async *chunks() {
      yield strip(head);
      for (let next = await rest.next(); !next.done; next = await rest.next()) yield strip(Buffer.from(next.value));
    },
  };
}

async function* chain(parts: Part[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    if (Buffer.isBuffer(part)) yield part;
    else yield* part.chunks();
  }
}

function stripNewlines(bytes: Buffer): Buffer {
  return bytes.includes(0x0a) || bytes.includes(0x0d)
    ? Buffer.from(bytes.filter((b) => b !== 0x0a && b !== 0x0d))
    : bytes;
}

/** The first bytes of a body, to tell JSON from form data without reading a whole file. */
export async function bodyStart(segment: Segment | undefined): Promise<Buffer> {
  if (segment === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(segment)) return segment;
  if ('input' in segment) return segment.input.head;
  const stream = createReadStream(segment.file, { start: 0, end: 255 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
