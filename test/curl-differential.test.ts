import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { signToken } from '../sim/bridge.ts';
import { runCli } from './harness/cli.ts';
import {
  closedPort,
  curlMissing,
  runBoth,
  type DiffCase,
  type DiffContext,
  type Lane,
  type Outcome,
} from './harness/differential.ts';
import { FILE_BODY, startLane } from './harness/differential-tenant.ts';
import { startCurlFixture, type CurlFixture } from './harness/fixture.ts';

/**
 * The differential suite: each case runs through Debian's curl and through `c8y-token curl`, against the same
 * loopback tenant, and the two must agree on the exit code, stdout, the files written, whether anything went to
 * stderr, and what the tenant received. A deliberate difference says why and what c8y-token gives instead; each one
 * is in the documentation's list of differences from curl.
 */
/** Node decodes zstd from 22.15 on; c8y-token asks for it only then. */
const ZSTD_DECODES = 'createZstdDecompress' in zlib;

// biome-ignore format: a table, one case a line
const CASES: DiffCase[] = [
  // A plain GET, and -s, -S, -f in their usual combinations.
  { name: 'GET', path: '/user/currentUser', args: [] },
  { name: '-s', path: '/user/currentUser', args: ['-s'] },
  { name: '-sS', path: '/user/currentUser', args: ['-sS'] },
  { name: '-sSf', path: '/user/currentUser', args: ['-sSf'] },
  { name: '-sSf on 404', path: '/status/404', args: ['-sSf'] },
  { name: '-sf on 404', path: '/status/404', args: ['-sf'] },
  { name: '-f on 500', path: '/status/500', args: ['-f'] },
  { name: '404 without -f', path: '/status/404', args: ['-s'] },
  { name: '--fail-with-body on 404', path: '/status/404', args: ['--fail-with-body'] },
  { name: '-s --fail-with-body on 403', path: '/status/403', args: ['-s', '--fail-with-body'] },
  { name: '-f on 200', path: '/text', args: ['-f'] },
  { name: 'a text body', path: '/text', args: ['-s'] },
  { name: 'a query string', path: '/inventory/managedObjects?pageSize=2&currentPage=2', args: ['-s'] },
  { name: 'a large body', path: '/size/300000', args: ['-s'] },

  // -o and -w.
  { name: '-o', path: '/user/currentUser', args: ['-s', '-o', 'out.json'] },
  { name: '-o -', path: '/text', args: ['-s', '-o', '-'] },
  { name: '-o -w http_code', path: '/user/currentUser', args: ['-s', '-o', 'out.json', '-w', '%{http_code}\\n'] },
  { name: '-o /dev/null -w', path: '/status/404', args: ['-s', '-o', '/dev/null', '-w', '%{http_code} %{size_download}\\n'] },
  { name: '-sf -o on 404 leaves no file', path: '/status/404', args: ['-sf', '-o', 'out.json'] },
  { name: '-o on 404 writes the body', path: '/status/404', args: ['-s', '-o', 'out.json'] },
  { name: '-w content_type', path: '/user/currentUser', args: ['-s', '-w', '\\n%{content_type}\\n'] },
  { name: '-w url_effective', path: '/text', args: ['-s', '-w', '%{url_effective}\\n'] },
  { name: '-w method', path: '/echo', args: ['-s', '-X', 'PUT', '-w', '%{method}\\n'] },
  { name: '-w response_code', path: '/status/503', args: ['-s', '-o', '/dev/null', '-w', '%{response_code}'] },
  { name: '-w exitcode with -f', path: '/status/404', args: ['-sf', '-w', '%{exitcode}\\n'] },
  { name: '-w %header{}', path: '/text', args: ['-s', '-o', '/dev/null', '-w', '%header{content-type}|%header{Content-Length}'] },
  { name: '-w %% and escapes', path: '/text', args: ['-s', '-o', '/dev/null', '-w', '100%%\\t%{http_code}\\r\\n'] },
  { name: '-w to stderr', path: '/text', args: ['-s', '-o', '/dev/null', '-w', '%{stderr}%{http_code}'] },
  { name: '-w @file', path: '/text', args: ['-s', '-o', '/dev/null', '-w', '@format.txt'], files: { 'format.txt': 'code=%{http_code}\n' } },
  { name: '-w size_download', path: '/size/12345', args: ['-s', '-o', '/dev/null', '-w', '%{size_download}'] },
  { name: '-w url', path: '/text?a=1', args: ['-s', '-o', '/dev/null', '-w', '%{url}'] },

  // Methods and headers.
  { name: '-X DELETE', path: '/echo', args: ['-s', '-X', 'DELETE'] },
  { name: '-X PATCH with a body', path: '/echo', args: ['-s', '-X', 'PATCH', '-d', 'a=1'] },
  { name: '--request PUT', path: '/echo', args: ['-s', '--request', 'PUT', '--data-binary', 'x'] },
  { name: '-H twice', path: '/echo', args: ['-s', '-H', 'X-Trace: a', '-H', 'X-Trace: b'] },
  { name: '-H Accept', path: '/echo', args: ['-s', '-H', 'Accept: text/plain'] },
  { name: '-H empty with ;', path: '/echo', args: ['-s', '-H', 'X-Empty;'] },
  { name: '-H User-Agent', path: '/echo', args: ['-s', '-H', 'User-Agent: mine/1'] },
  { name: '-H Content-Type with -d', path: '/echo', args: ['-s', '-d', 'x', '-H', 'Content-Type: text/plain'] },
  { name: '-H Authorization of its own', path: '/echo', args: ['-s', '-H', 'Authorization: Basic dXNlcjpwdw=='], noToken: true },

  // Bodies.
  { name: '-d', path: '/echo', args: ['-s', '-d', 'a=1'] },
  { name: '-d twice', path: '/echo', args: ['-s', '-d', 'a=1', '-d', 'b=2'] },
  { name: '-d @file drops newlines', path: '/echo', args: ['-s', '-d', '@body.txt'], files: { 'body.txt': 'a=1\r\n&b=2\n' } },
  { name: '--data-binary @file', path: '/echo', args: ['-s', '--data-binary', '@body.txt'], files: { 'body.txt': 'a=1\r\n&b=2\n' } },
  { name: '--data-raw @', path: '/echo', args: ['-s', '--data-raw', '@body.txt'] },
  { name: '-d @- (stdin)', path: '/echo', args: ['-s', '-d', '@-'], input: 'one\ntwo\n' },
  { name: '--data-binary @- (stdin)', path: '/echo', args: ['-s', '--data-binary', '@-'], input: 'one\ntwo\n' },
  { name: 'data options in order', path: '/echo', args: ['-s', '--data-raw', 'a=1', '-d', 'b=2', '--data-binary', 'c=3'] },
  { name: '--json', path: '/echo', args: ['-s', '--json', '{"a":1}'], headers: ['accept'] },
  { name: '--json twice', path: '/echo', args: ['-s', '--json', '{"a":', '--json', '1}'], headers: ['accept'] },
  { name: '--json @file', path: '/echo', args: ['-s', '--json', '@body.json'], files: { 'body.json': '{"a":1}\n' } },
  { name: '-G -d', path: '/echo', args: ['-s', '-G', '-d', 'a=1', '-d', 'b=2'] },
  { name: '-G -d on a query', path: '/echo?type=x', args: ['-s', '-G', '-d', 'pageSize=2'] },
  { name: '-G -w method', path: '/echo', args: ['-s', '-G', '-d', 'a=1', '-o', '/dev/null', '-w', '%{method}'] },
  { name: '-F name=value', path: '/echo', args: ['-s', '-F', 'a=1', '-F', 'b=two words'] },
  { name: '-F name=@file', path: '/echo', args: ['-s', '-F', 'file=@log.txt'], files: { 'log.txt': 'boot ok\n' } },
  { name: '-F ;type=', path: '/echo', args: ['-s', '-F', 'file=@log.txt;type=text/x-log'], files: { 'log.txt': 'boot ok\n' } },
  { name: '-F ;filename=', path: '/echo', args: ['-s', '-F', 'file=@log.txt;filename=other.txt'], files: { 'log.txt': 'boot ok\n' } },
  { name: '-F name=<file', path: '/echo', args: ['-s', '-F', 'text=<log.txt'], files: { 'log.txt': 'boot ok\n' } },
  { name: '-F an unknown extension', path: '/echo', args: ['-s', '-F', 'file=@data.bin'], files: { 'data.bin': 'bytes' } },
  { name: '-F a .json file', path: '/echo', args: ['-s', '-F', 'file=@data.json'], files: { 'data.json': '{}' } },
  { name: '-F a .png file', path: '/echo', args: ['-s', '-F', 'file=@i.png'], files: { 'i.png': 'png' } },
  { name: '-F a quoted value', path: '/echo', args: ['-s', '-F', 'a="x;type=y"'] },

  // Redirects.
  { name: '302 without -L', path: '/redirect?to=/text', args: ['-s'] },
  { name: '-L 302', path: '/redirect?to=/text', args: ['-sL'] },
  { name: '-L 301', path: '/redirect?to=/text&status=301', args: ['-sL'] },
  { name: '-L 303 turns POST into GET', path: '/redirect?to=/echo&status=303', args: ['-sL', '-d', 'a=1'] },
  { name: '-L 302 turns POST into GET', path: '/redirect?to=/echo&status=302', args: ['-sL', '-d', 'a=1'] },
  { name: '-L 307 keeps POST', path: '/redirect?to=/echo&status=307', args: ['-sL', '-d', 'a=1'] },
  { name: '-L 308 keeps PUT', path: '/redirect?to=/echo&status=308', args: ['-sL', '-X', 'PUT', '-d', 'a=1'] },
  { name: '-L -w num_redirects', path: '/redirect?to=/text', args: ['-sL', '-o', '/dev/null', '-w', '%{num_redirects} %{url_effective}'] },
  { name: '-L twice', path: `/redirect?to=${encodeURIComponent('/redirect?to=/text')}`, args: ['-sL', '-w', '%{num_redirects}'] },
  { name: '-L to a 404 with -f', path: '/redirect?to=/status/404', args: ['-sLf'] },
  { name: '-L in a loop', path: '/loop', args: ['-sSL'] },

  // Failures: timeouts, refused and broken connections.
  { name: '-m on no answer', path: '/never', args: ['-s', '-m', '1'] },
  { name: '--max-time on a slow body', path: '/slow', args: ['-s', '--max-time', '1'] },
  { name: '-sS -m: the error on stderr', path: '/never', args: ['-sS', '-m', '1'] },
  { name: 'connection refused', path: '/user/currentUser', args: ['-s'], tenant: 'closed' },
  { name: 'connection refused -w', path: '/text', args: ['-s', '-w', '%{http_code} %{exitcode}'], tenant: 'closed' },
  { name: 'connection refused -sS', path: '/text', args: ['-sS'], tenant: 'closed' },
  { name: 'an empty reply', path: '/empty-reply', args: ['-s'] },
  { name: 'an empty reply -sS', path: '/empty-reply', args: ['-sS'] },
  { name: 'an empty reply -w', path: '/empty-reply', args: ['-s', '-w', '%{http_code} %{exitcode}'] },
  { name: 'a body cut short', path: '/cut-short', args: ['-s'] },
  { name: 'a body cut short -sS', path: '/cut-short', args: ['-sS'] },
  { name: 'a body cut short -w size_download', path: '/cut-short', args: ['-s', '-w', '|%{size_download} %{exitcode}'] },
  { name: 'a body cut short -o', path: '/cut-short', args: ['-s', '-o', 'out.txt'] },

  // Retries.
  { name: '--retry on 503 with -o', path: '/flaky?fail=1', args: ['-s', '--retry', '2', '--retry-delay', '1', '-o', 'out.json'] },
  { name: '--retry exhausted with -f', path: '/flaky?fail=5', args: ['-sf', '--retry', '1', '--retry-delay', '1', '-o', 'out.json'] },
  { name: '--retry -w http_code', path: '/flaky?fail=1', args: ['-s', '--retry', '1', '--retry-delay', '1', '-o', 'out.json', '-w', '%{http_code}'] },
  { name: '--retry-all-errors -f on 404', path: '/status/404', args: ['-sf', '--retry', '1', '--retry-delay', '1', '--retry-all-errors', '-o', 'out.json'] },
  { name: '--retry-all-errors without -f: a 404 is no error', path: '/status/404', args: ['-s', '--retry', '1', '--retry-delay', '1', '--retry-all-errors'] },
  { name: '--retry-all-errors on an empty reply', path: '/empty-reply', args: ['-s', '--retry', '1', '--retry-delay', '1', '--retry-all-errors', '-w', '%{exitcode}'] },
  { name: 'an empty reply is not retried without --retry-all-errors', path: '/empty-reply', args: ['-s', '--retry', '1', '--retry-delay', '1'] },
  { name: '--retry-all-errors -f on 503 then 200', path: '/flaky?fail=1', args: ['-sf', '--retry', '2', '--retry-delay', '1', '--retry-all-errors'] },
  { name: '--retry-all-errors without --retry', path: '/status/404', args: ['-sf', '--retry-all-errors'] },
  { name: '--retry-max-time stops the retries', path: '/flaky?fail=5', args: ['-s', '--retry', '3', '--retry-delay', '1', '--retry-max-time', '1', '-o', 'out.json'] },
  { name: '--retry-max-time long enough', path: '/flaky?fail=2', args: ['-s', '--retry', '3', '--retry-delay', '1', '--retry-max-time', '60', '-o', 'out.json'] },
  { name: '--retry-connrefused on a refused connection', path: '/text', args: ['-s', '--retry', '1', '--retry-delay', '1', '--retry-connrefused', '-w', '%{exitcode}'], tenant: 'closed' },
  { name: '--retry-connrefused, said on stderr', path: '/text', args: ['--retry', '1', '--retry-delay', '1', '--retry-connrefused'], tenant: 'closed' },
  { name: '--retry on 404 does not retry', path: '/status/404', args: ['-s', '--retry', '3', '-o', '/dev/null'] },

  // Response headers: -i, -I, with redirects and failures.
  { name: '-i', path: '/user/currentUser', args: ['-si'] },
  { name: '-i keeps header names as sent', path: '/headers', args: ['-si'] },
  { name: '-I', path: '/user/currentUser', args: ['-sI'] },
  { name: '-I keeps header names as sent', path: '/headers', args: ['-sI'] },
  { name: '-I -X GET prints the headers only', path: '/headers', args: ['-sI', '-X', 'GET'] },
  { name: '-i -o writes the headers to the file', path: '/text', args: ['-si', '-o', 'out.txt'] },
  { name: '-iL prints every response', path: '/redirect?to=/text', args: ['-siL'] },
  { name: '-IL prints every response', path: '/redirect?to=/user/currentUser', args: ['-sIL'] },
  { name: '-iL twice', path: `/redirect?to=${encodeURIComponent('/redirect?to=/headers&status=307')}`, args: ['-siL'] },
  { name: '-iL past a redirect with a body', path: '/moved', args: ['-siL'] },
  { name: '-L past a redirect with a body', path: '/moved', args: ['-sL'] },
  { name: 'a redirect with a body, not followed', path: '/moved', args: ['-si'] },
  { name: '-fi on 404: the headers, then 22', path: '/status/404', args: ['-sfi'] },
  { name: '-fi on 500 -w', path: '/status/500', args: ['-sfi', '-w', '%{http_code}'] },
  { name: '-iL to a 404 with -f', path: '/redirect?to=/status/404', args: ['-siLf'] },
  { name: '-i --fail-with-body on 404', path: '/status/404', args: ['-si', '--fail-with-body'] },
  { name: '-w redirect_url', path: '/redirect?to=/text', args: ['-s', '-o', '/dev/null', '-w', '%{redirect_url}'] },
  { name: '-w redirect_url with -L', path: '/redirect?to=/text', args: ['-sL', '-o', '/dev/null', '-w', '[%{redirect_url}]'] },
  { name: '-w redirect_url on 200', path: '/text', args: ['-s', '-o', '/dev/null', '-w', '[%{redirect_url}]'] },

  // Refused combinations and unknown -w variables.
  { name: '--fail --fail-with-body', path: '/text', args: ['-s', '--fail', '--fail-with-body'] },
  { name: '-f --fail-with-body, shown', path: '/text', args: ['-f', '--fail-with-body'] },
  { name: 'an unknown -w variable warns with -s', path: '/text', args: ['-s', '-o', '/dev/null', '-w', '%{nope}|%{http_code}'] },
  { name: '-H Authorization: leaves the token out', path: '/echo', args: ['-s', '-H', 'Authorization:'], noToken: true },
  { name: '-F f=@- (stdin)', path: '/echo', args: ['-s', '-F', 'f=@-'], input: 'from stdin\n' },
  { name: '-F f=@-;type=', path: '/echo', args: ['-s', '-F', 'f=@-;type=text/plain'], input: 'from stdin\n' },
  { name: '-F f=<- (stdin)', path: '/echo', args: ['-s', '-F', 'f=<-'], input: 'from stdin\n' },

  // Flags curl scripts use.
  { name: '-A', path: '/echo', args: ['-s', '-A', 'script/1.0'], headers: ['user-agent'] },
  { name: '--user-agent', path: '/echo', args: ['-s', '--user-agent', 'script/2.0'], headers: ['user-agent'] },
  { name: '-e', path: '/echo', args: ['-s', '-e', 'https://example.com/page'], headers: ['referer'] },
  { name: '--referer', path: '/echo', args: ['-s', '--referer', 'x'], headers: ['referer'] },
  { name: '-r 0-99', path: '/file', args: ['-s', '-r', '0-99'], headers: ['range'] },
  { name: '--range 990-', path: '/file', args: ['-s', '--range', '990-'], headers: ['range'] },
  { name: '-r -10 -w http_code', path: '/file', args: ['-s', '-r', '-10', '-w', '|%{http_code}'], headers: ['range'] },
  { name: '-r past the end', path: '/file', args: ['-s', '-r', '5000-', '-w', '%{http_code}'], headers: ['range'] },
  { name: '-r ignored by the server', path: '/file-norange', args: ['-s', '-r', '0-9', '-o', 'out.txt'] },
  { name: '--max-redirs 2 in a loop', path: '/loop', args: ['-sSL', '--max-redirs', '2'] },
  { name: '--max-redirs 0', path: '/redirect?to=/text', args: ['-sL', '--max-redirs', '0', '-w', '%{exitcode}'] },
  { name: '--max-redirs 1 is enough', path: '/redirect?to=/text', args: ['-sL', '--max-redirs', '1'] },
  { name: '--no-progress-meter', path: '/text', args: ['--no-progress-meter'] },
  { name: '--no-progress-meter -f on 404', path: '/status/404', args: ['--no-progress-meter', '-f'] },
  { name: '-g', path: '/text', args: ['-sg'] },
  { name: '--globoff', path: '/echo?a[]=1', args: ['-s', '--globoff'] },
  { name: '--create-dirs -o', path: '/text', args: ['-s', '--create-dirs', '-o', 'a/b/out.txt'] },
  { name: '-o into a missing directory', path: '/text', args: ['-s', '-o', 'a/out.txt'] },
  { name: '--data-urlencode content', path: '/echo', args: ['-s', '--data-urlencode', 'a b&c=d'] },
  { name: '--data-urlencode =content', path: '/echo', args: ['-s', '--data-urlencode', '=a=b c'] },
  { name: '--data-urlencode name=content', path: '/echo', args: ['-s', '--data-urlencode', "q=name eq 'x*'!()"] },
  { name: '--data-urlencode @file', path: '/echo', args: ['-s', '--data-urlencode', '@v.txt'], files: { 'v.txt': 'a b\nc\n' } },
  { name: '--data-urlencode name@file', path: '/echo', args: ['-s', '--data-urlencode', 'v@v.txt'], files: { 'v.txt': 'ä/ö?' } },
  { name: '--data-urlencode name@-', path: '/echo', args: ['-s', '--data-urlencode', 'v@-'], input: 'from stdin\n' },
  { name: '--data-urlencode twice, with -d', path: '/echo', args: ['-s', '-d', 'a=1', '--data-urlencode', 'b=2 3', '--data-urlencode', 'c=~.-_'] },
  { name: '-G --data-urlencode on a query', path: '/inventory/managedObjects?pageSize=2', args: ['-s', '-G', '--data-urlencode', 'type=c8y Device'] },

  // --url-query.
  { name: '--url-query name=content', path: '/echo', args: ['-s', '--url-query', 'q=abc'] },
  { name: '--url-query on a path with a query', path: '/echo?z=0', args: ['-s', '--url-query', 'a=1'] },
  { name: '--url-query twice', path: '/echo', args: ['-s', '--url-query', 'a=1', '--url-query', 'b=2'] },
  { name: '--url-query with -d', path: '/echo', args: ['-s', '--url-query', 'a=1', '-d', 'b=2'] },
  { name: '--url-query with -I', path: '/headers', args: ['-sI', '--url-query', 'a=1'] },
  { name: '--url-query with -G alone', path: '/echo', args: ['-s', '-G', '--url-query', 'a=1'] },
  { name: '--url-query +content as it is', path: '/echo', args: ['-s', '--url-query', '+a=1&b=%41'] },
  { name: '--url-query empty', path: '/echo', args: ['-s', '--url-query', '', '--url-query', '+'] },
  { name: '--url-query name@- (stdin)', path: '/echo', args: ['-s', '--url-query', 'v@-'], input: 'from-stdin' },
  { name: '--url-query -w url', path: '/text', args: ['-s', '-o', '/dev/null', '-w', '%{url}', '--url-query', 'a=1'] },
  { name: '--url-query -L', path: '/redirect?to=/text', args: ['-sL', '--url-query', 'a=1', '-w', '|%{url_effective}'] },

  // --compressed: what is asked for, what is decoded, what -i and %{size_download} show.
  ...['gzip', 'deflate', 'br', ...(ZSTD_DECODES ? ['zstd'] : [])].map((encoding): DiffCase => ({ name: `--compressed ${encoding}`, path: `/compressed?encoding=${encoding}`, args: ['-s', '--compressed', '-w', '|%{size_download}'] })),
  { name: '--compressed -i: the headers as received', path: '/compressed?encoding=gzip', args: ['-si', '--compressed'] },
  { name: '--compressed -o', path: '/compressed?encoding=br', args: ['-s', '--compressed', '-o', 'out.json'] },
  { name: '--compressed -I', path: '/compressed?encoding=gzip', args: ['-sI', '--compressed'] },
  { name: '--compressed, an answer not compressed', path: '/text', args: ['-s', '--compressed'] },
  { name: 'without --compressed the body stays encoded', path: '/compressed?encoding=gzip', args: ['-H', 'Accept-Encoding: gzip', '-s', '-w', '|%{size_download}'] },
  { name: '--compressed -H Accept-Encoding: decodes', path: '/compressed?encoding=gzip', args: ['-s', '--compressed', '-H', 'Accept-Encoding: gzip'] },
  { name: '--compressed -f on 404', path: '/status/404', args: ['-sf', '--compressed'] },
  ...['chain', 'raw-deflate', 'x-gzip', 'capitals', 'identity', 'truncated'].map((kind): DiffCase => ({ name: `--compressed, ${kind}`, path: `/encoded?as=${kind}`, args: ['-s', '--compressed', '-w', '|%{size_download} %{exitcode}'] })),
  { name: '--compressed, an unknown encoding: 61', path: '/encoded?as=unknown', args: ['-s', '--compressed', '-w', '|%{exitcode}'] },
  { name: '--compressed, an unknown encoding -sS', path: '/encoded?as=unknown', args: ['-sS', '--compressed'] },
  { name: '--compressed, a corrupt body: 61', path: '/encoded?as=corrupt', args: ['-s', '--compressed', '-w', '|%{exitcode}'] },
  { name: 'a corrupt body without --compressed', path: '/encoded?as=corrupt', args: ['-s'] },

  // -T: the file as the body of a PUT.
  { name: '-T', path: '/upload', args: ['-s', '-T', 'up.txt'], files: { 'up.txt': 'some bytes\n' } },
  { name: '-T a larger file', path: '/upload', args: ['-s', '--upload-file', 'up.bin'], files: { 'up.bin': Buffer.alloc(300_000, 7) } },
  { name: '-T - (stdin)', path: '/upload', args: ['-s', '-T', '-'], input: 'from stdin\n' },
  { name: '-T to a path ending in /', path: '/echo/', args: ['-s', '-T', 'up.txt'], files: { 'up.txt': 'x' } },
  { name: '-T to a path ending in / with a query', path: '/echo/?a=1', args: ['-s', '-T', 'up.txt'], files: { 'up.txt': 'x' } },
  { name: '-T - to a path ending in /', path: '/echo/', args: ['-s', '-T', '-'], input: 'x' },
  { name: '-T -X POST', path: '/echo', args: ['-s', '-T', 'up.txt', '-X', 'POST'], files: { 'up.txt': 'x' } },
  { name: '-T -G', path: '/echo', args: ['-s', '-T', 'up.txt', '-G'], files: { 'up.txt': 'x' } },
  { name: '-T -H Content-Type', path: '/echo', args: ['-s', '-T', 'up.txt', '-H', 'Content-Type: text/plain'], files: { 'up.txt': 'x' } },
  { name: '-T -w', path: '/upload', args: ['-s', '-T', 'up.txt', '-o', '/dev/null', '-w', '%{http_code} %{method}'], files: { 'up.txt': 'x' } },
  { name: '-T -L 307 sends the file again', path: '/redirect?to=/upload&status=307', args: ['-sL', '-T', 'up.txt'], files: { 'up.txt': 'again' } },
  { name: '-T with -d', path: '/echo', args: ['-T', 'up.txt', '-d', 'a=1'], files: { 'up.txt': 'x' } },
  { name: '-T with -I', path: '/echo', args: ['-T', 'up.txt', '-I'], files: { 'up.txt': 'x' } },
  { name: '-T a missing file: 26', path: '/upload', args: ['-s', '-T', 'missing.txt'] },

  // -C: resuming a download.
  { name: '-C - -o resumes', path: '/file', args: ['-s', '-C', '-', '-o', 'out.txt', '-w', '%{http_code} %{size_download}'], files: { 'out.txt': FILE_BODY.slice(0, 500) }, headers: ['range'] },
  { name: '--continue-at - -i -o', path: '/file', args: ['-si', '--continue-at', '-', '-o', 'out.txt'], files: { 'out.txt': FILE_BODY.slice(0, 500) } },
  { name: '-C - when the server ignores the range: 33', path: '/file-norange', args: ['-s', '-C', '-', '-o', 'out.txt', '-w', '%{http_code} %{size_download} %{exitcode}'], files: { 'out.txt': FILE_BODY.slice(0, 500) }, headers: ['range'] },
  { name: '-C - -sS: the 33 said on stderr', path: '/file-norange', args: ['-sS', '-C', '-', '-o', 'out.txt'], files: { 'out.txt': FILE_BODY.slice(0, 500) } },
  { name: '-C - -D - when the server ignores the range', path: '/file-norange', args: ['-s', '-C', '-', '-o', 'out.txt', '-D', '-'], files: { 'out.txt': FILE_BODY.slice(0, 500) } },
  { name: '-C - on a complete file: 416, exit 0', path: '/file', args: ['-s', '-C', '-', '-o', 'out.txt', '-w', '%{http_code}'], files: { 'out.txt': FILE_BODY } },
  { name: '-C - -f on a complete file: 22', path: '/file', args: ['-sf', '-C', '-', '-o', 'out.txt'], files: { 'out.txt': FILE_BODY } },
  { name: '-C - with no file yet', path: '/file', args: ['-s', '-C', '-', '-o', 'out.txt'], headers: ['range'] },
  { name: '-C - to stdout', path: '/file', args: ['-s', '-C', '-'], headers: ['range'] },
  { name: '-C 890 to stdout', path: '/file', args: ['-s', '-C', '890', '-w', '|%{http_code}'], headers: ['range'] },
  { name: '-C past the end', path: '/file', args: ['-s', '-C', '5000', '-w', '|%{http_code}'] },
  { name: '-C 890 -o a new file', path: '/file', args: ['-s', '-C', '890', '-o', 'new.txt'] },
  { name: '-C past the end -o a new file', path: '/file', args: ['-s', '-C', '5000', '-o', 'new.txt'] },
  { name: '-C 10 -o appends after what is there', path: '/file', args: ['-s', '-C', '10', '-o', 'out.txt'], files: { 'out.txt': FILE_BODY.slice(0, 500) } },
  { name: '-C 10 on 404: 33', path: '/status/404', args: ['-s', '-C', '10', '-w', '|%{http_code}'] },
  { name: '-C at the whole length, range ignored', path: '/file-norange', args: ['-s', '-C', String(FILE_BODY.length), '-w', '|%{http_code} %{size_download}'] },
  { name: '-C -I', path: '/file-norange', args: ['-sI', '-C', '10'] },
  { name: '-C wins over -r', path: '/file', args: ['-s', '-C', '890', '-r', '0-5'], headers: ['range'] },
  { name: '-C 0', path: '/file', args: ['-s', '-C', '0', '-o', 'out.txt'], headers: ['range'] },
  { name: '-C x', path: '/file', args: ['-s', '-C', 'x'] },
  { name: '-C -5', path: '/file', args: ['-s', '-C', '-5'] },

  // -D and --stderr.
  { name: '-D file', path: '/text', args: ['-s', '-D', 'h.txt'] },
  { name: '-D -', path: '/headers', args: ['-s', '-D', '-'] },
  { name: '--dump-header - with -o', path: '/text', args: ['-s', '--dump-header', '-', '-o', 'out.txt'] },
  { name: '-D -L: every response', path: '/redirect?to=/text', args: ['-sL', '-D', 'h.txt'] },
  { name: '-D - -i: each line twice', path: '/headers', args: ['-s', '-D', '-', '-i'] },
  { name: '-D -iL -o', path: '/moved', args: ['-siL', '-D', 'h.txt', '-o', 'out.txt'] },
  { name: '-D -I', path: '/headers', args: ['-sI', '-D', 'h.txt'] },
  { name: '-D with -f on 404', path: '/status/404', args: ['-sf', '-D', 'h.txt'] },
  { name: '-D on a refused connection: an empty file', path: '/text', args: ['-s', '-D', 'h.txt'], tenant: 'closed' },
  { name: '-D under --retry: every attempt', path: '/flaky?fail=1', args: ['-s', '--retry', '1', '--retry-delay', '1', '-D', 'h.txt', '-o', 'out.json'] },
  { name: '-D twice: the last one', path: '/text', args: ['-s', '-D', 'a.txt', '-D', 'b.txt'] },
  { name: '--stderr file', path: '/text', args: ['-sS', '--stderr', 'e.txt'], tenant: 'closed', normalise: message },
  { name: '--stderr - (stdout)', path: '/text', args: ['-sS', '--stderr', '-'], tenant: 'closed', normalise: message },
  { name: '--stderr file on success', path: '/text', args: ['-s', '--stderr', 'e.txt'] },
  { name: '--stderr with -f on 404', path: '/status/404', args: ['-sSf', '--stderr', 'e.txt'], normalise: message },
  { name: '--stderr that cannot be opened', path: '/text', args: ['--stderr', 'nodir/e.txt', '-o', 'out.txt'] },
  { name: '--stderr that cannot be opened, -s', path: '/text', args: ['-s', '--stderr', 'nodir/e.txt'] },

  // TLS options against a plain-HTTP tenant: accepted, no effect.
  { name: '-k', path: '/text', args: ['-sk'] },
  { name: '--connect-timeout', path: '/text', args: ['-s', '--connect-timeout', '5'] },

  // The deliberate differences.
  {
    name: 'Accept: application/json by default',
    path: '/echo',
    args: ['-s'],
    headers: ['accept'],
    differs: {
      reason: 'the REST API answers in JSON; curl sends Accept: */*',
      expect: (curl) => withRequests(curl, (r) => ({ ...r, headers: { ...r.headers, accept: 'application/json' } })),
    },
  },
  {
    name: 'a -d body that is JSON is sent as JSON',
    path: '/echo',
    args: ['-s', '-d', '{"name":"pump"}'],
    differs: {
      reason: 'Cumulocity refuses JSON sent as form data; curl sends application/x-www-form-urlencoded',
      expect: (curl) =>
        withRequests(curl, (r) => ({ ...r, headers: { ...r.headers, 'content-type': 'application/json' } })),
    },
  },
  {
    name: '--url names the tenant',
    path: '/text',
    args: ['-s', '--url', '{tenant}/text'],
    ours: ['-s', '--url', '{tenant}'],
    differs: {
      reason: 'c8y-token curl takes a path; --url is the base URL it goes to',
      expect: (curl) => curl,
    },
  },
  {
    name: 'under --retry only the final body is written to stdout',
    path: '/flaky?fail=1',
    args: ['-s', '--retry', '1', '--retry-delay', '1'],
    differs: {
      reason: 'stdout cannot be rewound; a script would get the error body and the answer glued together',
      expect: (curl) => ({ ...curl, stdout: curl.stdout.replace(/^\{"error":"test\/Unavailable".*?\}/, '') }),
    },
  },
  {
    name: 'a path with a space is percent-encoded',
    path: '/echo?q=a b',
    args: ['-s'],
    differs: {
      reason: 'a path is not a URL; curl refuses a space (exit 3)',
      expect: () => ({
        code: 0,
        stdout: '{"method":"GET"}',
        stderrEmpty: true,
        files: {},
        requests: [{ method: 'GET', url: '/echo?q=a%20b', body: '', headers: { authorization: 'Bearer <token>' } }],
      }),
    },
  },
  {
    name: '-G --data-urlencode: escapes in capitals',
    path: '/echo',
    args: ['-s', '-G', '--data-urlencode', "query=$filter=(name eq 'pump')"],
    differs: {
      reason: 'curl 7.88 writes the escapes of -G data in small letters (%3d); both mean the same',
      expect: (curl) =>
        withRequests(curl, (r) => ({ ...r, url: r.url.replace(/%[0-9a-f]{2}/g, (hex) => hex.toUpperCase()) })),
    },
  },
  {
    name: 'a 401 is tried once more with a fresh token',
    path: '/status/401',
    args: ['-s', '--fail'],
    differs: {
      reason: 'the device token may have been replaced since it was cached; curl has no token to refresh',
      expect: (curl) => ({ ...curl, requests: [...curl.requests, ...curl.requests] }),
    },
  },
  ...(
    [
      ['content', 'a b/c'],
      ['=content', '=x y=z'],
      ['name=content', "q=$filter=(name eq 'p*')"],
      ['a UTF-8 value', 'q=ä~.-_'],
    ] as const
  ).map(([form, value]): DiffCase => ({
    name: `--url-query ${form}: escapes in capitals`,
    path: '/echo',
    args: ['-s', '--url-query', value],
    differs: { reason: 'curl 7.88 writes these escapes in small letters (%3d); both mean the same', expect: capitals },
  })),
  {
    name: '--url-query @file and name@file: escapes in capitals',
    path: '/echo',
    args: ['-s', '--url-query', '@v.txt', '--url-query', 'n@v.txt'],
    files: { 'v.txt': 'a b\nc\n' },
    differs: { reason: 'curl 7.88 writes these escapes in small letters (%0a); both mean the same', expect: capitals },
  },
  {
    name: '-G -d keeps --url-query',
    path: '/echo',
    args: ['-s', '-G', '--url-query', 'a=1', '-d', 'b=2'],
    differs: {
      reason: 'curl 7.88 drops the --url-query pieces when -G adds data (later curl keeps both, in this order)',
      expect: (curl) => withRequests(curl, (r) => ({ ...r, url: '/echo?a=1&b=2' })),
    },
  },
  {
    name: '--url-query +content with a space is percent-encoded',
    path: '/echo',
    args: ['-s', '--url-query', '+a b'],
    differs: {
      reason: 'as for a path: c8y-token encodes it, curl refuses the URL (exit 3)',
      expect: () => ({
        code: 0,
        stdout: '{"method":"GET"}',
        stderrEmpty: true,
        files: {},
        requests: [{ method: 'GET', url: '/echo?a%20b', body: '', headers: { authorization: 'Bearer <token>' } }],
      }),
    },
  },
  {
    name: '--url-query with a missing @file is a usage error',
    path: '/echo',
    args: ['-s', '--url-query', 'n@missing.txt'],
    differs: {
      reason: 'curl leaves the piece out and sends the request; c8y-token stops before anything is sent',
      expect: stoppedBeforeSending(2),
    },
  },
  {
    name: '--compressed asks for what curl asks for',
    path: '/echo',
    args: ['-s', '--compressed'],
    headers: ['accept-encoding'],
    ...(!ZSTD_DECODES && {
      differs: {
        reason: 'curl asks for zstd too, which Node decodes from 22.15 on: c8y-token asks for it where Node decodes it',
        expect: (curl: Outcome) =>
          withRequests(curl, (r) => ({ ...r, headers: { ...r.headers, 'accept-encoding': 'deflate, gzip, br' } })),
      },
    }),
  },
  {
    name: '-C with a body is a usage error',
    path: '/echo',
    args: ['-s', '-C', '10', '-d', 'a=1'],
    differs: {
      reason: "curl resumes the upload (here: exit 18, 'already uploaded'); c8y-token resumes downloads only",
      expect: stoppedBeforeSending(2),
    },
  },
  {
    name: '-T a directory: 26',
    path: '/upload',
    args: ['-s', '-T', '.'],
    differs: {
      reason: 'curl 7.88 sends an empty PUT and exits 0; c8y-token cannot read a directory: exit 26, nothing sent',
      expect: stoppedBeforeSending(26),
    },
  },
  {
    name: '-D into a missing directory',
    path: '/text',
    args: ['-s', '-D', 'nodir/h.txt'],
    differs: {
      reason: "curl 7.88 crashes (SIGSEGV); c8y-token cannot write the headers: curl's exit 23, nothing sent",
      expect: () => ({ code: 23, stdout: '', stderrEmpty: true, files: {}, requests: [] }),
    },
  },
  {
    name: '--stderr takes -w %{stderr} too',
    path: '/text',
    args: ['-s', '--stderr', 'e.txt', '-o', '/dev/null', '-w', '%{stderr}%{http_code}'],
    differs: {
      reason: 'curl 7.88 writes %{stderr} to the real stderr; later curl, as c8y-token, to the --stderr file',
      expect: (curl) => ({ ...curl, stderrEmpty: true, files: { 'e.txt': '200' } }),
    },
  },
  {
    name: 'a missing @file is a usage error',
    path: '/echo',
    args: ['-d', '@missing.txt'],
    differs: {
      reason: 'curl warns and sends an empty body; a device would post nothing and exit 0',
      expect: stoppedBeforeSending(2),
    },
  },
];

