import assert from 'node:assert/strict';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCliInTerminal } from './harness/cli.ts';
import { useCurlFixture } from './harness/fixture.ts';

const f = useCurlFixture();

async function inTerminal(args: string[]) {
  const result = await runCliInTerminal(['curl', ...args], f.env);
  assert.ok(result, 'util-linux `script` is needed to give the CLI a terminal');
  return result;
}

describe('c8y-token curl on a terminal', () => {
  test('a JSON body is pretty-printed; --raw keeps it as it came', async () => {
    const pretty = await inTerminal(['/user/currentUser']);
    assert.equal(pretty.code, 0, pretty.output);
    assert.match(pretty.output, /^\{\r\n {2}"id": "device_rpi4-d83add90fe56",\r\n/);
    const raw = await inTerminal(['/user/currentUser', '--raw']);
    assert.match(raw.output, /^\{"id":"device_rpi4-d83add90fe56",/);
  });

  test('a large download with -o shows a progress bar on stderr; -s and a small body show none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'c8y-token-'));
    const large = await inTerminal(['/size/3000000', '-o', join(dir, 'large')]);
    assert.equal(large.code, 0, large.output);
    assert.match(large.output, /\[#+\] 100% {2}2\.9 MiB of 2\.9 MiB\r\n$/);
    assert.equal((await stat(join(dir, 'large'))).size, 3_000_000);
    const silent = await inTerminal(['/size/3000000', '-o', join(dir, 'silent'), '-s']);
    assert.equal(silent.output, '');
    const small = await inTerminal(['/size/1000', '-o', join(dir, 'small')]);
    assert.equal(small.output, '');
  });

  test('piped, the same download shows no progress bar', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'c8y-token-'));
    const result = await f.curl(['/size/3000000', '-o', join(dir, 'large')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
  });
});
