import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fake `tedge` executable answering `config list` with the given settings; it also records its arguments
 * so tests can see how it was called. Returns the directory to put first on PATH.
 */
export async function fakeTedge(settings: Record<string, string>): Promise<{ dir: string; callsFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'c8y-token-tedge-'));
  const callsFile = join(dir, 'calls');
  const lines = Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
  await writeFile(join(dir, 'config-list'), `${lines}\n`);
  const script = `#!/bin/sh
echo "$*" >> '${callsFile}'
case "$*" in
  *"config list"*) cat '${join(dir, 'config-list')}' ;;
  *) echo "fake tedge: unexpected arguments: $*" >&2; exit 1 ;;
esac
`;
  await writeFile(join(dir, 'tedge'), script);
  await chmod(join(dir, 'tedge'), 0o755);
  return { dir, callsFile };
}
