import { readFile } from 'node:fs/promises';
import { usageError } from '../../core/errors.ts';
import {
  assertReadable,
  bodyStart,
  segmentsBody,
  type BufferedInput,
  type RequestBody,
  type Segment,
} from '../../core/http/body.ts';

/** Which of curl's data options gave a piece of the body: -d/--data, --data-binary, --data-raw, --json, --data-urlencode. */
export type DataKind = 'data' | 'binary' | 'raw' | 'json' | 'urlencode';

export interface DataArg {
  kind: DataKind;
  /** `@file` and `@-` (stdin) are read, except for --data-raw. */
  value: string;
}

const OPTION: Record<DataKind, string> = {
  data: '--data',
  binary: '--data-binary',
  raw: '--data-raw',
  json: '--json',
  urlencode: '--data-urlencode',
};

/**
 * The body curl builds from its data options, in command-line order: pieces joined by `&` (--json pieces are
 * concatenated as they are). The Content-Type is JSON for --json or a body that starts like JSON, else form data.
 */
export async function dataBody(args: DataArg[], stdin: () => Promise<BufferedInput>): Promise<RequestBody> {
  const segments: Segment[] = [];
  for (const [index, arg] of args.entries()) {
    if (index > 0 && arg.kind !== 'json') segments.push(Buffer.from('&'));
    segments.push(await dataSegment(arg, stdin));
  }
  const json =
    args.some((arg) => arg.kind === 'json') || looksLikeJson(await bodyStart(segments.find((s) => !isEmpty(s))));
  return segmentsBody(segments, json ? 'application/json' : 'application/x-www-form-urlencoded');
}

async function dataSegment(arg: DataArg, stdin: () => Promise<BufferedInput>): Promise<Segment> {
  if (arg.kind === 'urlencode') return Buffer.from(await urlencodedPiece(arg.value, stdin));
  if (arg.kind === 'raw' || !arg.value.startsWith('@')) return Buffer.from(arg.value);
  const stripNewlines = arg.kind === 'data';
  const file = arg.value.slice(1);
  if (file === '-') return { input: await stdin(), stripNewlines };
  await assertReadable(file, OPTION[arg.kind]);
  return { file, stripNewlines };
}

function isEmpty(segment: Segment): boolean {
  return Buffer.isBuffer(segment) && segment.length === 0;
}

function looksLikeJson(start: Buffer): boolean {
  return /^\s*[[{]/.test(start.toString('latin1'));
}

/**
 * --data-urlencode and --url-query as curl reads them: `content`, `=content` (the content encoded), `name=content` (the
 * name as it is), `@file` and `name@file` (the file's content encoded, stdin for `-`).
 */
export async function urlencodedPiece(
  value: string,
  stdin: () => Promise<BufferedInput>,
  option: string = OPTION.urlencode,
): Promise<string> {
  const match = /^([^=@]*)([=@])(.*)$/s.exec(value);
  const [name, how, content] = match ? [match[1]!, match[2]!, match[3]!] : ['', '=', value];
  let bytes: Buffer;
  if (how === '@') {
    if (content === '-') {
      const input = await stdin();
      if (input.rest !== undefined) throw usageError(`${option} @-: stdin is larger than 1 MiB`);
      bytes = input.head;
    } else {
      await assertReadable(content, option);
      bytes = await readFile(content);
    }
  } else bytes = Buffer.from(content);
  return `${name === '' ? '' : `${name}=`}${urlEncode(bytes)}`;
}

/** curl's escaping for forms: a space as `+`, every other byte but letters, digits and `-._~` as %XX. */
export function urlEncode(bytes: Buffer): string {
  let text = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (char === ' ') text += '+';
    else text += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return text;
}
