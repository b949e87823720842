import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { collect, waitFor } from './harness/cli.ts';
import { useCurlFixture } from './harness/fixture.ts';
import { refuseFirstToken, sendJson } from '../sim/tenant.ts';

const f = useCurlFixture();
beforeEach(() => f.tenant.reset());

const ids = (stdout: string) => (JSON.parse(stdout) as Array<{ id: string }>).map((item) => Number(item.id));
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const urls = () => f.tenant.requests.map((request) => request.url);

/**
 * /alarm/alarms: `pages` full pages of `pageSize` alarms numbered from 1, each answered after `delayMs(page)` (never,
 * when that is Infinity: until the client gives up), with a `next` link to `linkTo(page)` and the status
 * `status(page)`; then an empty page.
 */
function alarmPages(
  pages: number,
  pageSize: number,
  delayMs: (page: number) => number,
  linkTo = (page: number) => page + 1,
  status = (_page: number) => 200,
): void {
  f.tenant.route('GET', '/alarm/alarms', async (request, response) => {
    const page = Number(new URL(request.url, f.tenant.url).searchParams.get('currentPage') ?? 1);
    const delay = delayMs(page);
    if (delay === Number.POSITIVE_INFINITY) return new Promise<void>((resolve) => response.once('close', resolve));
    await sleep(delay);
    if (status(page) !== 200)
      return sendJson(response, status(page), { error: 'general/Unavailable', message: 'try later' });
    const first = (page - 1) * pageSize;
    sendJson(response, 200, {
      next: `${f.tenant.url}/alarm/alarms?pageSize=${pageSize}&currentPage=${linkTo(page)}`,
      statistics: { pageSize, currentPage: page },
      alarms: page > pages ? [] : Array.from({ length: pageSize }, (_, n) => ({ id: String(first + n + 1) })),
    });
  });
}

