import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
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
