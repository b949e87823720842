import { getToken, parseMinValidity, type GetTokenOptions } from '../get-token.ts';
import { remainingValidity, type DeviceToken } from './claims.ts';

export type TokenSourceOptions = GetTokenOptions;

/** The device token for a long-running process: always one that stays valid long enough, renewed as it ages. */
export interface TokenSource {
  /** A token valid for at least `minValidity` more; the one held while it is, else a new one (from the cache first). */
  current(): Promise<DeviceToken>;
  /**
   * A new token in place of `refused` (default: the one held), which the tenant has just refused: it is evicted from
   * the cache. When the source already holds another token than `refused`, that one is returned; when the bridge has
   * only `refused` to give, it is returned, so that the caller can tell.
   */
  refresh(refused?: string): Promise<DeviceToken>;
}

/**
 * A token source over getToken and its cache: however many callers ask at once, in this process or in others
 * sharing the cache, one request goes to the bridge.
 */
export function tokenSource(options: TokenSourceOptions = {}): TokenSource {
  const minValidityMs = parseMinValidity(options.minValidity);
  let held: DeviceToken | undefined;
  let pending: Promise<DeviceToken> | undefined;

  // A token whose whole lifetime is shorter than twice minValidity is renewed at half its lifetime: asking the
  // bridge again would bring one as short, and the next call would ask once more.
  const threshold = (token: DeviceToken | undefined): number => {
    const { iat, exp } = token?.claims ?? {};
    return iat === undefined || exp === undefined ? minValidityMs : Math.min(minValidityMs, ((exp - iat) * 1000) / 2);
  };
  const fetchOnce = (extra: GetTokenOptions): Promise<DeviceToken> => {
    pending ??= getToken({ ...options, ...extra }).then(
      (token) => {
        held = token;
        pending = undefined;
        return token;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };

  return {
    async current() {
      if (held && remainingValidity(held) >= threshold(held)) return held;
      return fetchOnce({ minValidity: threshold(held) });
    },
    async refresh(refused = held?.token) {
      const latest = pending ? await pending.catch(() => held) : held;
      if (latest && latest.token !== refused) return latest;
      return fetchOnce({ minValidity: threshold(latest), exclude: refused });
    },
  };
}
