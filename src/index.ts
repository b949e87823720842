export { getToken, type GetTokenOptions } from './get-token.ts';
export { DEFAULT_MIN_VALIDITY_MS, DEFAULT_REPUBLISH_MS, DEFAULT_TIMEOUT_MS } from './defaults.ts';
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
export {
  decodeToken,
  remainingValidity,
  tenantBaseUrl,
  unusableReason,
  type DeviceToken,
  type TokenClaims,
} from './token/claims.ts';
export { parseReply, type Reply } from './token/reply.ts';
export { requestToken, type RequestOptions } from './token/request.ts';
export { C8yTokenError, EXIT_CODES, type ErrorKind } from './errors.ts';
export { curl, tokenAuthorizer, DEFAULT_CONNECT_TIMEOUT_MS, type CurlOptions, type CurlStreams } from './http/curl.ts';
export { bufferInput, STDIN_REPLAY_LIMIT, type BufferedInput, type RequestBody } from './http/body.ts';
export { dataBody, type DataArg, type DataKind } from './http/data.ts';
export { multipartBody, parseFormArg, type FormPart } from './http/multipart.ts';
export {
  prepareRequest,
  requestAt,
  type Header,
  type HttpRequest,
  type PreparedRequest,
  type RequestSpec,
} from './http/request.ts';
export { send, type Authorizer, type Exchange, type SendOptions } from './http/send.ts';
export {
  paginate,
  paginatePages,
  collectionKey,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type PaginateOptions,
} from './http/paginate.ts';
export { targetUrl, assertAllowedPath } from './http/target.ts';
export { transferError, statusError } from './http/failures.ts';
export { expandWriteOut, type TransferInfo, type WriteOutPiece } from './http/write-out.ts';
