import pThrottle from 'p-throttle';

/**
 * Waits for the next slot to call Verifik: `true` once the call may go, `false` when the slot would
 * come after `deadline` (epoch ms), in which case nothing may be sent.
 */
export type VerifikPace = (deadline: number) => Promise<boolean>;

export interface PaceOptions {
  /** Calls a second at most, from this process. */
  ratePerSecond: number;
  /** Calls at most in any window of `burst / ratePerSecond` seconds. */
  burst: number;
  /** Ends the pace: every waiting call answers false (tests, and the local stack's shutdown). */
  signal?: AbortSignal;
}

/** The burst when none is given: a tenth of a second's worth, at least one call. */
export const defaultBurst = (ratePerSecond: number) => Math.max(1, Math.floor(ratePerSecond / 10));

/**
 * A client-side pace for Verifik (p-throttle, strict: no window of `burst / rate` seconds ever holds
 * more than `burst` calls), so bulk work arrives at the rate the operator's Verifik plan allows
 * instead of bouncing off 429s. A caller that gives up at its deadline leaves its queued slot to run
 * empty: the pace errs on the slow side, never the fast one.
 */
export function verifikPace({ ratePerSecond, burst, signal }: PaceOptions): VerifikPace {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError('the Verifik rate must be above 0');
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError('the Verifik burst must be a whole number of at least 1');
  const interval = Math.max(1, Math.round((1000 * burst) / ratePerSecond));
  const slot = pThrottle({ limit: burst, interval, strict: true, signal })(async () => true);
  return async (deadline) => {
    const wait = deadline - Date.now();
    if (wait <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), wait);
    });
    try {
      // Aborted (the pace ended): no slot. Caught here, as the race may be long settled when it rejects.
      return await Promise.race([slot().catch(() => false), late]);
    } finally {
      clearTimeout(timer);
    }
  };
}
