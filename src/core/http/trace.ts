import type { IncomingHttpHeaders } from 'node:http';
import type { Header } from './request.ts';

/** Receives curl-style -v lines: `> ` request, `< ` response, `* ` what c8y-token does. Never a credential. */
export type Trace = (line: string) => void;

const SECRET = new Set(['authorization', 'proxy-authorization']);

export function traceRequest(trace: Trace, method: string, url: URL, headers: Header[]): void {
  trace(`> ${method} ${url.pathname}${url.search} HTTP/1.1`);
  trace(`> Host: ${url.host}`);
  for (const [name, value] of headers) trace(`> ${name}: ${redact(name, value)}`);
  trace('>');
}

export function traceResponse(trace: Trace, status: number, statusText: string, headers: IncomingHttpHeaders): void {
  trace(`< HTTP/1.1 ${status} ${statusText}`.trimEnd());
  for (const line of headerLines(headers)) trace(`< ${line}`);
  trace('<');
}

/** Response headers as `name: value` lines, a repeated header once per value. */
export function headerLines(headers: IncomingHttpHeaders): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value ?? ''])
      lines.push(`${name}: ${SECRET.has(name) ? redact(name, one) : one}`);
  }
  return lines;
}

/** Keeps the scheme (`Bearer`, `Basic`) so -v still shows which credentials went out. */
function redact(name: string, value: string): string {
  if (!SECRET.has(name.toLowerCase())) return value;
  const scheme = /^\S+(?=\s)/.exec(value)?.[0];
  return scheme ? `${scheme} <redacted>` : '<redacted>';
}
