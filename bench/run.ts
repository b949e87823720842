import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDevice, type Device } from './device.ts';
import { alternate, findCommand, GNU_TIME, median, type Command, type Sample } from './measure.ts';
import { bridgeUpToToken } from './bridge-up.ts';
import { startTenant } from '../sim/tenant.ts';
import { makePrivateCa } from '../test/harness/private-ca.ts';

/**
 * `npm run bench`: c8y-token side by side with the floors (an empty ES module run by node, and a bare `node -e 0`
 * for memory) and with the documented recipe (mosquitto_rr, cut and curl) on a simulated device. Prints a table of
 * ratios and writes bench/results.json. `--runs N` (at least 7) sets how many times each start-up command runs;
 * --paginate runs 7 times.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin', 'c8y-token');
const RESULTS = join(ROOT, 'bench', 'results.json');
const LATENCY_MS = 150;
const MANAGED_OBJECTS = 200_000;
const PAGE_SIZE = 2000;
/** The tenant's answer time per page for row 5: a real link's round trip, which curl pays once per page. */
const PAGE_LATENCY_MS = 50;
const MIN_RUNS = 7;

interface Result {
  name: string;
  /** What is compared: a time or a peak RSS. */
  measure: 'time' | 'rss';
  subject: { command: string; median: number };
  reference?: { command: string; median: number } | undefined;
  /** subject / reference, or the subject alone for an absolute goal. */
  value: number;
  goal: number;
  unit: 'ratio' | 'MiB' | 'ms';
  met: boolean;
}

interface Skipped {
  name: string;
  skipped: string;
}

const runs = Math.max(MIN_RUNS, Number(argValue('--runs') ?? 15));
const tools = {
  mosquittoRr: findCommand('mosquitto_rr'),
  curl: findCommand('curl'),
  gnuTime: findCommand(GNU_TIME),
};
const missing = {
  mosquittoRr: 'mosquitto_rr is not installed (apt-get install mosquitto-clients)',
  curl: 'curl is not installed (apt-get install curl)',
  gnuTime: `${GNU_TIME} is not installed (apt-get install time): peak RSS is not measured`,
};
for (const [tool, path] of Object.entries(tools)) {
  if (!path) log(`note: ${missing[tool as keyof typeof missing]}`);
}

