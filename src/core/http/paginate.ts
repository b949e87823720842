import { DEFAULT_PAGE_SIZE } from '../defaults.ts';
import { C8yTokenError, throwIfAborted, usageError, wording } from '../errors.ts';
import { splitPage } from './collection-page.ts';
import { receiving, statusError } from './failures.ts';
import type { HttpRequest } from './http-request.ts';
import { type Authorizer, send, type Exchange, type SendOptions } from './send.ts';

/** Properties of a Cumulocity collection response that are not its items. */
const NOT_ITEMS = new Set(['statistics', 'self', 'next', 'prev']);

export interface PaginateOptions extends SendOptions {
  /** `pageSize` for the first request when its query string has none. */
  pageSize?: number | undefined;
  /** Called with each page's response and its size in bytes, for -w. */
  onPage?: ((exchange: Exchange, bytes: number) => void) | undefined;
}

/**
 * Yields the items of a Cumulocity collection, page after page, following the `next` links until a page has no items
 * or fewer than its page size. Three pages at most are held in memory: the one handed on and the two asked for ahead
 * (paginateRaw). `next` links are followed on the request's own origin: the token never goes where a response points.
 */
export async function* paginate(
  request: HttpRequest,
  options: PaginateOptions,
): AsyncGenerator<unknown, void, undefined> {
  for await (const items of paginatePages(request, options)) yield* items;
}

/** As paginate, one array of items per page: for a consumer that handles a page at once. */
export async function* paginatePages(
  request: HttpRequest,
  options: PaginateOptions,
): AsyncGenerator<unknown[], void, undefined> {
  for await (const items of paginateRaw(request, options)) yield parseItems(items, request);
}

/** The items of a page whose structure paginateRaw has checked; the items themselves are checked here. */
export function parseItems(items: Buffer[], request: Pick<HttpRequest, 'method' | 'url'>): unknown[] {
  try {
    return items.map((item) => JSON.parse(item.toString('utf8')) as unknown);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new C8yTokenError(
      'other',
      wording`{paginate}: ${request.method} ${new URL(request.url).pathname} sent an item that is not JSON`,
      { hint: wording`request it without {paginate} to see the answer` },
    );
  }
}

/**
 * As paginatePages, each item as the bytes the tenant sent, unparsed (the page's structure is checked): for a consumer
 * that passes them through, as the CLI does.
 *
 * On a real link each page costs a round trip, so the next two pages are asked for while a page is handed on: the
 * one its `next` link names, and the one after it, whose link is predicted by counting up `currentPage` as
 * Cumulocity's links do. A prediction is used only once the page before names the same URL; when one misses, the
 * walk goes on one page at a time. Pages are still handed on in order, an error in the order of its page, and at
 * most two requests are in flight; the walk's end costs at most one page asked for in vain.
 */
export async function* paginateRaw(
  request: HttpRequest,
  options: PaginateOptions,
): AsyncGenerator<Buffer[], void, undefined> {
  if (request.method !== 'GET' || request.body)
    throw usageError(wording`{paginate} works only with GET requests without a body`);
  const url = new URL(request.url);
  if (!url.searchParams.has('pageSize')) {
    url.search = `${url.search ? `${url.search}&` : '?'}pageSize=${options.pageSize ?? DEFAULT_PAGE_SIZE}`;
  }
  const shared = { ...options, auth: options.auth && sharedRefresh(options.auth) };
  throwIfAborted(options.signal);
  const ahead: Prefetch[] = [prefetch(request, url, shared)];
  let predicting = true;
  try {
    for (;;) {
      const current = ahead.shift()!;
      const { exchange, body } = await current.page;
      options.onPage?.(exchange, body.length);
      const { items, next } = checkPage(exchange, body, current.url);
      if (next) {
        if (ahead[0] && ahead[0].url.href !== next.href) {
          predicting = false;
          for (const missed of ahead.splice(0)) missed.controller.abort();
        }
        if (!ahead[0]) ahead.push(prefetch(request, next, shared));
        const following = predicting ? pageAfter(next) : undefined;
        if (following) ahead.push(prefetch(request, following, shared));
      }
      yield items;
      if (!next) return;
    }
  } finally {
    for (const unused of ahead) unused.controller.abort();
  }
}

