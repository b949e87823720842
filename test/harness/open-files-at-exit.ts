import { readdirSync, readlinkSync } from 'node:fs';

/**
 * Loaded into a CLI run (`node --import`): when the process exits, names on stderr every regular file under the
 * working directory that it still holds open. A file left open is closed later by the garbage collector, which says
 * so on stderr ("Closing file descriptor N on garbage collection"), but only when a collection happens to run first:
 * this makes the leak show on every run. The differential suite loads it into every run of c8y-token.
 */
process.on('exit', () => {
  const cwd = process.cwd();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target.startsWith(`${cwd}/`)) process.stderr.write(`still open at exit: ${target.slice(cwd.length + 1)}\n`);
  }
});
