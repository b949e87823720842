import type { RequestBody } from './body.ts';

export type Header = [name: string, value: string];

/** A request to send: the CLI builds it from curl's options, createC8yFetch from fetch's. */
export interface HttpRequest {
  url: URL;
  method: string;
  /** Set explicitly: kept on redirects, as curl does with -X. */
  methodForced: boolean;
  headers: Header[];
  /** Lower-cased names of headers to leave out (`authorization`: no token either). */
  omitted: Set<string>;
  body: RequestBody | undefined;
}

export function hasHeader(headers: Header[], name: string): boolean {
  return headers.some(([n]) => n.toLowerCase() === name.toLowerCase());
}
