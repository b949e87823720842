import { readFileSync } from 'node:fs';

/** Where this process stands towards its controlling terminal. */
export interface TerminalStanding {
  /** It has a controlling terminal, and its process group is that terminal's foreground group. */
  foreground: boolean;
  /** It leads its session: a terminal's hang-up is then sent to it alone. */
  sessionLeader: boolean;
}

/**
 * Read from /proc/self/stat (Linux): the process group, session, controlling terminal and the terminal's foreground
 * group. Where it cannot be read (no /proc), neither: the caller then treats the process as not on a terminal.
 */
export function terminalStanding(): TerminalStanding {
  let stat: string;
  try {
    stat = readFileSync('/proc/self/stat', 'utf8');
  } catch {
    return { foreground: false, sessionLeader: false };
  }
  // The command name, in parentheses, may itself hold spaces and parentheses: the numbers follow the last ')'.
  // From there: state ppid pgrp session tty_nr tpgid (proc(5)).
  const [, , pgrp, session, ttyNr, tpgid] = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return { foreground: ttyNr !== 0 && tpgid === pgrp, sessionLeader: session === process.pid };
}
