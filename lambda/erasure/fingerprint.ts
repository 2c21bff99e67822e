import { createHash, createHmac } from 'node:crypto';

/** The keyed hash under which subjectRef is kept: answerable by whoever holds the pepper, by no one else. */
export const hashSubjectRef = (pepper: string, subjectRef: string): string =>
  createHmac('sha256', pepper).update(subjectRef, 'utf8').digest('hex');

/** The keyed hash under which a subject (`source`, `id`) is kept: `source:id`, like subjectRef's. */
export const hashSubject = (pepper: string, subject: { source: string; id: string }): string =>
  hashSubjectRef(pepper, `${subject.source}:${subject.id}`);

/**
 * Identifies "the same request" for redelivery: the same set of ids and the same optional fields.
 * Built from the subjectRef's keyed hash, never from the subjectRef itself. An erasure by subject
 * adds the subject's hash and the persons its links gave when the request was first received: a
 * redelivery is compared with the persons recorded then (never resolved again), so a link added
 * since changes neither the answer nor the erasure. Without a subject the fingerprint is what it was
 * before subjects existed, so requests recorded earlier still match their redeliveries.
 */
export function requestFingerprint(fields: {
  /** The ids the caller named (not those resolved from a subject). */
  personIds: readonly string[];
  subjectRefHash?: string;
  reason?: string;
  requestedBy?: string;
  subject?: { hash: string; linkedPersonIds: readonly string[] };
  callbackUrl?: string;
}): string {
  const canonical = JSON.stringify([
    [...fields.personIds].sort(),
    fields.subjectRefHash ?? null,
    fields.reason ?? null,
    fields.requestedBy ?? null,
    ...(fields.subject ? [fields.subject.hash, [...fields.subject.linkedPersonIds].sort()] : []),
    // Only when given, so that a request without one keeps the fingerprint it was recorded with.
    ...(fields.callbackUrl === undefined ? [] : [fields.callbackUrl]),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
