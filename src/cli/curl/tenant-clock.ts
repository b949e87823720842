import type { Exchange } from '../../core/http/send.ts';
import { clockWarning, dateHeaderOffset, describeClockOffset } from '../../core/token/clock.ts';

/**
 * Compares the tenant's clock (the first answer's `Date` header) with the device's. The token's `iat` already gave
 * the offset when the token came from the bridge; the header also tells it for a cached token, whose offset was
 * measured when it arrived and may no longer hold (time sync may have set the clock since). An offset beyond a minute
 * goes to `warn` (one warning per run: the caller passes the one the token's warning went to), and -v shows either way.
 */
export function tenantClockCheck(
  warn: (line: string) => void,
  trace: ((line: string) => void) | undefined,
): (exchange: Exchange) => void {
  let checked = false;
  return (exchange) => {
    if (checked) return;
    checked = true;
    const date = exchange.headers.date;
    const offset = dateHeaderOffset(date, Date.now());
    if (offset === undefined) {
      trace?.("* the answer has no Date header: the device clock is not compared with the tenant's");
      return;
    }
    const agreement = offset === 0 ? 'within a minute of' : describeClockOffset(offset);
    trace?.(`* the tenant's Date (${date}) puts the device clock ${agreement} the tenant's`);
    if (offset !== 0) warn(clockWarning(offset, "by the tenant's Date header"));
  };
}
