import { createHash, createHmac } from 'node:crypto';

/** The keyed hash under which subjectRef is kept: answerable by whoever holds the pepper, by no one else. */
export const hashSubjectRef = (pepper: string, subjectRef: string): string =>
  createHmac('sha256', pepper).update(subjectRef, 'utf8').digest('hex');

/**
 * Identifies "the same request" for redelivery: the same set of ids and the same optional fields.
 * Built from the subjectRef's keyed hash, never from the subjectRef itself.
 */
export function requestFingerprint(fields: {
  personIds: readonly string[];
  subjectRefHash?: string;
  reason?: string;
  requestedBy?: string;
  callbackUrl?: string;
}): string {
  const canonical = JSON.stringify([
    [...fields.personIds].sort(),
    fields.subjectRefHash ?? null,
    fields.reason ?? null,
    fields.requestedBy ?? null,
    // Only when given, so that a request without one keeps the fingerprint it was recorded with.
    ...(fields.callbackUrl === undefined ? [] : [fields.callbackUrl]),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
