import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, runCli } from './harness/cli.ts';

const MAN_PAGE = join(ROOT, 'dist/man/c8y-token.1');

/** The page's text with roff's escapes undone: what a reader sees, line by line. */
function pageText(): string {
  return readFileSync(MAN_PAGE, 'utf8').replaceAll('\\-', '-').replaceAll('\\e', '\\').replace(/^\\&/gm, '');
}

describe('the man page', () => {
  for (const command of ['get', 'decode', 'doctor', 'completion']) {
    test(`has every option and example of \`${command} --help\``, async () => {
      // The page spells in ASCII what the help writes beyond it.
      const help = (await runCli([command, '--help'])).stdout.replaceAll('…', '...');
      const terms = [...help.matchAll(/^ {2}(-\S.*?)(?: {2}|$)/gm)].map((match) => match[1]!);
      const examples = help.split('Examples:\n')[1]!.split('\n').filter(Boolean);
      assert.ok(terms.length > 0 && examples.length > 0);
      const text = pageText();
      assert.match(text, new RegExp(`^\\.SS "c8y-token ${command} `, 'm'));
      for (const line of [...terms.map((term) => `.B ${term}`), ...examples]) {
        assert.ok(text.split('\n').includes(line), `missing from the man page: ${line}`);
      }
    });
  }

  test('has the sections a man page has, in their usual order', () => {
    const sections = [...pageText().matchAll(/^\.SH (.*)$/gm)].map((match) => match[1]);
    assert.deepEqual(sections, [
      'NAME',
      'SYNOPSIS',
      'OPTIONS',
      'COMMANDS',
      '"EXIT STATUS"',
      'ENVIRONMENT',
      'FILES',
      'EXAMPLES',
    ]);
  });

  test('is ASCII only, escapes included', () => {
    const page = readFileSync(MAN_PAGE, 'utf8');
    assert.doesNotMatch(page, /\P{ASCII}/u);
    assert.doesNotMatch(page, /\\\[u[0-9A-F]{4}\]|\\\(\S\S/);
  });

  const man = spawnSync('man', ['--version']).status === 0;
  test('renders with man -l in the C locale without a warning', { skip: !man && 'man is not installed' }, () => {
    const result = spawnSync('man', ['-l', MAN_PAGE], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C', MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100' },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /EXIT STATUS/);
  });

  const groff = spawnSync('groff', ['--version']).status === 0;
  test('renders without warnings', { skip: !groff && 'groff is not installed' }, () => {
    const result = spawnSync('groff', ['-man', '-ww', '-z', MAN_PAGE], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.equal(result.stderr, '');
  });
});
