import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EXIT_CODE_TABLE, exitCodesHelp } from '../src/cli/exit-codes.ts';
import { EXIT_CODES } from '../src/core/errors.ts';
import { ROOT, runCli } from './harness/cli.ts';

/** The `Exit codes:` block of a help text, its lines as they are. */
function helpBlock(help: string): string[] {
  const block = help.split('\nExit codes:\n')[1]?.split('\n\n')[0];
  assert.ok(block, 'the help has an Exit codes block');
  return block.split('\n');
}

/** The rows of the table in docs/exit-codes.md. */
function docRows(): string[] {
  const text = readFileSync(join(ROOT, 'docs/exit-codes.md'), 'utf8');
  return text.split('\n').filter((line) => /^\| \d+ \|/.test(line));
}

describe('exit codes: one table for --help, the man page and docs/exit-codes.md', () => {
  test('the table holds 0 and every code an error kind maps to, each once, in order', () => {
    const codes = EXIT_CODE_TABLE.map((entry) => entry.code);
    const kinds = new Set<number>([0, ...Object.values(EXIT_CODES)]);
    assert.deepEqual(
      codes,
      [...kinds].sort((a, b) => a - b),
    );
  });

  for (const [args, scope] of [
    [['--help'], 'all'],
    [['curl', '--help'], 'all'],
    [['get', '--help'], 'token'],
  ] as const) {
    test(`c8y-token ${args.join(' ')} lists the table's ${scope === 'all' ? 'codes' : 'codes of get'}`, async () => {
      const { stdout } = await runCli([...args]);
      assert.deepEqual(helpBlock(stdout), helpBlock(exitCodesHelp(scope)));
      assert.ok(helpBlock(stdout).length >= (scope === 'all' ? EXIT_CODE_TABLE.length : 8));
    });
  }

  test('the man page has an EXIT STATUS entry for each code', () => {
    const page = readFileSync(join(ROOT, 'dist/man/c8y-token.1'), 'utf8')
      .replaceAll('\\-', '-')
      .replaceAll('\\e', '\\');
    const section = page.split('.SH "EXIT STATUS"\n')[1]?.split('\n.SH ')[0];
    assert.ok(section, 'the man page has an EXIT STATUS section');
    const expected = EXIT_CODE_TABLE.flatMap((entry) => ['.TP', `.B ${entry.code}`, entry.help]);
    assert.deepEqual(section.split('\n'), expected);
  });

  test('docs/exit-codes.md has a row for each code, as the table says', () => {
    assert.deepEqual(
      docRows(),
      EXIT_CODE_TABLE.map((entry) => `| ${entry.code} | ${entry.doc} |`),
    );
  });
});
