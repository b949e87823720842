import { C8yTokenError, wording } from '../errors.ts';
import { formatSeconds } from '../duration.ts';
import { isoTime, type DeviceToken } from './claims.ts';
import { describeClockOffset, TIME_SYNC_HINT } from './clock.ts';
import { issuerRefusal, type IssuerPolicy } from './issuer.ts';
import { parseReply } from './reply.ts';

/** What a reply on the reply topic means for the wait: a token to take, the refused one given back, or nothing. */
export type Verdict = { take: DeviceToken } | { same: DeviceToken } | undefined;

/**
 * The replies seen while waiting for a token: each is judged as it comes (the reason for ignoring one goes to `log`),
 * and what was refused is remembered, so that a wait that ends without a token can say why.
 */
export class Replies {
  /** Replies that were not usable: how many, and the issue times of those refused only as expired by the device clock. */
  private refused = 0;
  private readonly expiredIssuedAt: number[] = [];
  /** Issuers of the tokens refused under the issuer policy, with the reason given. */
  private readonly refusedIssuers = new Map<string, string>();

  constructor(
    private readonly replyTopic: string,
    private readonly policy: { exclude?: string | undefined; issuer?: IssuerPolicy | undefined },
    private readonly log: (line: string) => void,
  ) {}

  judge(payload: Uint8Array, retained: boolean): Verdict {
    const reply = parseReply(payload, retained);
    if (!('token' in reply)) {
      this.ignored(reply.ignored);
      if (retained) return undefined;
      this.refused++;
      if (reply.expiredIssuedAt !== undefined) this.expiredIssuedAt.push(reply.expiredIssuedAt);
      return undefined;
    }
    const { token } = reply;
    if (token.token === this.policy.exclude) {
      this.ignored('the token the tenant has just refused');
      return { same: token };
    }
    const refusal = this.policy.issuer && issuerRefusal(token, this.policy.issuer);
    if (!refusal) return { take: token };
    this.refused++;
    this.refusedIssuers.set(refusal.issuer, refusal.reason);
    this.ignored(`token refused: ${refusal.reason}`);
    return undefined;
  }

  /** Why no token was taken when tokens did come: the device clock, or their issuers; undefined otherwise. */
  refusalError(timeoutMs: number): C8yTokenError | undefined {
    if (this.expiredIssuedAt.length > 0 && this.expiredIssuedAt.length === this.refused) {
      return clockAheadError(timeoutMs, this.expiredIssuedAt);
    }
    if (this.refusedIssuers.size > 0)
      return issuerError(formatSeconds(timeoutMs), this.replyTopic, this.refusedIssuers);
    return undefined;
  }

  private ignored(reason: string): void {
    this.log(`ignored a message on ${this.replyTopic}: ${reason}`);
  }
}

/**
 * Every reply was a token that had expired by the device's clock although it was valid when issued: rather than stale
 * messages, a device clock that is ahead of the tenant's by more than the tokens' lifetime.
 */
function clockAheadError(timeoutMs: number, issuedAt: number[]): C8yTokenError {
  const now = Date.now();
  const latest = Math.max(...issuedAt);
  const times = [...new Set(issuedAt)].sort((a, b) => a - b).map(isoTime);
  const shown = times.length > 3 ? [...times.slice(0, 2), '…', times.at(-1)!] : times;
  return new C8yTokenError(
    'timeout',
    `no token received within ${formatSeconds(timeoutMs)}: every reply was a token that had expired by the device's ` +
      `clock (${new Date(now).toISOString()}), issued at ${shown.join(', ')}; ` +
      `the device clock may be ${describeClockOffset(latest * 1000 - now)} the tenant's`,
    { hint: TIME_SYNC_HINT },
  );
}

/** Tokens came, but only from issuers not taken: say which, so that a device with an unusual setup learns why. */
function issuerError(waited: string, replyTopic: string, refused: Map<string, string>): C8yTokenError {
  const [issuer, reason] = [...refused][0]!;
  const others = refused.size > 1 ? ` (and ${refused.size - 1} other issuer${refused.size > 2 ? 's' : ''})` : '';
  const url = /^[a-z]+:\/\//i.test(issuer) ? issuer : `https://${issuer}`;
  return new C8yTokenError(
    'timeout',
    `no token received within ${waited}: every token was refused, ${reason}${others}`,
    {
      hint: wording`if ${issuer} is where this device's requests belong, accept its tokens with {url} ${url} or C8Y_URL=${url}; else find out which local process publishes on ${replyTopic}`,
    },
  );
}