/** A page asked for ahead of its turn: read whole, and judged only when its turn comes. */
interface Prefetch {
  url: URL;
  controller: AbortController;
  page: Promise<{ exchange: Exchange; body: Buffer }>;
}

function prefetch(request: HttpRequest, url: URL, options: SendOptions): Prefetch {
  const controller = new AbortController();
  const abort = () => controller.abort(options.signal!.reason);
  if (options.signal?.aborted) abort();
  else options.signal?.addEventListener('abort', abort, { once: true });
  const page = (async () => {
    try {
      const exchange = await send({ ...request, url }, { ...options, signal: controller.signal });
      return { exchange, body: Buffer.from(await receiving(exchange.url, () => exchange.body.arrayBuffer())) };
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  })();
  // Its failure is thrown when its turn comes, or not at all when the walk ends first.
  page.catch(() => {});
  return { url, controller, page };
}

/** The page's items, and the URL of the next page on the request's own origin, unless this was the last page. */
function checkPage(exchange: Exchange, body: Buffer, url: URL): { items: Buffer[]; next?: URL | undefined } {
  if (exchange.status < 200 || exchange.status >= 300)
    throw statusError(exchange.status, exchange.method, exchange.url, body.toString('utf8'));
  const page = splitPage(body);
  if (!page) {
    throw new C8yTokenError(
      'other',
      wording`{paginate}: ${exchange.method} ${exchange.url.pathname} did not answer with a JSON object`,
      { hint: wording`request it without {paginate} to see the answer` },
    );
  }
  const items = page.arrays.get(itemsKey([...page.arrays.keys()], exchange))!;
  const statistics = page.values.get('statistics') as { pageSize?: unknown } | undefined;
  const pageSize = Number(statistics?.pageSize ?? url.searchParams.get('pageSize'));
  const link = page.values.get('next');
  if (items.length === 0 || items.length < pageSize || typeof link !== 'string') return { items };
  const next = new URL(link, exchange.url);
  return { items, next: new URL(`${next.pathname}${next.search}`, exchange.url.origin) };
}

/** The link after `url`'s, as Cumulocity writes them: the same query, currentPage one up. */
function pageAfter(url: URL): URL | undefined {
  const current = /([?&]currentPage=)(\d+)(?=&|$)/.exec(url.search);
  if (!current) return undefined;
  const search = `${url.search.slice(0, current.index)}${current[1]}${Number(current[2]) + 1}${url.search.slice(current.index + current[0].length)}`;
  return new URL(`${url.pathname}${search}`, url.origin);
}

/**
 * Requests in flight together carry the same token and may all be refused: one fresh token serves them all, and a
 * refusal of a token already replaced needs none.
 */
function sharedRefresh(auth: Authorizer): Authorizer {
  let refreshing: Promise<boolean> | undefined;
  return {
    origin: auth.origin,
    authorization: () => auth.authorization(),
    refresh(refused) {
      if (refused !== auth.authorization()) return Promise.resolve(true);
      refreshing ??= auth.refresh(refused).finally(() => (refreshing = undefined));
      return refreshing;
    },
  };
}

/** The one array property of a collection: `managedObjects`, `measurements`, `events`, `alarms`, `operations`, ... */
function itemsKey(arrayKeys: string[], exchange: Pick<Exchange, 'url'>): string {
  const keys = arrayKeys.filter((key) => !NOT_ITEMS.has(key));
  if (keys.length !== 1) {
    throw usageError(
      wording`{paginate}: ${exchange.url.pathname} is not a collection (${keys.length === 0 ? 'no' : 'more than one'} array of items in its answer)`,
      wording`use {paginate} on collections such as /inventory/managedObjects, /measurement/measurements or /alarm/alarms`,
    );
  }
  return keys[0]!;
}
