import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Loaded into every test process (`node --test --import`): the temporary files of that process, and of everything
 * it starts (the environment it passes on names TMPDIR), go into one directory of its own, which is removed when the
 * process exits, also after a failed test. Tests then need no clean-up of their own for what they leave in tmpdir().
 */
const root = mkdtempSync(join(tmpdir(), 'c8y-token-test-'));
process.env.TMPDIR = root;
process.on('exit', () => {
  try {
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    process.stderr.write(`could not remove the test's temporary directory ${root}: ${(error as Error).message}\n`);
  }
});
