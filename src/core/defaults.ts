/**
 * The library's defaults that the CLI's help shows too. They live apart from the modules that apply them, so that
 * the CLI can name them without loading those modules (and what they load) before a command runs.
 */
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_REPUBLISH_MS = 5_000;
export const DEFAULT_MIN_VALIDITY_MS = 5 * 60_000;
/** `pageSize` of a paginated request that names none: 1000 keeps requests few and a page's memory small. */
export const DEFAULT_PAGE_SIZE = 1000;
/** The largest page Cumulocity serves. */
export const MAX_PAGE_SIZE = 2000;
/** curl's --connect-timeout for the tenant when none is given: the TLS handshake included. */
export const DEFAULT_TENANT_CONNECT_TIMEOUT_MS = 30_000;
