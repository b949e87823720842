import type { Command } from 'commander';
import { type C8yTokenError, usageError } from '../core/errors.ts';

/**
 * commander's message for a command line it cannot parse, in the project's style: one line without commander's
 * "error:" and its second line, and a hint naming the help of the command that was being parsed.
 */
export function commanderUsageError(message: string, command: Command): C8yTokenError {
  return usageError(reword(message), `see ${commandPath(command)} --help`);
}

function reword(message: string): string {
  const [first = '', ...rest] = message.replace(/^error: /, '').split('\n');
  // commander puts its suggestion on a line of its own: "(Did you mean --format?)".
  const suggestion = rest.map((line) => ` ${line.replace(/^\(Did/, '(did')}`).join('');
  return `${rewordLine(first)}${suggestion}`;
}

function rewordLine(line: string): string {
  const option = /^option '(.+?)' argument '(.*)' is invalid\. Allowed choices are (.*)\.$/.exec(line);
  if (option) return `${longFlag(option[1]!)}: '${option[2]}' is not one of ${option[3]}`;
  const argument = /^command-argument value '(.*)' is invalid for argument '(.+)'\. Allowed choices are (.*)\.$/.exec(
    line,
  );
  if (argument) return `${argument[2]}: '${argument[1]}' is not one of ${argument[3]}`;
  const missing = /^option '(.+?)' argument missing$/.exec(line);
  if (missing) return `${longFlag(missing[1]!)}: argument missing`;
  const excess = /^too many arguments(?: for '(.+)')?\. Expected (\d+) arguments? but got (\d+)\.$/.exec(line);
  if (excess) return `too many arguments for '${excess[1] ?? 'c8y-token'}' (it takes ${excess[2]}, got ${excess[3]})`;
  return line.replace(/\.$/, '');
}

/** "-X, --request <method>" → "--request", the flag as the user most likely typed it. */
function longFlag(flags: string): string {
  return /--[^\s,]+/.exec(flags)?.[0] ?? flags;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}
