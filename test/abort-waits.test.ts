import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import { C8yTokenError } from '../src/core/errors.ts';
import { paginate } from '../src/core/http/paginate.ts';
import { prepareRequest, requestAt } from '../src/cli/curl/request.ts';
import { send, type SendOptions } from '../src/core/http/send.ts';
import { freePort } from '../sim/broker.ts';

/**
 * The signal is aborted by the callback that runs just before a wait (the retry warning, the redirect trace, the page
 * hook): a wait that only listened for a later 'abort' event would last its whole length (ten minutes for the retry),
 * and the test would hang until its own timeout.
 */
const GUARD = { timeout: 20_000 };

let server: Server;
let origin: string;
const requests: string[] = [];

before(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests.push(request.url!);
    if (request.url === '/busy') {
      response.writeHead(503, { 'Retry-After': '600' }).end();
    } else if (request.url === '/moved') {
      response.writeHead(302, { Location: '/busy' }).end();
    } else {
      const page = Number(new URL(request.url!, 'http://x').searchParams.get('currentPage') ?? '1');
      const next = `${origin}/items?pageSize=1&currentPage=${page + 1}`;
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ next, statistics: { pageSize: 1 }, items: [{ page }] }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function request(path: string) {
  return requestAt(await prepareRequest({}), new URL(path, origin));
}

/** Runs `use` with send options whose signal `abort()` aborts; the agent is closed afterwards. */
async function withOptions(use: (options: SendOptions, abort: () => void) => Promise<void>): Promise<void> {
  const dispatcher = new Agent();
  const controller = new AbortController();
  requests.length = 0;
  try {
    await use({ dispatcher, signal: controller.signal }, () => controller.abort());
  } finally {
    await dispatcher.close();
  }
}

const aborted = (error: unknown) => error instanceof C8yTokenError && error.message === 'aborted';

describe('every wait ends at once when the signal is aborted, also when it was aborted before the wait began', () => {
  test('a --retry wait (Retry-After: 600)', GUARD, async () => {
    await withOptions(async (options, abort) => {
      await assert.rejects(send(await request('/busy'), { ...options, retry: 3, warn: abort }), aborted);
      assert.deepEqual(requests, ['/busy']);
    });
  });

  test('a --retry-connrefused wait (doubling from 1s)', GUARD, async () => {
    await withOptions(async (options, abort) => {
      const closed = requestAt(await prepareRequest({}), new URL(`http://127.0.0.1:${await freePort()}/`));
      const retry = { retry: 9, retryConnRefused: true, warn: abort };
      await assert.rejects(send(closed, { ...options, ...retry }), aborted);
    });
  });

  test('a redirect', GUARD, async () => {
    await withOptions(async (options, abort) => {
      const trace = (line: string) => line.includes('following') && abort();
      await assert.rejects(send(await request('/moved'), { ...options, location: true, trace }), aborted);
      assert.deepEqual(requests, ['/moved']);
    });
  });

  test('the next page of --paginate', GUARD, async () => {
    await withOptions(async (options, abort) => {
      const items: unknown[] = [];
      const pages = paginate(await request('/items?pageSize=1'), { ...options, onPage: abort });
      await assert.rejects(async () => {
        for await (const item of pages) items.push(item);
      }, aborted);
      assert.deepEqual(items, [{ page: 1 }]);
      assert.equal(requests.length, 1);
    });
  });
});
