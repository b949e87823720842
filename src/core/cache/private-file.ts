import { constants, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { abortError } from '../errors.ts';
import { randomHex } from '../random.ts';
import { describeSystemError } from '../system-errors.ts';

/** What a process killed while writing leaves behind; `cache clear` removes it. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Reads a file of the cache directory: undefined when there is none, else its text or why it cannot be used. A link
 * planted in place of the file is not followed, and a file larger than `maxBytes` is not one of ours.
 */
export async function readPrivateFile(
  file: string,
  maxBytes: number,
): Promise<{ text: string } | { problem: string } | undefined> {
  try {
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if ((await handle.stat()).size > maxBytes) return { problem: `too large to be ours (over ${maxBytes} bytes)` };
      return { text: await handle.readFile('utf8') };
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // O_NOFOLLOW's refusal of a link: "too many symbolic links" would be errno's wording, not what happened.
    return {
      problem: code === 'ELOOP' ? 'a symbolic link, not followed' : `unreadable: ${describeSystemError(error)}`,
    };
  }
}

/**
 * Writes a file of the cache directory atomically (a private temporary file renamed over the old one), so that a
 * reader sees the old content or the new one, never half a file. When the signal is aborted first, nothing is left
 * behind.
 */
export async function writePrivateFile(file: string, content: string, signal?: AbortSignal): Promise<void> {
  const temp = `${file}.${process.pid}-${randomHex(4)}${TEMP_SUFFIX}`;
  let renamed = false;
  try {
    const handle = await createExclusive(temp);
    try {
      // The creation mode is masked by the umask; fchmod is not.
      await handle.chmod(0o600);
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    if (signal?.aborted) throw abortError(signal);
    await rename(temp, file);
    renamed = true;
  } finally {
    if (!renamed) await unlink(temp).catch(() => {});
  }
}

/**
 * Creates a file of the cache directory for writing, mode 0600 before the umask: it fails with EEXIST when the file
 * is there already, and never follows a link planted in its place.
 */
export function createExclusive(path: string): Promise<FileHandle> {
  return open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
}
