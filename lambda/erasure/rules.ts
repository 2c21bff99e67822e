/** The contract's limits on what a caller may ask for (docs/api.md). */

/** A person id as Verifik accepts it; anything else never leaves the service. */
export const PERSON_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** What an erasure id (the webhook-id, Idempotency-Key or erasureId field) may look like. */
export const ERASURE_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Where a subject's id comes from (`hubspot`, `zendesk`, `portal`…). */
export const SUBJECT_SOURCE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** A CRM's own id of a subject: 1 to 128 printable characters (no control character, well-formed Unicode). */
export const SUBJECT_ID_PATTERN = /^[^\p{Cc}\p{Cs}]{1,128}$/u;
export const isSubjectId = (value: string): boolean => value.isWellFormed() && SUBJECT_ID_PATTERN.test(value);
/** Distinct person ids in one request. */
export const MAX_PERSONS = 100;
/** subjectRef, reason and requestedBy, in UTF-16 code units. */
export const MAX_TEXT_LENGTH = 256;
/** A request body (or a direct invocation's event, as JSON). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The deadline for calling Verifik in one invocation: `reserveMs` of the remaining time is kept for
 * recording outcomes and answering, and a request (not the worker) stops after `inlineBudgetMs`.
 */
export function deadlineWithin(
  remainingMs: number,
  { reserveMs, inlineBudgetMs = Number.POSITIVE_INFINITY }: { reserveMs: number; inlineBudgetMs?: number },
  now = Date.now(),
): number {
  return now + Math.max(0, Math.min(inlineBudgetMs, remainingMs - reserveMs));
}
