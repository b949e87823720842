import { bufferInput, segmentsBody, type RequestBody } from './body.ts';

/** What createC8yFetch sends as a request body. */
export type FetchBody = string | Uint8Array | ArrayBuffer | URLSearchParams | AsyncIterable<Uint8Array>;

/**
 * The body, with fetch's content type for its kind ('' for none), except that text starting with `{` or `[` is sent
 * as JSON, as `c8y-token curl -d` does. A stream is read ahead up to the replay limit, so that it can be sent again
 * after a 401.
 */
export async function fetchBody(body: FetchBody): Promise<RequestBody> {
  if (typeof body === 'string')
    return segmentsBody([Buffer.from(body)], /^\s*[{[]/.test(body) ? 'application/json' : 'text/plain;charset=UTF-8');
  if (body instanceof URLSearchParams)
    return segmentsBody([Buffer.from(body.toString())], 'application/x-www-form-urlencoded;charset=UTF-8');
  if (body instanceof ArrayBuffer) return segmentsBody([Buffer.from(body)], '');
  if (ArrayBuffer.isView(body)) return segmentsBody([Buffer.from(body.buffer, body.byteOffset, body.byteLength)], '');
  const input = await bufferInput(body as AsyncIterable<Buffer>);
  return segmentsBody([{ input, stripNewlines: false }], '');
}
