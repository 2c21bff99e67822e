import type { PresenceAnswer, Settlement, VendorAnswer } from './ports';

/**
 * Turns Verifik's answer into what the audit trail records, exactly as docs/api.md's table says.
 * Only a 2xx is `erased`; a 404 is `already_erased`; 401/403 and transient failures stay pending.
 */
export function settlementFor(answer: VendorAnswer, now: Date): Settlement {
  const at = now.toISOString();
  const base = { attempts: answer.attempts, vendorStatus: answer.status, updatedAt: at };
  switch (answer.kind) {
    case 'deleted':
      return { ...base, outcome: 'erased', completedAt: at, deletedAt: at, evidence: answer.evidence };
    case 'not_found':
      // Verifik's own "no such person" is the same proof of absence the GET after a delete looks for.
      return { ...base, outcome: 'already_erased', completedAt: at, verifiedAbsentAt: at };
    case 'rejected':
      return { ...base, outcome: 'failed', completedAt: at, lastError: answer.message };
    case 'unauthorized':
      return { ...base, outcome: 'pending', lastError: answer.message };
    case 'transient':
      return {
        ...base,
        outcome: 'pending',
        lastError: answer.message,
        uncertain: answer.uncertain || undefined,
        retryAfter: answer.retryAfterMs === undefined ? undefined : new Date(now.getTime() + answer.retryAfterMs).toISOString(),
      };
  }
}

/** The code `lastError` starts with when Verifik still returns a person it said it deleted. */
export const STILL_PRESENT = 'STILL_PRESENT';
/** What `lastError` starts with while a deleted person's absence is not yet verified. */
export const AWAITING_VERIFICATION = 'Deleted at Verifik; its absence is not yet verified';

/**
 * What the GET after a delete makes of it: a 404 PERSON_NOT_FOUND makes the person `erased`, with
 * `verifiedAbsentAt`; a 2xx makes it `failed` (Verifik still holds it); anything else leaves it
 * pending, deleted but unverified, for the retry path to verify. `verifyAttempts`: GETs before this one.
 */
export function verificationSettlement(
  presence: PresenceAnswer,
  deletion: { attempts: number; verifyAttempts?: number },
  now: Date,
): Settlement {
  const at = now.toISOString();
  const base = { attempts: deletion.attempts, verifyAttempts: (deletion.verifyAttempts ?? 0) + presence.attempts, updatedAt: at };
  switch (presence.kind) {
    case 'absent':
      return { ...base, outcome: 'erased', completedAt: at, verifiedAbsentAt: at };
    case 'present':
      return {
        ...base,
        outcome: 'failed',
        completedAt: at,
        lastError: `${STILL_PRESENT}: Verifik accepted the delete but still returns the person (GET answered ${presence.status})`,
      };
    case 'unclear':
      return {
        ...base,
        outcome: 'pending',
        lastError: `${AWAITING_VERIFICATION}: ${presence.message}`,
        retryAfter:
          presence.retryAfterMs === undefined ? undefined : new Date(now.getTime() + presence.retryAfterMs).toISOString(),
      };
  }
}
