import { stat } from 'node:fs/promises';
import { C8yTokenError } from '../../core/errors.ts';
import type { Response } from '../../core/http/send.ts';

/** -C's offset: the -o file's size for `-` (0 when there is none, or the body goes to stdout), else the number. */
export async function resumeOffset(continueAt: number | '-' | undefined, output: string | undefined): Promise<number> {
  if (continueAt !== '-') return continueAt ?? 0;
  if (output === undefined || output === '-') return 0;
  return stat(output).then(
    (info) => info.size,
    () => 0,
  );
}

/**
 * How curl reads the answer to a resumed GET: with a Content-Range it is the rest, to append; a 416, or the whole
 * body when it is exactly as long as what is there, leaves nothing to get ('complete'). Any other answer means the
 * server ignored the range: curl's exit 33, and the file stays as it is.
 */
export function resumedAnswer(response: Response, offset: number): 'append' | 'complete' {
  if (response.status === 416) return 'complete';
  if (response.headers['content-range'] !== undefined) return 'append';
  if (Number(response.headers['content-length']) === offset) return 'complete';
  throw new C8yTokenError(
    'range',
    `${response.url.host} does not support byte ranges: cannot resume at byte ${offset}`,
    {
      hint: 'the file is left as it was; download it whole, without -C',
    },
  );
}
