import { completionScript, type CompletionShell } from '../completion/scripts.ts';
import { write } from '../output.ts';
import type { CommandSpec } from '../program-spec.ts';

export interface CompletionCommandOptions {
  shell: CompletionShell;
  program: CommandSpec;
}

export async function completion(options: CompletionCommandOptions): Promise<void> {
  await write(process.stdout, completionScript(options.program, options.shell));
}
