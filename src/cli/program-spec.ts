import type { EventEmitter } from 'node:events';
import type { Command, Help } from 'commander';

/** A command line as plain data, taken from the commander program: shell completions and the man page use it. */
export interface CommandSpec {
  name: string;
  /** `c8y-token get [options]`, as the help text shows it. */
  usage: string;
  description: string;
  /** The one-line description in the parent's list of commands. */
  summary: string;
  options: OptionSpec[];
  arguments: ArgumentSpec[];
  commands: CommandSpec[];
  /** The text the help shows after the options (examples, exit codes), without trailing newlines. */
  epilog: string;
}

export interface OptionSpec {
  /** Every spelling: `['-V', '--version']`. */
  names: string[];
  /** `--timeout <duration>`, as the help text shows it. */
  term: string;
  /** The help text's description, defaults and choices included. */
  description: string;
  /** The option's value, when it takes one. */
  value?: ValueSpec;
}

export interface ValueSpec {
  /** The name in the help text: `file` and `dir` complete paths. */
  name: string;
  choices?: string[];
}

export interface ArgumentSpec extends ValueSpec {
  description: string;
  required: boolean;
  variadic: boolean;
}

export function describeProgram(program: Command): CommandSpec {
  return describe(program, program.createHelp(), []);
}

function describe(command: Command, help: Help, parents: string[]): CommandSpec {
  const path = [...parents, command.name()];
  return {
    name: command.name(),
    // commander's implicit help command has no parent: its usage would lack the program's name.
    usage: command.parent ? help.commandUsage(command) : [...parents, help.commandUsage(command)].join(' '),
    description: help.commandDescription(command),
    summary: help.subcommandDescription(command),
    options: help.visibleOptions(command).map((option) => ({
      names: [option.short, option.long].filter((name) => name !== undefined),
      term: help.optionTerm(option),
      description: help.optionDescription(option),
      ...(option.required || option.optional ? { value: valueSpec(option.flags, option.argChoices) } : {}),
    })),
    arguments: command.registeredArguments.map((argument) => ({
      ...valueSpec(`<${argument.name()}>`, argument.argChoices),
      description: help.argumentDescription(argument),
      required: argument.required,
      variadic: argument.variadic,
    })),
    commands: help.visibleCommands(command).map((subcommand) => {
      const spec = describe(subcommand, help, path);
      // commander's implicit `help [command]`, not among command.commands, takes the name of a sibling command.
      return command.commands.includes(subcommand)
        ? spec
        : withChoices(
            spec,
            command.commands.map((c) => c.name()),
          );
    }),
    epilog: helpText(command, 'afterHelp'),
  };
}

function valueSpec(flags: string, choices: readonly string[] | undefined): ValueSpec {
  const name = /[<[]([^>\]]+?)(?:\.\.\.)?[>\]]/.exec(flags)?.[1] ?? 'value';
  return choices ? { name, choices: [...choices] } : { name };
}

function withChoices(spec: CommandSpec, choices: string[]): CommandSpec {
  return { ...spec, arguments: spec.arguments.map((argument) => ({ ...argument, choices })) };
}

/**
 * What addHelpText() added at `event`: commander writes it through the context of a help event. A Command is an
 * EventEmitter, though commander's typings declare only its `on`.
 */
function helpText(command: Command, event: 'afterHelp'): string {
  let text = '';
  const write = (chunk: string) => {
    text += chunk;
  };
  (command as Command & Pick<EventEmitter, 'emit'>).emit(event, { error: false, command, write });
  return text.replace(/\n+$/, '');
}
