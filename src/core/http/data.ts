import { assertReadable, bodyStart, segmentsBody, type BufferedInput, type RequestBody, type Segment } from './body.ts';

/** Which of curl's data options gave a piece of the body: -d/--data, --data-binary, --data-raw or --json. */
export type DataKind = 'data' | 'binary' | 'raw' | 'json';

export interface DataArg {
  kind: DataKind;
  /** `@file` and `@-` (stdin) are read, except for --data-raw. */
  value: string;
}

const OPTION: Record<DataKind, string> = { data: '--data', binary: '--data-binary', raw: '--data-raw', json: '--json' };

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
