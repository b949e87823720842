import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './harness/cli.ts';

/** The test command's own flags, as package.json's test:run gives them. */
const TEST_FLAGS = ['--test', '--import', './dist/test/harness/temp-root.js'];

test('a failing test leaves nothing in the temporary directory: HOMEs, caches, keys, broker files all go', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'c8y-token-hygiene-'));
  try {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [...TEST_FLAGS, 'dist/test/harness/leaky-test.js'], {
        cwd: ROOT,
        // Without NODE_TEST_CONTEXT, which would make the inner runner report to this one instead of exiting 1.
        env: { ...process.env, NODE_TEST_CONTEXT: undefined, TMPDIR: tmp },
        stdio: 'ignore',
      });
      child.on('close', resolve);
    });
    assert.equal(code, 1, 'the test failed, as it does on purpose');
    assert.deepEqual(await readdir(tmp), []);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
