import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { useBrokerAndBridge } from './harness/fixture.ts';
import { brokerEnv, runCli, type RunResult } from './harness/cli.ts';

const world = useBrokerAndBridge();
const folder = mkdtempSync(join(tmpdir(), 'c8y-token-bad-input-'));
const missing = join(folder, 'missing');

interface BadInput {
  args: string[];
  message: RegExp;
  /** Exit code: 2 (usage error) unless said otherwise. */
  code?: number;
  /** The hint line exactly, for the command lines commander cannot parse: where to read the command's help. */
  hint?: string;
  env?: Record<string, string>;
}

/**
 * Bad command-line input, each answered by one clear line (and a hint) on stderr, nothing on stdout and no stack trace.
 * docs/reliability.md lists them; test/cli.test.ts ("command line") has more, and test/get.test.ts the bad replies.
 */
const BAD_INPUTS: Record<string, BadInput> = {
  'a duration with two units': { args: ['get', '--timeout', '1h2m'], message: /--timeout: '1h2m' is not a duration/ },
  'an empty duration': { args: ['get', '--timeout', ''], message: /--timeout: '' is not a duration/ },
  'a duration in exponent notation': { args: ['curl', '/x', '--max-time', '1e3'], message: /'1e3' is not a duration/ },
  'a duration too long for a timer': { args: ['get', '--timeout', '999999h'], message: /'999999h' is too long/ },
  'a zero --republish': { args: ['get', '--republish', '0'], message: /--republish: must be greater than zero/ },
  'a negative --min-validity': { args: ['get', '--min-validity', '-5'], message: /'-5' is not a duration/ },
  'port 0': { args: ['get', '--mqtt-port', '0'], message: /--mqtt-port: '0' is not a port number/ },
  'port 65536': { args: ['get', '--mqtt-port', '65536'], message: /'65536' is not a port number/ },
  'a fractional port': { args: ['get', '--mqtt-port', '1.5'], message: /'1\.5' is not a port number/ },
  'an extra argument': {
    args: ['get', 'extra'],
    message: /^c8y-token: too many arguments for 'get' \(it takes 0, got 1\)$/m,
    hint: 'see c8y-token get --help',
  },
  'an unknown curl flag': {
    args: ['curl', '/x', '--frobnicate'],
    message: /^c8y-token: unknown option '--frobnicate'$/m,
    hint: 'see c8y-token curl --help',
  },
  'a misspelt flag': {
    args: ['get', '--forma', 'json'],
    message: /^c8y-token: unknown option '--forma' \(did you mean --format\?\)$/m,
    hint: 'see c8y-token get --help',
  },
  'an unknown command': {
    args: ['gte'],
    message: /^c8y-token: unknown command 'gte' \(did you mean get\?\)$/m,
    hint: 'see c8y-token --help',
  },
  'an unknown subcommand': {
    args: ['cache', 'frobnicate'],
    message: /^c8y-token: unknown command 'frobnicate'$/m,
    hint: 'see c8y-token cache --help',
  },
  'exec without a command': {
    args: ['exec'],
    message: /^c8y-token: missing required argument 'command'$/m,
    hint: 'see c8y-token exec --help',
  },
  'an option without its value': {
    args: ['curl', '/x', '-X'],
    message: /^c8y-token: --request: argument missing$/m,
    hint: 'see c8y-token curl --help',
  },
  'an invalid choice of an option': {
    args: ['get', '--format', 'yaml'],
    message: /^c8y-token: --format: 'yaml' is not one of token, json, header$/m,
    hint: 'see c8y-token get --help',
  },
  'an unknown completion shell': {
    args: ['completion', 'tcsh'],
    message: /^c8y-token: shell: 'tcsh' is not one of bash, zsh, fish$/m,
    hint: 'see c8y-token completion --help',
  },
  'a topic prefix with a wildcard': {
    args: ['get', '--topic-prefix', 'c8y/#'],
    message: /--topic-prefix: 'c8y\/#' is not a bridge topic prefix/,
  },
  'an empty topic prefix': { args: ['get', '--topic-prefix', ''], message: /--topic-prefix: '' is not a bridge/ },
  'a wildcard in the environment': {
    args: ['get'],
    env: { TEDGE_C8Y_BRIDGE_TOPIC_PREFIX: 'c8y+' },
    message: /TEDGE_C8Y_BRIDGE_TOPIC_PREFIX: 'c8y\+' is not a bridge topic prefix/,
  },
  'an unreadable --mqtt-cafile': { args: ['get', '--mqtt-cafile', missing], message: /cannot read the MQTT CA file/ },
  'a cloud profile thin-edge does not know': {
    args: ['get', '--profile', 'nope'],
    message: /thin-edge has no cloud profile 'nope'/,
  },
  'decode: not a JWT': { args: ['decode', 'not-a-jwt'], message: /not a JWT/ },
  'decode: a payload that is not base64url': { args: ['decode', 'a.b!.c'], message: /not a JWT/ },
  'curl: a path without a leading slash': {
    args: ['curl', 'user/currentUser'],
    message: /'user\/currentUser' is not a path: it must start with \/\n {2}did you mean \/user\/currentUser\?/,
  },
  'curl: an empty path': { args: ['curl', ''], message: /'' is not a path/ },
  'curl: host:port without a scheme': {
    args: ['curl', 'localhost:8080/x'],
    message: /'localhost:8080\/x' is neither a path nor an http or https URL/,
  },
  'curl: a broken URL': { args: ['curl', 'http://[::1'], message: /'http:\/\/\[::1' is not a URL/ },
  'curl: a request method with a space': { args: ['curl', '/x', '-X', 'GET X'], message: /-X: 'GET X' is not a/ },
  'curl: a header without a colon': { args: ['curl', '/x', '-H', 'no colon'], message: /-H: 'no colon' is not/ },
  'curl: a header name with a space': { args: ['curl', '/x', '-H', 'Bad Name: v'], message: /is not a header/ },
  'curl: a control character in a header': { args: ['curl', '/x', '-H', 'X-Bell: a\u0007b'], message: /not a header/ },
  'curl: a value after "Name;"': { args: ['curl', '/x', '-H', 'X-Empty; v'], message: /is not a header/ },
  'curl: -d @file missing': {
    args: ['curl', '/x', '-d', `@${missing}`],
    message: /--data: cannot read .*: no such file$/m,
  },
  'curl: --data-binary @file missing': {
    args: ['curl', '/x', '--data-binary', `@${missing}`],
    message: /--data-binary: cannot read/,
  },
  'curl: --json @file missing': { args: ['curl', '/x', '--json', `@${missing}`], message: /--json: cannot read/ },
  'curl: -F name=@file missing': { args: ['curl', '/x', '-F', `f=@${missing}`], message: /-F: cannot read/ },
  // Errno's names translated (ENOENT, EISDIR): what failed, in words.
  'curl: -d @ a directory': {
    args: ['curl', '/x', '-d', `@${folder}`],
    message: /--data: cannot read .*: it is a directory$/m,
  },
  'curl: --data-binary @ a directory': {
    args: ['curl', '/x', '--data-binary', `@${folder}`],
    message: /--data-binary: cannot read .*: it is a directory$/m,
  },
  'curl: --data-urlencode @ a directory': {
    args: ['curl', '/x', '--data-urlencode', `v@${folder}`],
    message: /--data-urlencode: cannot read .*: it is a directory$/m,
  },
  'curl: --url-query name@file missing': {
    args: ['curl', '/x', '--url-query', `v@${missing}`],
    message: /--url-query: cannot read .*: no such file$/m,
  },
  'curl: -F name=@ a directory': {
    args: ['curl', '/x', '-F', `f=@${folder}`],
    message: /-F: cannot read .*: it is a directory$/m,
  },
  'curl: -F name=<file missing': {
    args: ['curl', '/x', '-F', `f=<${missing}`],
    message: /-F: cannot read .*: no such file$/m,
  },
  'curl: -T file missing: 26': {
    args: ['curl', '/x', '-T', missing],
    message: /-T: cannot read .*: no such file$/m,
    code: 26,
  },
  'curl: -T a directory: 26': {
    args: ['curl', '/x', '-T', folder],
    message: /-T: cannot read .*: it is a directory$/m,
    code: 26,
  },
  'curl: -D into a missing directory: 23': {
    args: ['curl', '/x', '-D', join(missing, 'headers')],
    message: /cannot write to .*headers: no such file$/m,
    code: 23,
  },
  'curl: --cacert a directory: 77': {
    args: ['curl', '/x', '--cacert', folder],
    message: /CA file .*: it is a directory$/m,
    code: 77,
  },
  'curl: -F without =': { args: ['curl', '/x', '-F', 'file'], message: /-F: 'file' is not name=content/ },
  'curl: -F with an open quote': { args: ['curl', '/x', '-F', 'a="open'], message: /-F: unterminated quote/ },
  'curl: a --url that is not http': { args: ['curl', '/x', '--url', 'ftp://x'], message: /not an http or https/ },
  'curl: a --url that is not a URL': { args: ['curl', '/x', '--url', 'tenant'], message: /'tenant' is not a URL/ },
  'curl: a negative --retry': { args: ['curl', '/x', '--retry', '-1'], message: /--retry: '-1' is not a whole/ },
  'curl: a bad --retry-delay': { args: ['curl', '/x', '--retry-delay', 'soon'], message: /'soon' is not a duration/ },
  'curl: a zero --connect-timeout': {
    args: ['curl', '/x', '--connect-timeout', '0'],
    message: /--connect-timeout: must be greater than zero/,
  },
  'curl: --page-size 0': { args: ['curl', '/x', '--page-size', '0'], message: /'0' is not a whole number from 1/ },
  'curl: --pretty with --raw': {
    args: ['curl', '/x', '--pretty', '--raw'],
    message: /^c8y-token: option '--pretty' cannot be used with option '--raw'$/m,
    hint: 'see c8y-token curl --help',
  },
  'curl: -d with -F': { args: ['curl', '/x', '-d', 'a', '-F', 'b=c'], message: /cannot be combined/ },
  'curl: -I with a body': { args: ['curl', '/x', '-I', '-d', 'x'], message: /-I\/--head and a request body/ },
  'curl: --paginate with -i': { args: ['curl', '/x', '--paginate', '-i'], message: /--paginate cannot be combined/ },
  // Port 1 on loopback refuses connections: a token fetched before the URL is checked would end in exit 7.
  'curl: a bad --url is refused before a token is fetched': {
    args: ['curl', '/x', '--url', 'tenant', '--mqtt-port', '1'],
    message: /--url: 'tenant' is not a URL/,
  },
  'env: a bad $C8Y_URL is refused before a token is fetched': {
    args: ['env', '--mqtt-port', '1'],
    env: { C8Y_URL: 'ftp://example.com' },
    message: /C8Y_URL: 'ftp:\/\/example\.com' is not an http or https URL/,
  },
  'exec: a bad --url is refused before a token is fetched': {
    args: ['exec', '--url', 'ftp://example.com', '--mqtt-port', '1', '--', 'true'],
    message: /--url: 'ftp:\/\/example\.com' is not an http or https URL/,
  },
  'curl: a web application path': { args: ['curl', '/apps/cockpit/'], message: /refusing to request \/apps\// },
  'curl: a script path': { args: ['curl', '/static/main.js'], message: /refusing to request \/static\/main\.js/ },
};

let runs: Map<string, Promise<RunResult>> | undefined;

/** The runs start together on first use (six at a time): the whole table costs a few runs' time, not fifty. */
function result(what: string): Promise<RunResult> {
  runs ??= startAll();
  return runs.get(what)!;
}

function startAll(): Map<string, Promise<RunResult>> {
  const started = new Map<string, Promise<RunResult>>();
  const lanes: Array<Promise<unknown>> = Array(6).fill(Promise.resolve());
  for (const [index, [what, input]] of Object.entries(BAD_INPUTS).entries()) {
    const lane = index % lanes.length;
    const run = lanes[lane]!.then(() => runCli(input.args, { env: { ...brokerEnv(world.broker), ...input.env } }));
    lanes[lane] = run.catch(() => {});
    started.set(what, run);
  }
  return started;
}

describe('bad command-line input: one clear line, exit 2, nothing on stdout', () => {
  for (const [what, input] of Object.entries(BAD_INPUTS)) {
    test(what, async () => {
      const { code, stdout, stderr } = await result(what);
      assert.equal(code, input.code ?? 2, stderr);
      assert.equal(stdout, '');
      assert.match(stderr, /^c8y-token: \S/);
      assert.match(stderr, input.message);
      const lines = stderr.trimEnd().split('\n');
      assert.ok(lines.length <= 2, `a message and at most one hint:\n${stderr}`);
      assert.ok(
        lines.slice(1).every((line) => /^ {2}\S/.test(line)),
        stderr,
      );
      if (input.hint) assert.equal(lines[1], `  ${input.hint}`, stderr);
    });
  }

  test('none of them asked the bridge for a token, except those that need its issuer', () => {
    // --url is checked against the token's issuer; everything else is refused before the broker is asked.
    assert.ok(world.bridge.requests <= 2, `token requests: ${world.bridge.requests}`);
  });
});
