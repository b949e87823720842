import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ROOT, runCli } from './harness/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'c8y-token-completion-'));
const scripts: Record<string, string> = {};

before(async () => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    const result = await runCli(['completion', shell]);
    assert.equal(result.code, 0, result.stderr);
    scripts[shell] = join(dir, `c8y-token.${shell}`);
    writeFileSync(scripts[shell], result.stdout);
  }
});

test('dist/completions, which the npm and Debian packages ship, holds what c8y-token completion prints', () => {
  const files = { bash: 'bash/c8y-token', zsh: 'zsh/_c8y-token', fish: 'fish/c8y-token.fish' };
  for (const [shell, file] of Object.entries(files)) {
    assert.equal(
      readFileSync(join(ROOT, 'dist/completions', file), 'utf8'),
      readFileSync(scripts[shell]!, 'utf8'),
      shell,
    );
  }
});

function installed(shell: string): boolean {
  return spawnSync(shell, ['-c', 'exit 0']).status === 0;
}

/** Runs a shell script and returns its stdout; a syntax or runtime error fails the test with the shell's stderr. */
function run(shell: string, args: string[]): string {
  return execFileSync(shell, args, { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir } });
}

describe('c8y-token completion bash', () => {
  /** What bash's completion offers for these words (the last one being completed), one per line. */
  function complete(...words: string[]): string[] {
    const script = `source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
_c8y_token 2>/dev/null
printf '%s\\n' "\${COMPREPLY[@]}"`;
    return run('bash', ['-c', script, 'bash', scripts.bash!, 'c8y-token', ...words])
      .split('\n')
      .filter(Boolean);
  }

  test('is valid bash and registers a completion for c8y-token', () => {
    run('bash', ['-n', scripts.bash!]);
    assert.match(run('bash', ['-c', 'source "$1"; complete -p c8y-token', 'bash', scripts.bash!]), /-F _c8y_token/);
  });

  test('completes commands, their options and option values', () => {
    assert.deepEqual(complete('g'), ['get']);
    assert.deepEqual(complete(''), ['get', 'decode', 'doctor', 'curl', 'env', 'exec', 'cache', 'completion', 'help']);
    assert.deepEqual(complete('--v'), ['--version']);
    assert.deepEqual(complete('get', '--f'), ['--format']);
    assert.deepEqual(complete('get', '--format', ''), ['token', 'json', 'header']);
    assert.deepEqual(complete('get', '--format', '=', 'j'), ['json']);
    assert.deepEqual(complete('get', '--timeout', ''), []);
    assert.deepEqual(complete('decode', '--timeout', '5', '--mqtt-c'), [
      '--mqtt-cafile',
      '--mqtt-capath',
      '--mqtt-cert',
    ]);
    assert.deepEqual(complete('completion', 'z'), ['zsh']);
    assert.deepEqual(complete('help', 'de'), ['decode']);
  });

  test('completes file names for file options', () => {
    const certs = join(dir, 'certs');
    mkdirSync(certs, { recursive: true });
    writeFileSync(join(certs, 'ca.pem'), '');
    assert.deepEqual(complete('get', '--mqtt-cafile', join(certs, 'c')), [join(certs, 'ca.pem')]);
  });
});

describe('c8y-token completion zsh', { skip: !installed('zsh') && 'zsh is not installed' }, () => {
  const compinit = 'autoload -U compinit && compinit -u -d "$HOME/.zcompdump"';

  test('is valid zsh and registers _c8y-token when sourced', () => {
    run('zsh', ['-n', scripts.zsh!]);
    const registered = run('zsh', [
      '-f',
      '-c',
      `${compinit}; source "$1"; print -r -- $_comps[c8y-token]`,
      'zsh',
      scripts.zsh!,
    ]);
    assert.equal(registered, '_c8y-token\n');
  });

  test('is found through $fpath by its #compdef line', () => {
    const fpath = join(dir, 'zsh-functions');
    mkdirSync(fpath, { recursive: true });
    writeFileSync(join(fpath, '_c8y-token'), readFileSync(scripts.zsh!));
    const registered = run('zsh', [
      '-f',
      '-c',
      `fpath=("$1" $fpath); ${compinit}; print -r -- $_comps[c8y-token]`,
      'zsh',
      fpath,
    ]);
    assert.equal(registered, '_c8y-token\n');
  });
});

describe('c8y-token completion fish', { skip: !installed('fish') && 'fish is not installed' }, () => {
  function complete(line: string): string[] {
    const output = run('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', scripts.fish!, line]);
    return output
      .split('\n')
      .filter(Boolean)
      .map((entry) => entry.split('\t')[0]!);
  }

  test('is valid fish', () => {
    run('fish', ['--no-execute', scripts.fish!]);
  });

  test('completes commands, their options and option values', () => {
    assert.deepEqual(complete('c8y-token g'), ['get']);
    assert.deepEqual(complete('c8y-token get --fo'), ['--format']);
    assert.deepEqual(complete('c8y-token get --format '), ['header', 'json', 'token']);
    assert.deepEqual(complete('c8y-token completion '), ['bash', 'fish', 'zsh']);
  });
});
