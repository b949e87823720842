export { getToken, type GetTokenOptions } from './core/get-token.ts';
export { DEFAULT_MIN_VALIDITY_MS, DEFAULT_REPUBLISH_MS, DEFAULT_TIMEOUT_MS } from './core/defaults.ts';
export { cacheDirectory } from './core/cache/location.ts';
export { clearTokenCache, listCachedTokens, type CacheContents } from './core/cache/manage.ts';
export type { CacheEntry, CacheKey, StoredEntry } from './core/cache/store.ts';
export {
  getTokenVariables,
  shellExports,
  tokenVariables,
  type Shell,
  type TokenVariables,
  type TokenVariablesOptions,
} from './core/token/variables.ts';
export { tenantUrl, type TenantUrl } from './core/token/tenant-url.ts';
export {
  resolveSettings,
  type BrokerSettings,
  type ResolvedSettings,
  type SettingSource,
  type SettingsInput,
} from './core/settings/resolve.ts';
export {
  decodeToken,
  remainingValidity,
  tenantBaseUrl,
  unusableReason,
  type DeviceToken,
  type TokenClaims,
} from './core/token/claims.ts';
export { parseReply, type Reply } from './core/token/reply.ts';
export { requestToken, type RequestOptions } from './core/token/request.ts';
export { C8yTokenError, EXIT_CODES, type ErrorKind } from './core/errors.ts';
export {
  curl,
  tokenAuthorizer,
  DEFAULT_CONNECT_TIMEOUT_MS,
  type CurlOptions,
  type CurlStreams,
} from './cli/curl/run.ts';
export { bufferInput, STDIN_REPLAY_LIMIT, type BufferedInput, type RequestBody } from './core/http/body.ts';
export { dataBody, type DataArg, type DataKind } from './core/http/data.ts';
export { multipartBody, parseFormArg, type FormPart } from './core/http/multipart.ts';
export {
  prepareRequest,
  requestAt,
  type Header,
  type HttpRequest,
  type PreparedRequest,
  type RequestSpec,
} from './core/http/request.ts';
export { send, type Authorizer, type Exchange, type SendOptions } from './core/http/send.ts';
export {
  paginate,
  paginatePages,
  collectionKey,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type PaginateOptions,
} from './core/http/paginate.ts';
export { targetUrl, assertAllowedPath } from './core/http/target.ts';
export { tenantDispatcher, type ConnectionSettings } from './core/http/dispatcher.ts';
export type { Undici } from './core/http/agent.ts';
export { proxyFor, bypassesProxy, parseProxy, type ProxyServer, type ProxySettings } from './core/http/proxy.ts';
export { tenantTrust, SYSTEM_CA_FILE, type Trust, type TrustSettings } from './core/http/trust.ts';
export { transferError, statusError } from './core/http/failures.ts';
export { expandWriteOut, type TransferInfo, type WriteOutPiece } from './cli/curl/write-out.ts';
