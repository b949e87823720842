import { DEFAULT_PAGE_SIZE } from '../defaults.ts';
import { C8yTokenError, throwIfAborted, usageError, wording } from '../errors.ts';
import { splitPage } from './collection-page.ts';
import { receiving, statusError } from './failures.ts';
import type { HttpRequest } from './http-request.ts';
import { send, type Exchange, type SendOptions } from './send.ts';

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
 * or fewer than its page size. Only one page is held in memory at a time. `next` links are followed on the request's
 * own origin: the token never goes where a response points.
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
 */
export async function* paginateRaw(
  request: HttpRequest,
  options: PaginateOptions,
): AsyncGenerator<Buffer[], void, undefined> {
  if (request.method !== 'GET' || request.body)
    throw usageError(wording`{paginate} works only with GET requests without a body`);
  let url = new URL(request.url);
  if (!url.searchParams.has('pageSize')) {
    url.search = `${url.search ? `${url.search}&` : '?'}pageSize=${options.pageSize ?? DEFAULT_PAGE_SIZE}`;
  }
  for (;;) {
    throwIfAborted(options.signal);
    const exchange = await send({ ...request, url }, options);
    const body = Buffer.from(await receiving(exchange.url, () => exchange.body.arrayBuffer()));
    options.onPage?.(exchange, body.length);
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
    yield items;
    const statistics = page.values.get('statistics') as { pageSize?: unknown } | undefined;
    const pageSize = Number(statistics?.pageSize ?? url.searchParams.get('pageSize'));
    const link = page.values.get('next');
    if (items.length === 0 || items.length < pageSize || typeof link !== 'string') return;
    const next = new URL(link, exchange.url);
    url = new URL(`${next.pathname}${next.search}`, exchange.url.origin);
  }
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
