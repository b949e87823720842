import type { DeviceToken } from '../token/claims.ts';
import type { Authorizer } from './send.ts';

/**
 * Sends the device token to `origin` only; a refused token is replaced by the one `renew` gives for it, never by
 * itself. When `renew` has only the refused one to give, the refusal stands and `warn` says why.
 */
export function tokenAuthorizer(
  first: DeviceToken,
  origin: string,
  renew: (refused: string) => Promise<DeviceToken>,
  warn: ((line: string) => void) | undefined,
): Authorizer {
  let token = first;
  return {
    origin,
    authorization: () => `Bearer ${token.token}`,
    async refresh() {
      const fresh = await renew(token.token);
      if (fresh.token !== token.token) {
        token = fresh;
        return true;
      }
      warn?.('the tenant refused the device token, and the bridge gave the same one back');
      return false;
    },
  };
}
