import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, beforeEach, describe, test } from 'node:test';
import { startBridge } from '../sim/bridge.ts';
import { useCurlFixture } from './harness/fixture.ts';
import { startTenant, type RecordedRequest } from '../sim/tenant.ts';

const f = useCurlFixture();
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c8y-token-curl-'));
});
beforeEach(() => f.tenant.reset());

const CURRENT_USER = /^\{"id":"device_rpi4-d83add90fe56",.*\}$/;
const last = (): RecordedRequest => f.tenant.requests.at(-1)!;

describe('c8y-token curl: the request', () => {
  test('/user/currentUser: the body unchanged on stdout, the token as Bearer, JSON accepted', async () => {
    const result = await f.curl(['/user/currentUser']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, CURRENT_USER);
    assert.equal(f.tenant.requests.length, 1);
    const request = last();
    assert.equal(request.method, 'GET');
    assert.equal(request.url, '/user/currentUser');
    assert.equal(request.headers.authorization, `Bearer ${f.bridge.issued.at(-1)}`);
    assert.equal(request.headers.accept, 'application/json');
    assert.match(request.headers['user-agent']!, /^c8y-token\/\d+\.\d+\.\d+/);
  });

  test('the query string is sent as given', async () => {
    const result = await f.curl(["/inventory/managedObjects?query=$filter=(name eq 'x*')&pageSize=2"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(decodeURIComponent(last().url), "/inventory/managedObjects?query=$filter=(name eq 'x*')&pageSize=2");
  });

  test('a path that looks protocol-relative stays on the tenant', async () => {
    const result = await f.curl(['//127.0.0.2/user/currentUser']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(last().url, '//127.0.0.2/user/currentUser');
  });

  test('-X sets the method', async () => {
    const result = await f.curl(['-X', 'DELETE', '/inventory/managedObjects/7']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(last().method, 'DELETE');
  });

  test('-H adds headers (repeatable), replaces a default, removes one with "Name:", sends an empty one with "Name;"', async () => {
    const result = await f.curl([
      '/user/currentUser',
      '-H',
      'X-Trace: a',
      '-H',
      'X-Trace: b',
      '-H',
      'User-Agent: mine/1',
      '-H',
      'Accept:',
      '-H',
      'X-Empty;',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const { headers } = last();
    assert.equal(headers['x-trace'], 'a, b');
    assert.equal(headers['user-agent'], 'mine/1');
    assert.equal(headers.accept, undefined);
    assert.equal(headers['x-empty'], '');
  });

  test('-H Accept replaces the default Accept', async () => {
    await f.curl(['/user/currentUser', '-H', 'Accept: application/vnd.com.nsn.cumulocity.user+json']);
    assert.equal(last().headers.accept, 'application/vnd.com.nsn.cumulocity.user+json');
  });

  test('a malformed -H is a usage error and nothing is sent', async () => {
    const result = await f.curl(['/user/currentUser', '-H', 'no colon here']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /-H: 'no colon here' is not a header/);
    assert.equal(f.tenant.requests.length, 0);
  });
});

describe('c8y-token curl: request bodies', () => {
  test('-d sends a POST; a JSON body gets Content-Type application/json', async () => {
    const result = await f.curl(['/inventory/managedObjects', '-d', '{"name":"pump"}']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(last().method, 'POST');
    assert.equal(last().headers['content-type'], 'application/json');
    assert.equal(last().body.toString(), '{"name":"pump"}');
  });

  test('repeated -d pieces are joined with & and sent as form data, as curl does', async () => {
    await f.curl(['/form', '-d', 'a=1', '-d', 'b=2']);
    assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(last().body.toString(), 'a=1&b=2');
  });

  test('-H Content-Type wins over the guess', async () => {
    await f.curl(['/x', '-d', '{"a":1}', '-H', 'Content-Type: application/vnd.com.nsn.cumulocity.managedobject+json']);
    assert.equal(last().headers['content-type'], 'application/vnd.com.nsn.cumulocity.managedobject+json');
  });

  test('-d @file drops newlines; --data-binary @file sends the bytes; --data-raw takes @ literally', async () => {
    const file = join(dir, 'body.json');
    await writeFile(file, '{\r\n  "name": "pump"\n}\n');
    await f.curl(['/a', '-d', `@${file}`]);
    assert.equal(last().body.toString(), '{  "name": "pump"}');
    assert.equal(last().headers['content-type'], 'application/json');
    await f.curl(['/b', '--data-binary', `@${file}`]);
    assert.equal(last().body.toString(), '{\r\n  "name": "pump"\n}\n');
    assert.equal(last().headers['content-length'], String(Buffer.byteLength('{\r\n  "name": "pump"\n}\n')));
    await f.curl(['/c', '--data-raw', `@${file}`]);
    assert.equal(last().body.toString(), `@${file}`);
  });

  test('the pieces of different data options keep their command-line order', async () => {
    await f.curl(['/x', '--data-raw', 'a=1', '-d', 'b=2', '--data-binary', 'c=3']);
    assert.equal(last().body.toString(), 'a=1&b=2&c=3');
  });

  test('-d @- and --data-binary @- read stdin', async () => {
    await f.curl(['/a', '-d', '@-'], { input: 'line1\nline2\n' });
    assert.equal(last().body.toString(), 'line1line2');
    await f.curl(['/b', '--data-binary', '@-'], { input: 'line1\nline2\n' });
    assert.equal(last().body.toString(), 'line1\nline2\n');
  });

  test('--json sends JSON with Content-Type and Accept set; pieces are concatenated', async () => {
    const result = await f.curl([
      '/inventory/managedObjects',
      '--json',
      '{"name":',
      '--json',
      '"pump"}',
      '-H',
      'Accept: text/plain',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(last().method, 'POST');
    assert.equal(last().body.toString(), '{"name":"pump"}');
    assert.equal(last().headers['content-type'], 'application/json');
    assert.equal(last().headers.accept, 'text/plain');
  });

  test('-G sends the data in the query string of a GET', async () => {
    await f.curl(['/inventory/managedObjects?type=c8y_Device', '-G', '-d', 'pageSize=2', '-d', 'currentPage=1']);
    assert.equal(last().method, 'GET');
    assert.equal(last().url, '/inventory/managedObjects?type=c8y_Device&pageSize=2&currentPage=1');
    assert.equal(last().body.length, 0);
  });

  test('an unreadable @file is a usage error before anything is sent', async () => {
    const requests = f.bridge.requests;
    const result = await f.curl(['/x', '-d', `@${join(dir, 'missing')}`]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--data: cannot read .*missing: no such file\n {2}check the file name/);
    assert.equal(f.tenant.requests.length, 0);
    assert.equal(f.bridge.requests, requests, 'not even a token was asked for');
  });

  test('-d and -F together are a usage error', async () => {
    const result = await f.curl(['/x', '-d', 'a', '-F', 'b=c']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /cannot be combined/);
  });
});

describe('c8y-token curl -F: multipart uploads', () => {
  test('/inventory/binaries gets the object and file parts it expects', async () => {
    const file = join(dir, 'log.txt');
    await writeFile(file, 'boot ok\nservice up\n');
    const result = await f.curl([
      '/inventory/binaries',
      '-F',
      'object={"name":"log.txt","type":"text/plain"}',
      '-F',
      `file=@${file}`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      id: '4711',
      name: 'log.txt',
      type: 'text/plain',
      length: 19,
      contentType: 'text/plain',
      filename: 'log.txt',
    });
    const request = last();
    assert.equal(request.method, 'POST');
    const boundary = /^multipart\/form-data; boundary=(-+[0-9a-f]+)$/.exec(request.headers['content-type']!)?.[1];
    assert.ok(boundary, request.headers['content-type']);
    assert.equal(
      request.headers['content-length'],
      String(request.body.length),
      'a length known in advance, not chunked',
    );
    assert.equal(
      request.body.toString(),
      `--${boundary}\r\nContent-Disposition: form-data; name="object"\r\n\r\n{"name":"log.txt","type":"text/plain"}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="log.txt"\r\nContent-Type: text/plain\r\n\r\n` +
        `boot ok\nservice up\n\r\n--${boundary}--\r\n`,
    );
  });

  test(';type= and ;filename= override; name=<file sends the content as a value; an unknown type is octet-stream', async () => {
    const data = join(dir, 'data.bin');
    const note = join(dir, 'note');
    await writeFile(data, Buffer.from([0, 1, 2, 255]));
    await writeFile(note, 'from a file');
    const result = await f.curl([
      '/upload',
      '-F',
      `blob=@${data}`,
      '-F',
      `typed=@${data};type=application/x-tar;filename=backup.tar`,
      '-F',
      `note=<${note}`,
      '-F',
      'meta="a;b";type=application/json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const body = last().body.toString('latin1');
    assert.match(
      body,
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the uploaded bytes are control characters
      /name="blob"; filename="data.bin"\r\nContent-Type: application\/octet-stream\r\n\r\n\x00\x01\x02\xff\r\n/,
    );
    assert.match(body, /name="typed"; filename="backup.tar"\r\nContent-Type: application\/x-tar\r\n/);
    assert.match(body, /name="note"\r\n\r\nfrom a file\r\n/);
    assert.match(body, /name="meta"\r\nContent-Type: application\/json\r\n\r\na;b\r\n/);
  });

  test('an -F without = is a usage error', async () => {
    const result = await f.curl(['/upload', '-F', 'file']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /-F: 'file' is not name=content/);
  });
});

describe('c8y-token curl: the response', () => {
  test('-i prints the status line and headers before the body', async () => {
    const result = await f.curl(['-i', '/user/currentUser']);
    assert.equal(result.code, 0, result.stderr);
    const [head, body] = result.stdout.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head!, /\r\ncontent-type: application\/json\r\n/);
    assert.match(body!, CURRENT_USER);
  });

  test('-I sends HEAD and prints the headers only', async () => {
    const result = await f.curl(['-I', '/user/currentUser']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(last().method, 'HEAD');
    assert.match(result.stdout, /^HTTP\/1\.1 200 OK\r\n.*\r\n\r\n$/s);
  });

  test('-o writes the body to a file and nothing to stdout; -o - is stdout', async () => {
    const file = join(dir, 'me.json');
    const result = await f.curl(['/user/currentUser', '-o', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(await readFile(file, 'utf8'), CURRENT_USER);
    const dash = await f.curl(['/user/currentUser', '-o', '-']);
    assert.match(dash.stdout, CURRENT_USER);
  });

  test('-o with a directory that does not exist: exit 23', async () => {
    const result = await f.curl(['/user/currentUser', '-o', join(dir, 'no', 'such', 'dir', 'out')]);
    assert.equal(result.code, 23);
    assert.match(result.stderr, /cannot write to .*out: no such file/);
  });

  test('--create-dirs where a part of the path is a file: exit 23, in words', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    const result = await f.curl(['/user/currentUser', '--create-dirs', '-o', join(file, 'sub', 'out')]);
    assert.equal(result.code, 23);
    assert.match(result.stderr, /--create-dirs: cannot create .*sub: a part of the path is not a directory\n {2}check/);
  });

  test('-w @file that cannot be read: a warning in words, and the transfer goes on', async () => {
    const result = await f.curl(['/user/currentUser', '-w', `@${dir}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /warning: -w: cannot read .*: it is a directory$/m);
    assert.doesNotMatch(result.stderr, /E[A-Z]{3,}/);
  });

  test('piped, a JSON body passes byte for byte; --pretty indents it; --raw keeps it', async () => {
    const raw = await f.curl(['/user/currentUser', '--raw']);
    const piped = await f.curl(['/user/currentUser']);
    const pretty = await f.curl(['/user/currentUser', '--pretty']);
    assert.equal(piped.stdout, raw.stdout);
    assert.doesNotMatch(piped.stdout, /\n/);
    assert.equal(pretty.stdout, `${JSON.stringify(JSON.parse(raw.stdout), null, 2)}\n`);
  });

  test('--pretty leaves a body that is not JSON alone; --pretty and --raw conflict', async () => {
    const result = await f.curl(['/size/5', '--pretty']);
    assert.equal(result.stdout, 'xxxxx');
    const both = await f.curl(['/user/currentUser', '--pretty', '--raw']);
    assert.equal(both.code, 2);
  });

  test('-w reports the transfer after the body', async () => {
    const result = await f.curl([
      '/user/currentUser',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{url_effective} %{size_download}=%header{content-length} %{content_type} %{exitcode} %{method}\\n%%%{time_total}',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const [line, time] = result.stdout.split('\n');
    assert.match(line!, new RegExp(`^200 ${f.tenant.url}/user/currentUser (\\d+)=\\1 application/json 0 GET$`));
    assert.match(time!, /^%\d+\.\d{6}$/);
  });

  test('-w %{json}, %header{name} and %{stderr}; an unknown variable is warned about', async () => {
    const result = await f.curl([
      '/user/currentUser',
      '-o',
      '/dev/null',
      '-w',
      '%{json}%{stderr}%header{content-type}%{nonsense}',
    ]);
    const json = JSON.parse(result.stdout);
    assert.equal(json.http_code, 200);
    assert.equal(json.exitcode, 0);
    assert.ok(json.size_download > 100);
    assert.equal(json.url_effective, `${f.tenant.url}/user/currentUser`);
    assert.match(result.stderr, /^c8y-token: warning: -w: unknown variable %\{nonsense\}$/m);
    assert.match(result.stderr, /application\/json$/, '%header{content-type}, on stderr');
  });

  test('-w @file reads the format from a file', async () => {
    const format = join(dir, 'format');
    await writeFile(format, 'code=%{http_code}');
    const result = await f.curl(['/status/503', '-s', '-o', '/dev/null', '-w', `@${format}`]);
    assert.equal(result.stdout, 'code=503');
  });
});

describe('c8y-token curl: HTTP errors, -f and -s', () => {
  test('without -f an error status exits 0 and prints the body', async () => {
    const result = await f.curl(['/status/404']);
    assert.equal(result.code, 0);
    assert.equal(JSON.parse(result.stdout).error, 'test/Status 404');
  });

  test("-f: exit 22, no body, Cumulocity's error and message on stderr", async () => {
    const result = await f.curl(['-f', '/status/404', '-w', '%{exitcode} %{http_code}']);
    assert.equal(result.code, 22);
    assert.equal(result.stdout, '22 404');
    assert.match(
      result.stderr,
      /^c8y-token: HTTP 404 Not Found from GET \/status\/404: test\/Status 404: answered with 404 on request\n/,
    );
  });

  test('-f with 403 gives a hint about device permissions', async () => {
    const result = await f.curl(['-f', '/status/403']);
    assert.equal(result.code, 22);
    assert.match(result.stderr, /device users may only/);
  });

  test('--fail-with-body: the body on stdout, and exit 22', async () => {
    const result = await f.curl(['--fail-with-body', '/status/500']);
    assert.equal(result.code, 22);
    assert.equal(JSON.parse(result.stdout).error, 'test/Status 500');
    assert.match(result.stderr, /HTTP 500 Internal Server Error from GET \/status\/500: test\/Status 500/);
  });

  test('-s hides the error message; -sS shows it', async () => {
    const silent = await f.curl(['-sf', '/status/404']);
    assert.equal(silent.code, 22);
    assert.equal(silent.stderr, '');
    const shown = await f.curl(['-sSf', '/status/404']);
    assert.equal(shown.code, 22);
    assert.match(shown.stderr, /HTTP 404/);
  });
});

describe('c8y-token curl: -v', () => {
  test('shows request and response headers with the Authorization value redacted', async () => {
    const result = await f.curl(['-v', '/user/currentUser']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^> GET \/user\/currentUser HTTP\/1\.1$/m);
    assert.match(result.stderr, /^> Authorization: Bearer <redacted>$/m);
    assert.match(result.stderr, /^< HTTP\/1\.1 200 OK$/m);
    assert.match(result.stderr, /^< content-type: application\/json$/m);
    assert.match(result.stderr, /token received/, 'and how the token was fetched');
    for (const token of f.bridge.issued) assert.ok(!result.stderr.includes(token), 'no token on stderr');
    assert.ok(!result.stderr.includes(f.bridge.issued.at(-1)!.split('.')[1]!), 'not even its payload');
  });

  test('--verbose does the same; a user-given Authorization is redacted too', async () => {
    const result = await f.curl(['--verbose', '/user/currentUser', '-H', 'Authorization: Basic dXNlcjpzZWNyZXQ=']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^> Authorization: Basic <redacted>$/m);
    assert.doesNotMatch(result.stderr, /dXNlcjpzZWNyZXQ=/);
    assert.equal(last().headers.authorization, 'Basic dXNlcjpzZWNyZXQ=', 'sent instead of the token');
  });
});

describe('c8y-token curl: the base URL', () => {
  test('--url beats C8Y_URL, which beats the token issuer', async () => {
    const other = await startTenant();
    try {
      const viaEnv = await f.curl(['/user/currentUser'], { env: { C8Y_URL: other.url } });
      assert.equal(viaEnv.code, 0, viaEnv.stderr);
      assert.equal(other.requests.length, 1);
      assert.equal(f.tenant.requests.length, 0);
      const viaFlag = await f.curl(['/user/currentUser', '--url', f.tenant.url], { env: { C8Y_URL: other.url } });
      assert.equal(viaFlag.code, 0, viaFlag.stderr);
      assert.equal(f.tenant.requests.length, 1);
      assert.equal(other.requests.length, 1);
    } finally {
      await other.stop();
    }
  });

  test('an override whose host is not the issuer works, with a warning (not with -s)', async () => {
    const bridge = await startBridge(f.broker, { topicPrefix: 'custom-domain' });
    try {
      const args = ['/user/currentUser', '--topic-prefix', 'custom-domain', '--url', `${f.tenant.url}/`];
      const result = await f.curl(args);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(last().headers.authorization, `Bearer ${bridge.issued.at(-1)}`);
      assert.match(
        result.stderr,
        /warning: --url sends the token to 127\.0\.0\.1, not to its issuer t12345\.eu-latest\.cumulocity\.com/,
      );
      const silent = await f.curl([...args, '-s']);
      assert.equal(silent.stderr, '');
    } finally {
      await bridge.stop();
    }
  });

  test('a --url that is not an http(s) URL is a usage error', async () => {
    const result = await f.curl(['/user/currentUser', '--url', 'ftp://example.com']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /not an http or https URL/);
  });
});
