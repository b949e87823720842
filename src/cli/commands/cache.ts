import { clearTokenCache, listCachedTokens } from '../../core/cache/manage.ts';
import type { StoredEntry } from '../../core/cache/store.ts';
import { warn, write } from '../output.ts';
import { remainingValidity } from '../../core/token/claims.ts';
import { formatDuration } from '../../core/duration.ts';
import { clockNote } from '../../core/token/clock.ts';

export interface CacheCommandOptions {
  action: 'status' | 'clear';
}

export async function cache(options: CacheCommandOptions): Promise<void> {
  if (options.action === 'clear') {
    const { dir, removed } = await clearTokenCache();
    warn(`removed ${removed} cached token${removed === 1 ? '' : 's'} from ${dir}`);
    return;
  }
  const { dir, entries } = await listCachedTokens();
  const lines = [`cache directory: ${dir}`, ...(entries.length ? entries.map(describe) : ['no cached tokens'])];
  await write(process.stdout, `${lines.join('\n')}\n`);
}

/** One line per entry: whose token it is and how long it lasts, never the token. */
function describe(stored: StoredEntry): string {
  if ('problem' in stored) return `${stored.file}: ${stored.problem} (ignored; replaced on next use)`;
  const { host, port, topicPrefix, token } = stored.entry;
  const left = remainingValidity(token);
  let validity = 'without expiry (ignored)';
  if (token.expiresAt) {
    const note = clockNote(token.clockOffsetMs);
    validity =
      left > 0
        ? `valid for ${formatDuration(left)} (until ${token.expiresAt.toISOString()}${note})`
        : `expired ${formatDuration(left)} ago${note}`;
  }
  return `${host}:${port} ${topicPrefix}: tenant ${token.tenant ?? '?'}, user ${token.user ?? '?'}, ${validity}`;
}
