import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FakeTedge {
  /** The directory to put first on PATH. */
  dir: string;
  /** Every call's arguments, a line each. */
  callsFile: string;
  /** The configuration directory tedge reads without --config-dir: the tests' /etc/tedge. */
  configDir: string;
}

/**
 * A fake `tedge` executable answering `config list` from the real files of a configuration directory, as thin-edge
 * 2.0 does: tedge.toml, and the Cumulocity settings from `mappers/c8y/mapper.toml` and `mappers/c8y.<profile>/mapper.toml`
 * when any of those exist (the 2.x layout), else from tedge.toml's `[c8y]` table (1.x). It prints each key with a value
 * as `key=value`; a file that is not TOML makes it fail as tedge does (a line on stderr, exit 1). It leaves the
 * TEDGE_* environment to c8y-token, so that tests see c8y-token apply it. `settings` (flat `key=value` pairs) are
 * written to the default directory's tedge.toml.
 */
export async function fakeTedge(settings: Record<string, string> = {}): Promise<FakeTedge> {
  const dir = await mkdtemp(join(tmpdir(), 'c8y-token-tedge-'));
  const callsFile = join(dir, 'calls');
  const configDir = join(dir, 'etc-tedge');
  await writeTedgeToml(configDir, settings);
  const script = `#!/usr/bin/env node
// CommonJS: a file without an extension is not taken for an ES module on every Node version.
const { appendFileSync, existsSync, readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
// Found from the harness, where the tests' node_modules are.
const { parse } = require('node:module').createRequire(${JSON.stringify(import.meta.url)})('smol-toml');
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(callsFile)}, args.join(' ') + '\\n');
const at = args.indexOf('--config-dir');
const configDir = at >= 0 ? args.splice(at, 2)[1] : ${JSON.stringify(configDir)};
if (args.join(' ') !== 'config list') {
  console.error('fake tedge: unexpected arguments: ' + args.join(' '));
  process.exit(1);
}
const read = (file) => {
  try {
    return parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return {};
    console.error('Error: failed to read ' + file + ': ' + error.message.split('\\n')[0]);
    process.exit(1);
  }
};
const flatten = (prefix, table, out) => {
  for (const [key, value] of Object.entries(table)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) flatten(prefix + key + '.', value, out);
    else out.push(prefix + key + '=' + value);
  }
  return out;
};
const base = read(join(configDir, 'tedge.toml'));
const mappers = join(configDir, 'mappers');
const profiles = existsSync(mappers) ? readdirSync(mappers).filter((name) => /^c8y\\./.test(name)) : [];
const lines = [];
if (existsSync(join(mappers, 'c8y', 'mapper.toml')) || profiles.length > 0) {
  delete base.c8y;
  flatten('', base, lines);
  const mapper = (file) => {
    const { cloud_type, ...keys } = read(file);
    return keys;
  };
  flatten('c8y.', mapper(join(mappers, 'c8y', 'mapper.toml')), lines);
  for (const name of profiles) {
    flatten('c8y.profiles.' + name.slice(4) + '.', mapper(join(mappers, name, 'mapper.toml')), lines);
  }
} else {
  flatten('', base, lines);
}
process.stdout.write(lines.map((line) => line + '\\n').join(''));
`;
  await writeFile(join(dir, 'tedge'), script);
  await chmod(join(dir, 'tedge'), 0o755);
  return { dir, callsFile, configDir };
}

/** Writes flat `key=value` settings as a tedge.toml of dotted keys (thin-edge 1.x keeps all of them there). */
export async function writeTedgeToml(configDir: string, settings: Record<string, string>): Promise<void> {
  await writeConfigFile(join(configDir, 'tedge.toml'), settings);
}

/**
 * Writes a 2.x mapper configuration: `mappers/c8y/mapper.toml`, or with a profile `mappers/c8y.<profile>/mapper.toml`,
 * its keys without the `c8y.` (or `c8y.profiles.<name>.`) prefix, as `tedge config upgrade` writes them.
 */
export async function writeMapperToml(
  configDir: string,
  settings: Record<string, string>,
  profile?: string,
): Promise<string> {
  const file = join(configDir, 'mappers', profile ? `c8y.${profile}` : 'c8y', 'mapper.toml');
  await writeConfigFile(file, { cloud_type: 'c8y', ...settings });
  return file;
}

async function writeConfigFile(file: string, settings: Record<string, string>): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const lines = Object.entries(settings).map(([key, value]) => `${key} = ${JSON.stringify(value)}\n`);
  await writeFile(file, lines.join(''));
}
