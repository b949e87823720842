import { stdoutCarriesData, write, warn } from '../output.ts';
import { getTokenVariables, shellExports, type Shell, type TokenVariablesOptions } from '../../core/token/variables.ts';

export interface EnvCommandOptions extends TokenVariablesOptions {
  shell: Shell;
}

export async function env(options: EnvCommandOptions): Promise<void> {
  stdoutCarriesData();
  const variables = await getTokenVariables({ ...options, warn });
  await write(process.stdout, shellExports(variables, options.shell));
}
