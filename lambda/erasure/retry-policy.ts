/**
 * The durable retry schedule: the delay before each attempt on the retry queue, with ±20% jitter
 * so that persons failing together do not retry together. The default spans about 40 hours.
 */
export class RetryPolicy {
  static readonly DEFAULT_DELAYS_S = [60, 300, 900, 1_800, 3_600, 7_200, 14_400, 28_800, 43_200, 43_200];

  constructor(
    readonly delaysMs: readonly number[],
    private readonly random: () => number = Math.random,
  ) {
    if (delaysMs.length === 0 || delaysMs.some((d) => !Number.isFinite(d) || d < 0)) {
      throw new TypeError('RetryPolicy: the schedule needs at least one non-negative delay');
    }
  }

  /** How many attempts the retry queue makes before giving up. */
  get maxAttempts(): number {
    return this.delaysMs.length;
  }

  /** Delay before durable attempt `attempt` (0-based), jittered. */
  delayBefore(attempt: number): number {
    const base = this.delaysMs[Math.min(attempt, this.delaysMs.length - 1)]!;
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }
}
