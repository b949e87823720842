import { getToken, type GetTokenOptions } from '../../core/get-token.ts';
import { usageError } from '../../core/errors.ts';
import { warn, write } from '../output.ts';
import { readTokenInput } from '../token-input.ts';
import { decodeToken, remainingValidity } from '../../core/token/claims.ts';
import { formatDuration } from '../../core/duration.ts';
import { clockNote } from '../../core/token/clock.ts';

export interface DecodeCommandOptions extends GetTokenOptions {
  /** The token to decode; else stdin when it is a pipe or a file with a token in it, else a freshly fetched token. */
  token: string | undefined;
}

export async function decode(options: DecodeCommandOptions): Promise<void> {
  if (options.token?.trim() === '') {
    throw usageError('the token given is empty', 'pass the token, pipe it in, or give none to fetch one');
  }
  const given = options.token ?? (await readTokenInput(options.timeoutMs, options.signal));
  const token = given?.trim() ? decodeToken(stripWrapping(given)) : await getToken(options);
  await write(process.stdout, `${JSON.stringify(token.claims, null, 2)}\n`);
  if (token.expiresAt) {
    const left = remainingValidity(token);
    const when = token.expiresAt.toISOString();
    const note = clockNote(token.clockOffsetMs);
    warn(
      left > 0
        ? `expires ${when} (in ${formatDuration(left)}${note})`
        : `expired ${when} (${formatDuration(left)} ago${note})`,
    );
  }
}

/** Accepts what people paste: `71,<JWT>`, `Bearer <JWT>` or a whole `Authorization:` header. */
function stripWrapping(input: string): string {
  return input
    .trim()
    .replace(/^authorization:\s*/i, '')
    .replace(/^bearer\s+/i, '')
    .replace(/^71,/, '');
}
