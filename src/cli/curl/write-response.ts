import type { Exchange, Response } from '../../core/http/send.ts';
import type { ProgressMeter } from './progress.ts';
import type { Sink } from './sink.ts';

export interface ResponseOutput {
  /** -I: the headers only, whatever the method. */
  headersOnly?: boolean | undefined;
  /** Told the size received so far, chunk by chunk: a transfer cut short still reports what came. */
  onSize?: ((size: number) => void) | undefined;
  /** Re-indent a JSON body (a terminal's default); otherwise the bytes pass unchanged. */
  pretty: boolean;
  progress?: ((total: number | undefined) => ProgressMeter) | undefined;
}

/** Enough of a body to read a Cumulocity error message from it. */
const KEPT_BYTES = 64 * 1024;

/**
 * Writes the exchange's body to the sink (its headers are written before, when asked). Resolves with the body's size on the wire and
 * its first bytes (for the error message of --fail-with-body).
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
  if (output.pretty && isJson(exchange.headers['content-type'])) {
    const bytes = Buffer.from(await exchange.body.arrayBuffer());
    await sink.write(prettyJson(bytes) ?? bytes);
    return { size: bytes.length, start: bytes.subarray(0, KEPT_BYTES) };
  }
  const length = Number(exchange.headers['content-length']);
  const meter = output.progress?.(Number.isFinite(length) ? length : undefined);
  const kept: Buffer[] = [];
  let size = 0;
  for await (const chunk of exchange.body as AsyncIterable<Buffer>) {
    if (size < KEPT_BYTES) kept.push(chunk.subarray(0, KEPT_BYTES - size));
    size += chunk.length;
    output.onSize?.(size);
    await sink.write(chunk);
    meter?.update(size);
  }
  meter?.done(size);
  return { size, start: Buffer.concat(kept) };
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