const device = await startDevice(LATENCY_MS);
const results: Array<Result | Skipped> = [];
try {
  await measureAll(device);
} finally {
  await device.stop();
}
printTable(results);
await writeFile(
  RESULTS,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, kernel: release() },
      broker: device.broker.kind,
      bridgeLatencyMs: LATENCY_MS,
      runs,
      results,
    },
    null,
    2,
  )}\n`,
);
log(`written to ${RESULTS}`);

async function measureAll(device: Device): Promise<void> {
  const c8yToken = (...args: string[]): Command => ({
    label: `c8y-token ${args.join(' ')}`,
    argv: [process.execPath, BIN, ...args],
    env: device.env,
  });
  const node: Command = { label: 'node -e 0', argv: [process.execPath, '-e', '0'], env: device.env };
  // Running any file costs more than -e: the ES module loader. The floor of a command run from a file.
  const emptyModule = join(await mkdtemp(join(tmpdir(), 'c8y-token-bench-')), 'empty.mjs');
  await writeFile(emptyModule, '');
  const empty: Command = { label: 'node empty.mjs', argv: [process.execPath, emptyModule], env: device.env };
  const { host, port } = device.broker;
  const rrArgs = ['-h', host, '-p', String(port), '-t', 'c8y/s/uat', '-e', 'c8y/s/dat', '-m', '', '-W', '10'];

  // Warms the caches (token and thin-edge settings); asynchronous, as the bridge answers from this process.
  const jwt = (await promisify(execFile)(process.execPath, [BIN, 'get'], { env: device.env })).stdout.trim();
  log(`device: ${device.broker.kind} broker on port ${port}, bridge latency ${LATENCY_MS} ms; ${runs} runs each`);

  const get = c8yToken('get');
  await compare('1. get, warm cache, vs node empty.mjs', 'time', get, empty, 1.15);
  await rm(dirname(emptyModule), { recursive: true, force: true });

  if (tools.mosquittoRr) {
    const rr: Command = { label: 'mosquitto_rr', argv: [tools.mosquittoRr, ...rrArgs] };
    await compare('2. get --no-cache vs mosquitto_rr', 'time', c8yToken('get', '--no-cache'), rr, 1.6);
  } else {
    results.push({ name: '2. get --no-cache vs mosquitto_rr', skipped: missing.mosquittoRr });
  }

  if (tools.mosquittoRr && tools.curl) {
    // The documented recipe; the token passes through curl's argv there, which c8y-token avoids.
    const recipe: Command = {
      label: 'mosquitto_rr | cut + curl',
      argv: [
        'sh',
        '-c',
        'T=$("$0" "$@" | cut -d, -f2-) && exec "$CURL" -sf -H "Authorization: Bearer $T" "$URL"',
        tools.mosquittoRr,
        ...rrArgs,
      ],
      env: { ...process.env, CURL: tools.curl, URL: `${device.tenant.url}/user/currentUser` },
    };
    await compare(
      '3. curl /user/currentUser, warm cache, vs the recipe',
      'time',
      c8yToken('curl', '/user/currentUser'),
      recipe,
      0.8,
    );
  } else {
    results.push({ name: '3. curl vs the recipe', skipped: tools.curl ? missing.mosquittoRr : missing.curl });
  }

  await measureTrust(device, c8yToken);

  if (tools.gnuTime) await compare('4. peak RSS: get, warm cache, vs node -e 0', 'rss', get, node, 1.3);
  else results.push({ name: '4. peak RSS of get', skipped: missing.gnuTime });

  device.tenant.managedObjects = MANAGED_OBJECTS;
  device.tenant.latencyMs = PAGE_LATENCY_MS;
  const pages = Math.ceil(MANAGED_OBJECTS / PAGE_SIZE) + 1;
  if (tools.curl) {
    const urls = Array.from(
      { length: pages },
      (_, n) => `${device.tenant.url}/inventory/managedObjects?pageSize=${PAGE_SIZE}&currentPage=${n + 1}`,
    );
    const curlPages: Command = {
      label: `curl, the same ${pages} pages one after another`,
      // One kept-alive connection for all the URLs, each asked for once the one before has come.
      argv: [tools.curl, '-sf', '-H', `Authorization: Bearer ${jwt}`, ...urls],
    };
    const paginate = c8yToken('curl', '/inventory/managedObjects', '--paginate', '--page-size', String(PAGE_SIZE));
    // Seconds per run: GNU time's own start-up is negligible here, so one set of runs gives time and memory.
    const [subject, reference] = await alternate([paginate, curlPages], MIN_RUNS, tools.gnuTime !== undefined);
    record(
      `5. curl --paginate, ${MANAGED_OBJECTS} objects, ${PAGE_LATENCY_MS} ms per page, vs curl`,
      'time',
      paginate,
      curlPages,
      subject!,
      reference!,
      0.7,
    );
    if (tools.gnuTime) {
      const mib = median(subject!.map((sample) => sample.rssKiB!)) / 1024;
      results.push({
        name: '5. peak RSS of curl --paginate',
        measure: 'rss',
        subject: { command: paginate.label, median: mib },
        value: mib,
        goal: 120,
        unit: 'MiB',
        met: mib <= 120,
      });
    } else {
      results.push({ name: '5. peak RSS of curl --paginate', skipped: missing.gnuTime });
    }
  } else {
    results.push({ name: '5. curl --paginate vs curl', skipped: missing.curl });
  }
  device.tenant.latencyMs = 0;
  await measureBridgeUp(device);
}

/** Row 6: an absolute goal, the bridge round trip included. */
async function measureBridgeUp(device: Device): Promise<void> {
  const name = `6. bridge up -> token on stdout (get --no-cache, ${LATENCY_MS} ms round trip)`;
  log(`${name} ...`);
  const ms = median(await bridgeUpToToken(BIN, device.env, device.bridge, MIN_RUNS));
  results.push({
    name,
    measure: 'time',
    subject: { command: 'c8y-token get --no-cache, the bridge down, then up', median: ms },
    value: ms,
    goal: 1000,
    unit: 'ms',
    met: ms <= 1000,
  });
}

/**
 * 3b: what the system's CAs add to `curl /user/currentUser` for a tenant over HTTPS whose certificate comes from a
 * private CA in SSL_CERT_DIR, as on a device with an enterprise CA: Node's bundled CAs fail, the system's (Debian's
 * bundle and the directory) are loaded and the handshake is tried again. The reference trusts the CA alone
 * (--cacert), so that the ratio is the cost of the system's CAs and nothing else.
 */
async function measureTrust(device: Device, c8yToken: (...args: string[]) => Command): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'c8y-token-bench-ca-'));
  const ca = await makePrivateCa(dir);
  const tenant = await startTenant({ tls: ca.tls });
  try {
    const env = { ...device.env, SSL_CERT_DIR: ca.hashedDir };
    const https = (...args: string[]): Command => ({
      ...c8yToken('curl', '/user/currentUser', '--url', tenant.url, ...args),
      env,
    });
    await compare(
      "3b. curl over HTTPS: the system's CAs vs --cacert",
      'time',
      https(),
      https('--cacert', ca.caFile),
      1.2,
    );
  } finally {
    await tenant.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function compare(
  name: string,
  measure: 'time' | 'rss',
  subject: Command,
  reference: Command,
  goal: number,
): Promise<void> {
  log(`${name} ...`);
  const [a, b] = await alternate([subject, reference], runs, measure === 'rss');
  record(name, measure, subject, reference, a!, b!, goal);
}

function record(
  name: string,
  measure: 'time' | 'rss',
  subject: Command,
  reference: Command,
  a: Sample[],
  b: Sample[],
  goal: number,
): void {
  const pick = (samples: Sample[]) => median(samples.map((s) => (measure === 'time' ? s.ms : s.rssKiB!)));
  const value = pick(a) / pick(b);
  results.push({
    name,
    measure,
    subject: { command: subject.label, median: pick(a) },
    reference: { command: reference.label, median: pick(b) },
    value,
    goal,
    unit: 'ratio',
    met: value <= goal,
  });
}

function printTable(all: Array<Result | Skipped>): void {
  const rows = all.map((result) => {
    if ('skipped' in result) return [result.name, '', '', 'skipped', '', result.skipped];
    const unit = (value: number) =>
      result.measure === 'time' ? `${value.toFixed(1)} ms` : `${(value / 1024).toFixed(1)} MiB`;
    if (result.unit === 'ms') {
      return [result.name, unit(result.value), '', '', `<= ${result.goal} ms`, result.met ? 'met' : 'NOT met'];
    }
    if (result.unit === 'MiB') {
      return [
        result.name,
        `${result.value.toFixed(1)} MiB`,
        '',
        `${result.value.toFixed(1)} MiB`,
        `<= ${result.goal} MiB`,
        result.met ? 'met' : 'NOT met',
      ];
    }
    return [
      result.name,
      unit(result.subject.median),
      unit(result.reference!.median),
      result.value.toFixed(2),
      `<= ${result.goal}`,
      result.met ? 'met' : 'NOT met',
    ];
  });
  const header = ['comparison', 'c8y-token', 'reference', 'ratio', 'goal', 'result'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(
    `${[line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')}\n`,
  );
}

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}