/** An error message in a file or on stdout: curl's wording and ours differ, where it goes must not. */
function message(text: string): string {
  return text.replace(/^(curl|c8y-token): [\s\S]*/, '<message>');
}

/** c8y-token refuses before anything is sent: exit `code`, one line on stderr, nothing on stdout or to the server. */
function stoppedBeforeSending(code: number): (curl: Outcome) => Outcome {
  return (curl) => ({ ...curl, code, stderrEmpty: false, stdout: '', requests: [] });
}

function capitals(curl: Outcome): Outcome {
  return withRequests(curl, (r) => ({ ...r, url: r.url.replace(/%[0-9a-f]{2}/g, (hex) => hex.toUpperCase()) }));
}

function withRequests(outcome: Outcome, change: (request: Outcome['requests'][number]) => Outcome['requests'][number]) {
  return { ...outcome, requests: outcome.requests.map(change) };
}

const CONCURRENCY = 4;
let fixture: CurlFixture | undefined;
const lanes: Lane[] = [];
const context = {} as DiffContext;
let dir: string;

before(async () => {
  if (curlMissing) return;
  dir = await mkdtemp(join(tmpdir(), 'c8y-token-diff-'));
  context.tokenFile = join(dir, 'authorization');
  await writeFile(context.tokenFile, `Authorization: Bearer ${await signToken()}\n`);
  fixture = await startCurlFixture();
  context.env = { ...fixture.env, C8Y_TOKEN_CACHE_DIR: join(dir, 'cache') };
  context.closedUrl = await closedPort();
  for (let n = 0; n < CONCURRENCY; n++) lanes.push(await startLane());
  // One token for every run: the cache is shared.
  const warm = await runCli(['get'], { env: context.env });
  assert.equal(warm.code, 0, warm.stderr);
});
after(async () => {
  await Promise.all(lanes.map((lane) => lane.tenant.stop()));
  await fixture?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('c8y-token curl against the real curl', { skip: curlMissing, concurrency: CONCURRENCY }, () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const lane = lanes.pop()!;
      try {
        const [theirs, mine] = await runBoth(c, lane, context);
        assert.deepEqual(mine, c.differs ? c.differs.expect(theirs) : theirs);
      } finally {
        lanes.push(lane);
      }
    });
  }
});
