import { randomBytes } from 'node:crypto';
import { basename, extname } from 'node:path';
import { usageError } from '../../core/errors.ts';
import {
  assertReadable,
  segmentsBody,
  type BufferedInput,
  type RequestBody,
  type Segment,
} from '../../core/http/body.ts';

/** One -F argument: `name=value`, `name=@file` (a file upload) or `name=<file` (a file's content as the value). */
export interface FormPart {
  name: string;
  content: { text: string } | { file: string; upload: boolean };
  type: string | undefined;
  filename: string | undefined;
}

/** curl's guesses for an uploaded file's type; anything else is sent as bytes (`;type=` names another). */
const TYPES: Record<string, string> = {
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain',
  '.htm': 'text/html',
  '.html': 'text/html',
  '.pdf': 'application/pdf',
  '.xml': 'application/xml',
};

const PARAMETER = /;\s*(type|filename)=/i;

/** Parses one -F argument as curl does, including `;type=` and `;filename=` and a double-quoted value. */
export function parseFormArg(arg: string): FormPart {
  const eq = arg.indexOf('=');
  if (eq === -1) throw usageError(`-F: '${arg}' is not name=content`, 'use name=value, name=@file or name=<file');
  const name = arg.slice(0, eq);
  let rest = arg.slice(eq + 1);
  const prefix = rest.startsWith('@') || rest.startsWith('<') ? rest.charAt(0) : '';
  rest = rest.slice(prefix.length);
  const [value, params] = splitValue(rest);
  const content = prefix === '' ? { text: value } : { file: value, upload: prefix === '@' };
  return { name, content, type: params.get('type'), filename: params.get('filename') };
}

function splitValue(text: string): [string, Map<string, string>] {
  let value: string;
  let rest: string;
  if (text.startsWith('"')) {
    const end = /^"((?:[^"\\]|\\.)*)"/.exec(text);
    if (!end) throw usageError(`-F: unterminated quote in '${text}'`);
    value = end[1]!.replace(/\\(.)/g, '$1');
    rest = text.slice(end[0].length);
  } else {
    const at = text.search(PARAMETER);
    value = at === -1 ? text : text.slice(0, at);
    rest = at === -1 ? '' : text.slice(at);
  }
  const params = new Map<string, string>();
  for (let match = PARAMETER.exec(rest); match; match = PARAMETER.exec(rest)) {
    rest = rest.slice(match.index + match[0].length);
    const next = rest.search(PARAMETER);
    const raw = next === -1 ? rest : rest.slice(0, next);
    params.set(match[1]!.toLowerCase(), raw.trim().replace(/^"(.*)"$/, '$1'));
    rest = next === -1 ? '' : rest.slice(next);
  }
  return [value, params];
}

/** A multipart/form-data body shaped as curl sends it; files are streamed, and read again on a replay. */
export async function multipartBody(parts: FormPart[], stdin: () => Promise<BufferedInput>): Promise<RequestBody> {
  const boundary = `------------------------${randomBytes(8).toString('hex')}`;
  const segments: Segment[] = [];
  for (const part of parts) {
    let content: Segment;
    let filename = part.filename;
    let type = part.type;
    if ('text' in part.content) {
      content = Buffer.from(part.content.text);
    } else {
      const { file, upload } = part.content;
      if (file === '-') {
        // curl names an upload from stdin "-" and gives it no type.
        content = { input: await stdin(), stripNewlines: false };
        if (upload) filename ??= '-';
      } else {
        await assertReadable(file, '-F');
        content = { file, stripNewlines: false };
        if (upload) filename ??= basename(file);
        if (upload) type ??= TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      }
    }
    const disposition = `form-data; name="${escapeDispositionName(part.name)}"${filename === undefined ? '' : `; filename="${escapeDispositionName(filename)}"`}`;
    const headers = [`Content-Disposition: ${disposition}`, ...(type ? [`Content-Type: ${type}`] : [])];
    segments.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`), content, Buffer.from('\r\n'));
  }
  segments.push(Buffer.from(`--${boundary}--\r\n`));
  return segmentsBody(segments, `multipart/form-data; boundary=${boundary}`);
}

/** HTML's escaping for names in Content-Disposition, as curl does it. */
function escapeDispositionName(text: string): string {
  return text.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
