export { DEFAULT_MIN_VALIDITY_MS, getToken, type GetTokenOptions } from './get-token.ts';
export { cacheDirectory } from './cache/location.ts';
export { clearTokenCache, listCachedTokens, type CacheContents } from './cache/manage.ts';
export type { CacheEntry, CacheKey, StoredEntry } from './cache/store.ts';
export {
  getTokenVariables,
  shellExports,
  tokenVariables,
  type Shell,
  type TokenVariables,
  type TokenVariablesOptions,
} from './shell/variables.ts';
export { tenantUrl, type TenantUrl } from './tenant-url.ts';
export {
  resolveSettings,
  type BrokerSettings,
  type ResolvedSettings,
  type SettingSource,
  type SettingsInput,
} from './config.ts';
export { decodeToken, remainingValidity, tenantBaseUrl, unusableReason, type DeviceToken, type TokenClaims } from './token/claims.ts';
export { parseReply, type Reply } from './token/reply.ts';
export { requestToken, type RequestOptions } from './token/request.ts';
export { C8yTokenError, EXIT_CODES, type ErrorKind } from './errors.ts';
