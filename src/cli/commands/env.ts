import { stdoutCarriesData, write, warn } from '../output.ts';
import { inFlags } from '../reporting.ts';
import { getTokenVariables, type TokenVariablesOptions } from '../../core/token/variables.ts';
import { shellExports, type EnvShell } from '../shell-exports.ts';

export interface EnvCommandOptions extends TokenVariablesOptions {
  shell: EnvShell;
}

export async function env(options: EnvCommandOptions): Promise<void> {
  stdoutCarriesData();
  const { variables, warning } = await getTokenVariables({ ...options, warn });
  if (warning) warn(inFlags(warning));
  await write(process.stdout, shellExports(variables, options.shell));
}
