import { decodeBody } from '../../core/http/content-encoding.ts';
import type { Exchange, Response } from '../../core/http/send.ts';
import type { ProgressMeter } from './progress.ts';
import type { Sink } from './sink.ts';

export interface ResponseOutput {
  /** -I: the headers only, whatever the method. */
  headersOnly?: boolean | undefined;
  /** Told the size received so far, chunk by chunk: a transfer cut short still reports what came. */
  onSize?: ((size: number) => void) | undefined;
  /** --compressed: undo the Content-Encoding. */
  decode?: boolean | undefined;
  /** Re-indent a JSON body (a terminal's default); otherwise the bytes pass unchanged. */
  pretty: boolean;
  progress?: ((total: number | undefined) => ProgressMeter) | undefined;
}

/** Enough of a body to read a Cumulocity error message from it. */
const KEPT_BYTES = 64 * 1024;

/**
 * Writes the exchange's body to the sink (its headers are written before, when asked). Resolves with the body's size
 * on the wire (before decoding, as curl counts it) and its first bytes (for the error message of --fail-with-body).
 */
export async function writeResponse(
  exchange: Exchange,
  sink: Sink,
  output: ResponseOutput,
): Promise<{ size: number; start: Buffer }> {
  if (output.headersOnly) {
    await exchange.body.dump();
    return { size: 0, start: Buffer.alloc(0) };
  }
  const length = Number(exchange.headers['content-length']);
  const meter = output.progress?.(Number.isFinite(length) ? length : undefined);
  let size = 0;
  const received = counted(exchange.body as AsyncIterable<Buffer>, (chunk) => {
    size += chunk.length;
    output.onSize?.(size);
    meter?.update(size);
  });
  const body = output.decode ? decodeBody(received, exchange.headers['content-encoding'], exchange.url) : received;
  // A pretty-printed body is written whole, once parsed; any other as it comes.
  const whole = output.pretty && isJson(exchange.headers['content-type']);
  const kept: Buffer[] = [];
  let keptSize = 0;
  for await (const chunk of body) {
    if (keptSize < KEPT_BYTES || whole) kept.push(whole ? chunk : chunk.subarray(0, KEPT_BYTES - keptSize));
    keptSize += chunk.length;
    if (!whole) await sink.write(chunk);
  }
  const start = Buffer.concat(kept);
  if (whole) await sink.write(prettyJson(start) ?? start);
  meter?.done(size);
  return { size, start: start.subarray(0, KEPT_BYTES) };
}

async function* counted(chunks: AsyncIterable<Buffer>, onChunk: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    onChunk(chunk);
    yield chunk;
  }
}

/** The status line and the headers as the server sent them, as curl's -i prints them. */
export function statusAndHeaders(response: Pick<Response, 'status' | 'statusText' | 'rawHeaders'>): string {
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText}`.trimEnd()];
  for (const [name, value] of response.rawHeaders) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** application/json and Cumulocity's application/vnd.com.nsn.cumulocity.*+json. */
export function isJson(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && /^application\/([\w.-]+\+)?json\s*(;|$)/i.test(contentType);
}

function prettyJson(bytes: Buffer): string | undefined {
  try {
    return `${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}\n`;
  } catch {
    return undefined;
  }
}
