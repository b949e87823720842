import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { buildProgram } from '../src/cli/program.ts';
import { describeProgram, type CommandSpec } from '../src/cli/program-spec.ts';
import { SETTING_FLAGS } from '../src/cli/reporting.ts';
import { ROOT } from './harness/cli.ts';

const SRC = join(ROOT, 'src');
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'([^']+)'/gm;

/** Every source file under src/, relative to the repository root, with the specifiers it imports. */
function sourceImports(): Map<string, string[]> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  return new Map(
    files.map((file) => {
      const text = readFileSync(join(SRC, file), 'utf8');
      return [join('src', file), [...text.matchAll(IMPORT)].map((match) => match[1]!)];
    }),
  );
}

/** A relative specifier as a path from the repository root; a package name as it is. */
function resolveSpecifier(from: string, specifier: string): string {
  return specifier.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(from), specifier)) : specifier;
}

function importGraph(): Map<string, string[]> {
  return new Map([...sourceImports()].map(([file, specs]) => [file, specs.map((s) => resolveSpecifier(file, s))]));
}

describe('architecture: the core knows nothing of the command line', () => {
  const graph = importGraph();

  test('the source tree has a core and a CLI', () => {
    assert.ok([...graph.keys()].some((file) => file.startsWith('src/core/')));
    assert.ok([...graph.keys()].some((file) => file.startsWith('src/cli/')));
  });

  test('no core module imports the CLI or commander', () => {
    const offences = [...graph]
      .filter(([file]) => file.startsWith('src/core/'))
      .flatMap(([file, targets]) =>
        targets.filter((t) => t.startsWith('src/cli/') || t === 'commander').map((t) => `${file} -> ${t}`),
      );
    assert.deepEqual(offences, []);
  });

  test('no import cycle, not even of types', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) if (graph.has(target)) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });
});

/** Every long flag of the program, its commands' included. */
function programFlags(spec: CommandSpec = describeProgram(buildProgram('0.0.0'))): Set<string> {
  const own = spec.options.flatMap((option) => option.names.filter((name) => name.startsWith('--')));
  return new Set([...own, ...spec.commands.flatMap((command) => [...programFlags(command)])]);
}

/**
 * The text of every string and template literal in a file (a template's substitutions as `${}`), except a literal that
 * is a flag alone in an array: the argv of another program (`tedge --config-dir`).
 */
function stringLiterals(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const texts: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      const argv = ts.isArrayLiteralExpression(node.parent) && /^--[a-z-]+$/.test(node.text);
      if (!argv) texts.push(node.text);
    } else if (ts.isTemplateExpression(node)) {
      texts.push(node.head.text + node.templateSpans.map((span) => `\${}${span.literal.text}`).join(''));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return texts;
}

describe('architecture: the core speaks of settings, the CLI of flags', () => {
  const flags = programFlags();

  test('no string in the core names a flag of c8y-token (a command of another program in `backticks` may)', () => {
    const core = readdirSync(join(SRC, 'core'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    assert.ok(core.length > 20);
    const offences = core.flatMap((file) =>
      stringLiterals(join(SRC, 'core', file)).flatMap((text) =>
        [...text.replace(/`[^`]*`/g, '').matchAll(/--[a-z][a-z0-9-]*/g)]
          .filter(([flag]) => flags.has(flag))
          .map(([flag]) => `src/core/${file}: ${flag} in ${JSON.stringify(text)}`),
      ),
    );
    assert.deepEqual(offences, []);
  });

  test('every setting an error can name is shown by a flag the program has', () => {
    assert.ok(flags.has('--url') && flags.has('--mqtt-host'));
    const unknown = Object.entries(SETTING_FLAGS).filter(([, flag]) => flag!.startsWith('--') && !flags.has(flag!));
    assert.deepEqual(unknown, []);
  });
});
