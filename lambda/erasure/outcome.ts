import type { Settlement, VendorAnswer } from './ports';

/**
 * Turns Verifik's answer into what the audit trail records, exactly as docs/api.md's table says.
 * Only a 2xx is `erased`; a 404 is `already_erased`; 401/403 and transient failures stay pending.
 */
export function settlementFor(answer: VendorAnswer, now: Date): Settlement {
  const at = now.toISOString();
  const base = { attempts: answer.attempts, vendorStatus: answer.status, updatedAt: at };
  switch (answer.kind) {
    case 'deleted':
      return { ...base, outcome: 'erased', completedAt: at, evidence: answer.evidence };
    case 'not_found':
      return { ...base, outcome: 'already_erased', completedAt: at };
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
