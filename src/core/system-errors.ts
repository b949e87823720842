/** What the system's error codes mean, in the words of our messages rather than errno's. */
const MEANINGS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  EPIPE: 'the reader closed the pipe',
  ETXTBSY: 'the file is open for writing',
};

/** A failed system call's reason in words: "no such file"; an unknown code as it is. */
export function describeSystemError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return (error as Error | undefined)?.message ?? String(error);
  return MEANINGS[code] ?? code;
}
