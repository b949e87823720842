import { usageError, wording } from '../errors.ts';

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;
const PATH_HINT = 'a path starts with / (/inventory/managedObjects); a URL with https:// (on the tenant only)';

/**
 * The URL to request: `path` relative to the base URL (query string included), or an absolute URL on the base URL's
 * own origin. The token is never sent to any other origin.
 */
export function targetUrl(base: URL, path: string): URL {
  const url = ABSOLUTE.test(path) ? absoluteUrl(path) : joinPath(base, path);
  if (url.origin !== base.origin) {
    throw usageError(
      `refusing to send the token to ${url.origin}: the tenant is ${base.origin}`,
      wording`pass a path on the tenant (/inventory/managedObjects), or {url} to name the tenant`,
    );
  }
  assertAllowedPath(url);
  return url;
}

function absoluteUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`'${text}' is not a URL`, PATH_HINT);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw usageError(`'${text}' is neither a path nor an http or https URL`, PATH_HINT);
  return url;
}

/** Concatenated, not resolved: resolving `//host/x` against the base would leave its origin. */
function joinPath(base: URL, path: string): URL {
  // `user/currentUser` may mean a path or a host: curl would take it for a host, so it is not guessed at.
  if (!path.startsWith('/'))
    throw usageError(`'${path}' is not a path: it must start with /`, path ? `did you mean /${path}?` : PATH_HINT);
  const url = new URL(`${base.origin}${base.pathname.replace(/\/+$/, '')}${path}`);
  if (url.origin !== base.origin) throw usageError(`'${path}' is not a path on the tenant`);
  return url;
}

/** Checks the path alone, before the token (and so the base URL) is known: a refused path must not even cost one. */
export function assertAllowedRequestPath(path: string): void {
  assertAllowedPath(ABSOLUTE.test(path) ? absoluteUrl(path) : joinPath(new URL('https://tenant.invalid'), path));
}

/** Cumulocity revokes a device token used on its web applications: such paths are never requested. */
export function assertAllowedPath(url: URL): void {
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // A malformed escape is sent as it is; the raw path is checked.
  }
  path = path.replace(/\/{2,}/g, '/').toLowerCase();
  if (path === '/apps' || path.startsWith('/apps/') || path.endsWith('.js')) {
    throw usageError(
      `refusing to request ${url.pathname}: Cumulocity revokes a device token used on its web applications (/apps/, *.js)`,
      'device tokens are for the REST API: /inventory, /measurement, /event, /alarm, /devicecontrol, /user/currentUser',
    );
  }
}
