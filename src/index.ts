/**
 * The public API: what is exported here is documented in docs/library.md and kept under semver. Everything else in
 * the package is internal and may change in any release.
 */
export { getToken, type GetTokenOptions } from './core/get-token.ts';
export { tokenSource, type TokenSource, type TokenSourceOptions } from './core/token/source.ts';
export {
  createC8yFetch,
  type C8yFetch,
  type C8yFetchOptions,
  type C8yRequestInit,
  type PageOptions,
} from './core/http/c8y-fetch.ts';
export type { FetchBody } from './core/http/fetch-body.ts';
export { decodeToken, type DeviceToken, type TokenClaims } from './core/token/claims.ts';
export {
  resolveSettings,
  type BrokerSettings,
  type ResolveOptions,
  type ResolvedSettings,
  type SettingSource,
  type SettingsInput,
} from './core/settings/resolve.ts';
export { C8yTokenError, EXIT_CODES, type ErrorKind } from './core/errors.ts';
export { cacheDirectory } from './core/cache/location.ts';
export { clearTokenCache, listCachedTokens, type CacheContents } from './core/cache/manage.ts';
export type { CacheEntry, CacheKey, StoredEntry } from './core/cache/store.ts';
export type { Logger } from './core/logger.ts';
