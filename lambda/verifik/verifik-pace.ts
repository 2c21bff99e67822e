import { setTimeout as sleep } from 'node:timers/promises';
import { TokenBucket } from 'limiter';

/**
 * Waits for the next slot to call Verifik: `true` once the call may go, `false` when the slot would
 * come after `deadline` (epoch ms), in which case nothing may be sent.
 */
export type VerifikPace = (deadline: number) => Promise<boolean>;

export interface PaceOptions {
  /** Calls a second at most, from this process, over any stretch longer than a burst. */
  ratePerSecond: number;
  /** Calls that may go at once after a quiet spell: the bucket's size. */
  burst: number;
  /** Ends the pace: every waiting call answers false (tests, and the local stack's shutdown). */
  signal?: AbortSignal;
}

/** The burst when none is given: a tenth of a second's worth, at least one call. */
export const defaultBurst = (ratePerSecond: number) => Math.max(1, Math.floor(ratePerSecond / 10));

/**
 * A client-side pace for Verifik, so bulk work arrives at the rate the operator's Verifik plan allows
 * instead of bouncing off 429s. A token bucket (the `limiter` package): it holds `burst` slots, and
 * refills at `ratePerSecond` from the time that has passed, not from timers firing, so a late timer
 * delays a call without costing the slots behind it. In any stretch of `t` seconds at most
 * `burst + ratePerSecond × t` calls go out.
 *
 * Callers are served in the order they asked. A caller whose slot would come after its deadline is
 * answered `false` at once and takes no slot; one whose deadline passes while it waits its turn is
 * answered `false` then, and its turn, when it comes, takes nothing either.
 */
export function verifikPace({ ratePerSecond, burst, signal }: PaceOptions): VerifikPace {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError('the Verifik rate must be above 0');
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError('the Verifik burst must be a whole number of at least 1');
  const bucket = new TokenBucket({ bucketSize: burst, tokensPerInterval: ratePerSecond, interval: 1000 });
  bucket.content = burst; // full at the start: the first burst goes at once

  const takeSlot = async (deadline: number): Promise<boolean> => {
    for (;;) {
      if (signal?.aborted || Date.now() >= deadline) return false;
      if (bucket.tryRemoveTokens(1)) return true;
      const wait = Math.ceil(bucket.getWaitTime(1));
      if (Date.now() + wait > deadline) return false;
      try {
        await sleep(Math.max(1, wait), undefined, { signal });
      } catch {
        return false; // the pace ended
      }
    }
  };

  let queue: Promise<unknown> = Promise.resolve();
  return async (deadline) => {
    const wait = deadline - Date.now();
    if (wait <= 0) return false;
    const turn = queue.then(() => takeSlot(deadline));
    queue = turn;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), wait);
    });
    try {
      return await Promise.race([turn, late]);
    } finally {
      clearTimeout(timer);
    }
  };
}
