import type { Header } from './http-request.ts';

/** Receives curl-style -v lines: `> ` request, `< ` response, `* ` what c8y-token does. Never a credential. */
export type Trace = (line: string) => void;

const SECRET = new Set(['authorization', 'proxy-authorization']);

export function traceRequest(trace: Trace, method: string, url: URL, headers: Header[]): void {
  trace(`> ${method} ${url.pathname}${url.search} HTTP/1.1`);
  trace(`> Host: ${url.host}`);
  for (const [name, value] of headers) trace(`> ${name}: ${redact(name, value)}`);
  trace('>');
}

export function traceResponse(trace: Trace, status: number, statusText: string, headers: Header[]): void {
  trace(`< HTTP/1.1 ${status} ${statusText}`.trimEnd());
  for (const line of headerLines(headers)) trace(`< ${line}`);
  trace('<');
}

/** Response headers as `Name: value` lines, as the server sent them. */
export function headerLines(headers: Header[]): string[] {
  return headers.map(([name, value]) => `${name}: ${redact(name, value)}`);
}

/** Keeps the scheme (`Bearer`, `Basic`) so -v still shows which credentials went out. */
function redact(name: string, value: string): string {
  if (!SECRET.has(name.toLowerCase())) return value;
  const scheme = /^\S+(?=\s)/.exec(value)?.[0];
  return scheme ? `${scheme} <redacted>` : '<redacted>';
}
