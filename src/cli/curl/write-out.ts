import type { IncomingHttpHeaders } from 'node:http';

/** What -w can report about a transfer; the last response's, after redirects and retries. */
export interface TransferInfo {
  /** The URL as first requested. */
  url: string;
  urlEffective: string;
  method: string;
  /** 0 when no response came. */
  httpCode: number;
  contentType: string | undefined;
  sizeDownload: number;
  timeTotalMs: number;
  numRedirects: number;
  numRetries: number;
  /** Where a redirect that was not followed points. */
  redirectUrl: string | undefined;
  exitCode: number;
  errorMessage: string | undefined;
  headers: IncomingHttpHeaders;
}

export interface WriteOutPiece {
  stream: 'stdout' | 'stderr';
  text: string;
}

type Value = string | number | null;

const VARIABLES: Record<string, (info: TransferInfo) => Value> = {
  content_type: (info) => info.contentType ?? null,
  errormsg: (info) => info.errorMessage ?? null,
  exitcode: (info) => info.exitCode,
  http_code: (info) => info.httpCode,
  method: (info) => info.method,
  num_redirects: (info) => info.numRedirects,
  num_retries: (info) => info.numRetries,
  redirect_url: (info) => info.redirectUrl ?? null,
  response_code: (info) => info.httpCode,
  size_download: (info) => info.sizeDownload,
  time_total: (info) => Number((info.timeTotalMs / 1000).toFixed(6)),
  url: (info) => info.url,
  url_effective: (info) => info.urlEffective,
};

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\' };

/**
 * Expands a -w template as curl does: `%{variable}`, `%header{name}`, `%{json}`, `%{stdout}`/`%{stderr}` to switch
 * streams, `%%`, and the escapes \n \r \t. Unknown variables expand to nothing and are reported in `unknown`.
 */
export function expandWriteOut(template: string, info: TransferInfo): { pieces: WriteOutPiece[]; unknown: string[] } {
  const pieces: WriteOutPiece[] = [];
  const unknown: string[] = [];
  let stream: WriteOutPiece['stream'] = 'stdout';
  const emit = (text: string) => {
    const last = pieces.at(-1);
    if (last?.stream === stream) last.text += text;
    else pieces.push({ stream, text });
  };
  const pattern = /%%|%\{([^}]*)\}|%header\{([^}]*)\}|\\([nrt\\])|[^%\\]+|[%\\]/g;
  for (const [token, variable, header, escaped] of template.matchAll(pattern)) {
    if (token === '%%') emit('%');
    else if (escaped !== undefined) emit(ESCAPES[escaped]!);
    else if (header !== undefined) emit([info.headers[header.toLowerCase()] ?? ''].flat().join(', '));
    else if (variable === 'stdout' || variable === 'stderr') stream = variable;
    else if (variable === 'json') emit(JSON.stringify(jsonObject(info)));
    else if (variable !== undefined) {
      const value = VARIABLES[variable];
      if (value) emit(format(variable, value(info)));
      else unknown.push(variable);
    } else emit(token);
  }
  return { pieces, unknown };
}

function format(name: string, value: Value): string {
  if (value === null) return '';
  if (name === 'http_code' || name === 'response_code') return String(value).padStart(3, '0');
  if (name === 'time_total') return (value as number).toFixed(6);
  return String(value);
}

function jsonObject(info: TransferInfo): Record<string, Value> {
  return Object.fromEntries(Object.entries(VARIABLES).map(([name, value]) => [name, value(info)]));
}