describe('c8y-token curl --paginate', () => {
  test('follows next across pages and prints all items as one JSON array, stopping at a short page', async () => {
    f.tenant.managedObjects = 23;
    const result = await f.curl(['/inventory/managedObjects?type=c8y_Device', '--paginate', '--page-size', '5']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ids(result.stdout), range(23));
    assert.match(result.stdout, /^\[\n\{"id":"1",.*\}\n\]\n$/s);
    const page = (n: number) => `/inventory/managedObjects?type=c8y_Device&pageSize=5&currentPage=${n}`;
    // Two pages at a time, so they may come in either order; page 6 was asked for ahead, before page 5 turned out
    // to be the last.
    assert.deepEqual(
      urls()
        .filter((url) => url !== page(6))
        .sort(),
      ['/inventory/managedObjects?type=c8y_Device&pageSize=5', ...[2, 3, 4, 5].map(page)],
    );
    assert.ok(urls().length <= 6, urls().join(' '));
  });

  test('stops at an empty page when the last page is full; the token goes with every page', async () => {
    f.tenant.managedObjects = 10;
    const result = await f.curl(['/inventory/managedObjects?pageSize=5', '--paginate', '--page-size', '7']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ids(result.stdout), range(10));
    // Pages 1 and 2, the empty page 3, and page 4, asked for ahead (unless given up before it left).
    assert.ok([3, 4].includes(f.tenant.requests.length), urls().join(' '));
    assert.equal(urls()[0], '/inventory/managedObjects?pageSize=5', "the path's own pageSize wins");
    for (const request of f.tenant.requests)
      assert.equal(request.headers.authorization, `Bearer ${f.bridge.issued.at(-1)}`);
  });

  test('all pages go over two kept-alive connections at most', async () => {
    f.tenant.managedObjects = 20;
    const result = await f.curl(['/inventory/managedObjects', '--paginate', '--page-size', '4']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok([6, 7].includes(f.tenant.requests.length), 'five full pages, the empty sixth and perhaps a seventh');
    assert.ok(f.tenant.connections <= 2, `${f.tenant.connections} connections`);
  });

  test('an empty collection is []; without --page-size, pageSize=1000 is asked for', async () => {
    f.tenant.managedObjects = 0;
    const result = await f.curl(['/inventory/managedObjects', '--paginate']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '[]\n');
    assert.deepEqual(urls(), ['/inventory/managedObjects?pageSize=1000']);
  });

  test('--pretty indents the array as JSON.stringify does', async () => {
    f.tenant.managedObjects = 3;
    const result = await f.curl(['/inventory/managedObjects', '--paginate', '--page-size', '2', '--pretty']);
    assert.equal(result.stdout, `${JSON.stringify(JSON.parse(result.stdout), null, 2)}\n`);
    assert.deepEqual(ids(result.stdout), [1, 2, 3]);
  });

  test('next links naming another origin are followed on the tenant: the token stays there', async () => {
    f.tenant.managedObjects = 6;
    f.tenant.linkOrigin = 'http://127.0.0.2:9';
    const result = await f.curl(['/inventory/managedObjects', '--paginate', '--page-size', '4']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ids(result.stdout), range(6));
    assert.equal(f.tenant.requests.length, 3, 'pages 1 and 2, and page 3 asked for ahead');
  });

  test('two pages are asked for while one is written, never more; the items come in order, whichever page answers first', async () => {
    // Even pages answer later than the odd page after them: only the CLI can put them back in order.
    alarmPages(8, 3, (page) => (page % 2 === 0 ? 60 : 0));
    const result = await f.curl(['/alarm/alarms?pageSize=3', '--paginate']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ids(result.stdout), range(8 * 3));
    assert.equal(f.tenant.maxInFlight, 2);
    assert.equal(f.tenant.connections, 2);
  });

  test('next links that do not count currentPage up: every page is still the one its link names', async () => {
    // Page 1 links to 3, 3 to 5, ...: the page predicted after 3 (4) is not the one 3 names, and is never written.
    alarmPages(
      7,
      2,
      () => 0,
      (page) => page + 2,
    );
    const result = await f.curl(['/alarm/alarms?pageSize=2', '--paginate']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      ids(result.stdout),
      [1, 3, 5, 7].flatMap((page) => [page * 2 - 1, page * 2]),
    );
  });

  test('the array key is whatever array the collection has: measurements, with statistics and self beside it', async () => {
    f.tenant.route('GET', '/measurement/measurements', (_, response) => {
      sendJson(response, 200, { self: 'x', statistics: { pageSize: 5, currentPage: 1 }, measurements: [{ id: 'm1' }] });
    });
    const result = await f.curl(['/measurement/measurements', '--paginate']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [{ id: 'm1' }]);
  });

  test('items pass through byte for byte, as the tenant wrote them: spacing, escapes, characters beyond ASCII', async () => {
    const items = [
      '{ "id" : "a1",\n  "text": "say \\"hi\\" ] } \\\\" }',
      '{"id":"a2","name":"Gerät ☃ 🚀","list":[1, [2], {}]}',
    ];
    f.tenant.route('GET', '/alarm/alarms', (_, response) => {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(`{"statistics":{"pageSize":5},\n "alarms": [ ${items.join(' ,\n ')} ] }\n`);
    });
    const result = await f.curl(['/alarm/alarms', '--paginate']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `[\n${items.join(',\n')}\n]\n`);
    assert.deepEqual(
      JSON.parse(result.stdout),
      items.map((item) => JSON.parse(item)),
    );
  });

  test('a token refused on two pages in flight at once is refreshed once for both', async () => {
    f.tenant.managedObjects = 10;
    let first: string | undefined;
    f.tenant.authorize = (authorization) => {
      if (f.tenant.requests.length === 1) first = authorization;
      return authorization !== first || f.tenant.requests.length === 1;
    };
    f.tenant.latencyMs = 20;
    const before = f.bridge.requests;
    const result = await f.curl(['/inventory/managedObjects', '--paginate', '--page-size', '2']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ids(result.stdout), range(10));
    assert.equal(f.bridge.requests - before, 2, 'the first token, then one fresh one');
  });

  test('a token refused midway is refreshed once and the walk goes on', async () => {
    f.tenant.managedObjects = 4;
    refuseFirstToken(f.tenant);
    const before = f.bridge.requests;
    const result = await f.curl(['/inventory/managedObjects', '--paginate', '--page-size', '2']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ids(result.stdout), range(4));
    assert.equal(f.bridge.requests - before, 2);
  });

  test('-o writes the array to a file; -w reports the last page', async () => {
    f.tenant.managedObjects = 3;
    const file = join(await mkdtemp(join(tmpdir(), 'c8y-token-')), 'all.json');
    const result = await f.curl([
      '/inventory/managedObjects',
      '--paginate',
      '--page-size',
      '2',
      '-o',
      file,
      '-w',
      '%{http_code} %{url_effective}',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ids(await readFile(file, 'utf8')), [1, 2, 3]);
    assert.equal(result.stdout, `200 ${f.tenant.url}/inventory/managedObjects?pageSize=2&currentPage=2`);
  });
});

describe('c8y-token curl --paginate: failures', () => {
  test('an error on the first page: exit 22, nothing on stdout', async () => {
    const result = await f.curl(['/status/403', '--paginate']);
    assert.equal(result.code, 22);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /HTTP 403 Forbidden from GET \/status\/403\?pageSize=1000/);
  });

  test('an error on a later page: exit 22 and the array is left unclosed, so no parser takes it as complete', async () => {
    alarmPages(
      4,
      1,
      () => 0,
      (page) => page + 1,
      (page) => (page === 2 ? 503 : 200),
    );
    const result = await f.curl(['/alarm/alarms?pageSize=1', '--paginate']);
    assert.equal(result.code, 22);
    assert.equal(result.stdout, '[\n{"id":"1"}');
    assert.match(result.stderr, /HTTP 503 .*general\/Unavailable: try later/);
  });

  test('an error on the page after the one being fetched: that page is written first, then exit 22', async () => {
    // Pages 2 and 3 are asked for together; 3's error comes back long before 2 does.
    alarmPages(
      4,
      1,
      (page) => (page === 2 ? 100 : 0),
      (page) => page + 1,
      (page) => (page === 3 ? 503 : 200),
    );
    const result = await f.curl(['/alarm/alarms?pageSize=1', '--paginate']);
    assert.equal(result.code, 22);
    assert.equal(result.stdout, '[\n{"id":"1"},\n{"id":"2"}');
    assert.match(result.stderr, /HTTP 503 Service Unavailable from GET \/alarm\/alarms\?pageSize=1&currentPage=3/);
  });

  test('SIGINT while two pages are asked for: exit 130 at once, both requests given up', async () => {
    alarmPages(4, 1, (page) => (page === 1 ? 0 : Number.POSITIVE_INFINITY));
    const run = f.curl(['/alarm/alarms?pageSize=1', '--paginate'], { killAfterMs: 10_000 });
    const stdout = collect(run.child.stdout!);
    await waitFor(() => stdout().includes('"1"') && f.tenant.inFlight === 2);
    run.child.kill('SIGINT');
    const result = await run;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /interrupted by SIGINT/);
    await waitFor(() => f.tenant.inFlight === 0);
  });

  test('a reader that stops reading (| head): exit 23, and no more pages are fetched', async () => {
    f.tenant.managedObjects = 30_000;
    const run = f.curl(['/inventory/managedObjects', '--paginate', '--page-size', '2000', '-w', '%{exitcode}']);
    run.child.stdout!.once('data', () => run.child.stdout!.destroy());
    const result = await run;
    assert.equal(result.code, 23, result.stderr);
    assert.match(result.stderr, /cannot write to stdout: the reader closed the pipe/);
    assert.ok(f.tenant.requests.length < 15, `${f.tenant.requests.length} pages requested`);
  });

  test('not a collection: exit 2', async () => {
    const result = await f.curl(['/user/currentUser', '--paginate']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--paginate: \/user\/currentUser is not a collection/);
  });

  test('with -i, a body or a bad --page-size: exit 2', async () => {
    const results = await Promise.all([
      f.curl(['/inventory/managedObjects', '--paginate', '-i']),
      f.curl(['/inventory/managedObjects', '--paginate', '-d', '{}']),
      f.curl(['/inventory/managedObjects', '--paginate', '--page-size', '2001']),
    ]);
    for (const result of results) assert.equal(result.code, 2, result.stderr);
    assert.match(results[2]!.stderr, /--page-size: '2001' is not a whole number from 1 to 2000/);
  });
});
