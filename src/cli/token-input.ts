import { fstatSync } from 'node:fs';
import { DEFAULT_TIMEOUT_MS } from '../core/defaults.ts';
import { formatSeconds } from '../core/duration.ts';
import { abortError, C8yTokenError } from '../core/errors.ts';

/**
 * The token piped into `decode`: stdin's text up to its end or its first non-empty line, read only when stdin is a
 * pipe (a FIFO, or the socket pair that Node's and sshd's children get) or a file; undefined for a terminal or a
 * device such as /dev/null. A stdin that stays open and silent (cron, `ssh host cmd`, a service) ends the wait at
 * `timeoutMs` with a 'timeout' error rather than hanging.
 */
export function readTokenInput(timeoutMs = DEFAULT_TIMEOUT_MS, signal?: AbortSignal): Promise<string | undefined> {
  if (!isPipeOrFile()) return Promise.resolve(undefined);
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error?: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      stdin.off('data', onData).off('end', finish).off('error', finish);
      // Released, so that a stdin still open does not keep the process alive.
      stdin.destroy();
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: string) => {
      text += chunk;
      if (/\S[^\n]*\n/.test(text)) finish();
    };
    const onAbort = () => finish(abortError(signal!));
    const timer = setTimeout(
      () =>
        finish(
          new C8yTokenError('timeout', `stdin gave no token within ${formatSeconds(timeoutMs)}`, {
            hint: 'pipe the token in (`c8y-token get | c8y-token decode`), or run it with </dev/null to fetch one',
          }),
        ),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    stdin.setEncoding('utf8').on('data', onData).once('end', finish).once('error', finish);
  });
}

function isPipeOrFile(): boolean {
  try {
    const stats = fstatSync(0);
    return stats.isFIFO() || stats.isSocket() || stats.isFile();
  } catch {
    return false;
  }
}
