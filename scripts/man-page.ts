import type { CommandSpec } from '../src/cli/program-spec.ts';

/**
 * The man page (roff, man macros) from the same description of the program as --help: the program's usage,
 * options and help text, then one section per command with its options and examples.
 */
export function manPage(program: CommandSpec, version: string, date: Date): string {
  const commands = subcommands(program);
  const lines = [
    `.TH ${roff(program.name.toUpperCase())} 1 "${date.toISOString().slice(0, 10)}" "${program.name} ${version}" "User Commands"`,
    '.SH NAME',
    `${roff(program.name)} \\- ${roff(program.description)}`,
    '.SH SYNOPSIS',
    '.nf',
    ...[program, ...commands].map((command) => roff(command.usage)),
    '.fi',
    '.SH OPTIONS',
    ...options(program),
    '.SH COMMANDS',
    ...commands.flatMap((command) => [
      `.SS "${roff(command.usage)}"`,
      roff(command.description),
      ...options(command),
      ...epilog(command.epilog, (heading) => [`.PP\n.B ${roff(heading)}`]),
    ]),
    ...epilog(program.epilog, (heading) => [`.SH ${roff(heading.toUpperCase())}`]),
  ];
  return `${lines.join('\n')}\n`;
}

function subcommands(command: CommandSpec): CommandSpec[] {
  return command.commands.flatMap((sub) => [sub, ...subcommands(sub)]);
}

function options(command: CommandSpec): string[] {
  return command.options.flatMap((option) => ['.TP', `.B ${roff(option.term)}`, roff(option.description)]);
}

/** The help text's blocks (`Examples:` and its indented lines), each under a heading, kept as they are laid out. */
function epilog(text: string, heading: (title: string) => string[]): string[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => block.replace(/^\n+/, ''))
    .filter(Boolean)
    .flatMap((block) => {
      const [first = '', ...rest] = block.split('\n');
      const title = /^(\S.*):$/.exec(first)?.[1];
      const body = title === undefined ? [first, ...rest] : rest;
      return [...(title === undefined ? [] : heading(title)), '.PP', '.nf', ...body.map(roff), '.fi'];
    });
}

/**
 * Text as roff: backslashes and hyphens escaped, characters beyond ASCII named (troff reads Latin-1), and no line
 * taken for a request because it starts with . or '.
 */
function roff(text: string): string {
  return text
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .replace(/\P{ASCII}/gu, (char) => `\\[u${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`)
    .replace(/^[.']/gm, '\\&$&');
}
