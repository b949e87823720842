import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { useCurlFixture } from './harness/fixture.ts';
import { refuseFirstToken, sendJson } from '../sim/tenant.ts';

const f = useCurlFixture();
beforeEach(() => f.tenant.reset());

const ids = (stdout: string) => (JSON.parse(stdout) as Array<{ id: string }>).map((item) => Number(item.id));
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const urls = () => f.tenant.requests.map((request) => request.url);

describe('c8y-token curl --paginate', () => {
  test('follows next across pages and prints all items as one JSON array, stopping at a short page', async () => {
    f.tenant.managedObjects = 23;
    const result = await f.curl(['/inventory/managedObjects?type=c8y_Device', '--paginate', '--page-size', '5']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ids(result.stdout), range(23));
    assert.match(result.stdout, /^\[\n\{"id":"1",.*\}\n\]\n$/s);
    assert.deepEqual(urls(), [
      '/inventory/managedObjects?type=c8y_Device&pageSize=5',
      ...[2, 3, 4, 5].map((page) => `/inventory/managedObjects?type=c8y_Device&pageSize=5&currentPage=${page}`),
    ]);
  });

  test('stops at an empty page when the last page is full; the token goes with every page', async () => {
    f.tenant.managedObjects = 10;
    const result = await f.curl(['/inventory/managedObjects?pageSize=5', '--paginate', '--page-size', '7']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ids(result.stdout), range(10));
    assert.equal(f.tenant.requests.length, 3);
    assert.equal(urls()[0], '/inventory/managedObjects?pageSize=5', "the path's own pageSize wins");
    for (const request of f.tenant.requests)
      assert.equal(request.headers.authorization, `Bearer ${f.bridge.issued.at(-1)}`);
  });

  test('all pages go over one kept-alive connection', async () => {
    f.tenant.managedObjects = 20;
    const result = await f.curl(['/inventory/managedObjects', '--paginate', '--page-size', '4']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(f.tenant.requests.length, 6);
    assert.equal(f.tenant.connections, 1);
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
    assert.equal(f.tenant.requests.length, 2);
  });

  test('a page is written before the next one is asked for', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    f.tenant.route('GET', '/alarm/alarms', async (request, response) => {
      const page = Number(new URL(request.url, f.tenant.url).searchParams.get('currentPage') ?? 1);
      if (page === 2) await released;
      sendJson(response, 200, {
        self: `${f.tenant.url}/alarm/alarms?pageSize=2&currentPage=${page}`,
        next: `${f.tenant.url}/alarm/alarms?pageSize=2&currentPage=${page + 1}`,
        statistics: { pageSize: 2, currentPage: page },
        alarms: page === 1 ? [{ id: 'a1' }, { id: 'a2' }] : [],
      });
    });
    const run = f.curl(['/alarm/alarms?pageSize=2', '--paginate'], { killAfterMs: 10_000 });
    let seen = '';
    run.child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('"a2"')) release();
    });
    const result = await run;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [{ id: 'a1' }, { id: 'a2' }]);
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
    let calls = 0;
    f.tenant.route('GET', '/event/events', (_, response) => {
      if (++calls === 2) return sendJson(response, 503, { error: 'general/Unavailable', message: 'try later' });
      sendJson(response, 200, {
        events: [{ id: 'e1' }],
        statistics: { pageSize: 1 },
        next: `${f.tenant.url}/event/events?currentPage=2`,
      });
    });
    const result = await f.curl(['/event/events', '--paginate']);
    assert.equal(result.code, 22);
    assert.equal(result.stdout, '[\n{"id":"e1"}');
    assert.match(result.stderr, /HTTP 503 .*general\/Unavailable: try later/);
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
