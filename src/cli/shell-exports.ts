/** The shells whose syntax `env` prints. */
export const ENV_SHELLS = ['sh', 'fish'] as const;
export type EnvShell = (typeof ENV_SHELLS)[number];

/**
 * Commands that set the variables in the shell, for `eval "$(c8y-token env)"`: every value is quoted, and every
 * command ends with `;` so that an unquoted `eval $(c8y-token env)` works too.
 */
export function shellExports(variables: Partial<Record<string, string | undefined>>, shell: EnvShell): string {
  return Object.entries(variables)
    .map(([name, value]) => {
      if (shell === 'fish') return value === undefined ? `set -e ${name}` : `set -gx ${name} ${fishQuote(value)}`;
      return value === undefined ? `unset ${name}` : `export ${name}=${shQuote(value)}`;
    })
    .map((line) => `${line};\n`)
    .join('');
}

/** POSIX sh: nothing is special inside single quotes; a quote itself is closed, escaped and reopened. */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** fish: inside single quotes only backslash and the quote are special. */
export function fishQuote(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}
