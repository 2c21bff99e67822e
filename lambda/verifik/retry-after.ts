/** The longest wait a `Retry-After` header may ask for; a longer or malformed one counts as this. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Milliseconds a `Retry-After` header asks to wait (delta-seconds or HTTP-date), capped at one hour.
 * Absent: undefined. Present but malformed: one hour, so no answer can park a person for long or
 * make the next attempt's time unrepresentable.
 */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const trimmed = header.trim();
  let wait: number;
  if (/^\d+$/.test(trimmed)) wait = Number(trimmed) * 1000;
  else if (/[a-z]/i.test(trimmed)) wait = Date.parse(trimmed) - now;
  else wait = Number.NaN;
  if (!Number.isFinite(wait)) return MAX_RETRY_AFTER_MS;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, wait));
}
