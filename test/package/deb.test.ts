import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { startBridge, type Bridge } from '../../sim/bridge.ts';
import { startBroker, type Broker } from '../../sim/broker.ts';
import { baseEnv, brokerEnv, ROOT } from '../harness/cli.ts';

const run = promisify(execFile);
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const dir = mkdtempSync(join(tmpdir(), 'c8y-token-deb-'));
const root = join(dir, 'root');
const cli = join(root, 'usr/bin/c8y-token');
let deb: string;
let broker: Broker;
let bridge: Bridge;

before(async () => {
  deb = (await run('bash', [join(ROOT, 'scripts/package-deb.sh'), dir])).stdout.trim();
  await run('dpkg-deb', ['-x', deb, root]);
  broker = await startBroker();
  bridge = await startBridge(broker);
});
after(async () => {
  await bridge.stop();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the Debian package (npm run package:deb)', () => {
  test("has its name, version, architecture and a dependency on Node.js 18.19, the stock repositories' Node", async () => {
    const { stdout } = await run('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture', 'Depends']);
    assert.equal(stdout, `Package: c8y-token\nVersion: ${version}\nArchitecture: all\nDepends: nodejs (>= 18.19)\n`);
  });

  test('installs the bundled CLI, /usr/bin/c8y-token, the man page, completions and licenses, and no node_modules', async () => {
    const listing = (await run('dpkg-deb', ['-c', deb])).stdout;
    const paths = listing.split('\n').map((line) => line.split(/\s+/).slice(5).join(' '));
    for (const path of [
      './usr/bin/c8y-token -> ../lib/c8y-token/bin/c8y-token',
      './usr/lib/c8y-token/bin/c8y-token',
      './usr/lib/c8y-token/package.json',
      './usr/lib/c8y-token/dist/cli/c8y-token.js',
      './usr/share/man/man1/c8y-token.1.gz',
      './usr/share/bash-completion/completions/c8y-token',
      './usr/share/zsh/vendor-completions/_c8y-token',
      './usr/share/fish/vendor_completions.d/c8y-token.fish',
      './usr/share/doc/c8y-token/copyright',
    ]) {
      assert.ok(paths.includes(path), `${path} in\n${listing}`);
    }
    assert.deepEqual(
      paths.filter((path) => path.includes('node_modules') || path.includes('/dist/src/')),
      [],
    );
    assert.match(listing, /^drwxr-xr-x root\/root .* \.\/\n/, 'the root directory is 755 and owned by root');
    assert.match(listing, /^-rwxr-xr-x root\/root .* \.\/usr\/lib\/c8y-token\/bin\/c8y-token$/m);
  });

  test("ships the man page gzipped and the bundled packages' licenses", () => {
    assert.match(
      gunzipSync(readFileSync(join(root, 'usr/share/man/man1/c8y-token.1.gz'))).toString(),
      /^\.TH C8Y\\-TOKEN 1 /,
    );
    const copyright = readFileSync(join(root, 'usr/share/doc/c8y-token/copyright'), 'utf8');
    for (const name of ['commander', 'mqtt']) assert.match(copyright, new RegExp(`^${name} \\S+ \\(MIT\\)$`, 'm'));
  });

  test('ships the completion scripts where bash, zsh and fish look for them, as c8y-token completion prints them', async () => {
    const places = {
      bash: 'usr/share/bash-completion/completions/c8y-token',
      zsh: 'usr/share/zsh/vendor-completions/_c8y-token',
      fish: 'usr/share/fish/vendor_completions.d/c8y-token.fish',
    };
    for (const [shell, place] of Object.entries(places)) {
      const { stdout } = await run(cli, ['completion', shell], { env: baseEnv() });
      assert.equal(readFileSync(join(root, place), 'utf8'), stdout, shell);
    }
  });

  test('unpacked, c8y-token --version and --help run', async () => {
    const env = baseEnv();
    assert.equal((await run(cli, ['--version'], { env })).stdout, `${version}\n`);
    assert.match((await run(cli, ['--help'], { env })).stdout, /^Usage: c8y-token /);
  });

  // CI runs this file on Node 18 too: the unpacked CLI's `#!/usr/bin/env node` finds this test's node first on PATH.
  test(`unpacked, c8y-token runs on the node that runs this test (${process.version})`, async () => {
    const report = encodeURIComponent('process.stderr.write("node " + process.version + "\\n")');
    const env = { ...baseEnv(), NODE_OPTIONS: `--import=data:text/javascript,${report}` };
    const { stdout, stderr } = await run(cli, ['--version'], { env });
    assert.equal(stdout, `${version}\n`);
    assert.equal(stderr, `node ${process.version}\n`);
  });

  test('unpacked, c8y-token get fetches a token with nothing loaded from outside the package', async () => {
    const log = join(dir, 'modules');
    const hook = pathToFileURL(join(ROOT, 'dist/test/harness/module-log.js')).href;
    const env = { ...baseEnv(), ...brokerEnv(broker), NODE_OPTIONS: `--import ${hook}`, C8Y_TOKEN_MODULE_LOG: log };
    const { stdout } = await run(cli, ['get'], { env });
    assert.ok(bridge.issued.includes(stdout.trim()), 'prints a token the bridge issued');
    const files = readFileSync(log, 'utf8')
      .split('\n')
      .filter((url) => url.startsWith('file:'));
    const lib = pathToFileURL(join(root, 'usr/lib/c8y-token/')).href;
    assert.ok(files.includes(`${lib}dist/cli/c8y-token.js`), files.join('\n'));
    assert.deepEqual(
      files.filter((url) => !url.startsWith(lib)),
      [],
    );
  });
});
