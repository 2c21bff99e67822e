import type { CallbackDelivery, CallbackState, ErasureRecord, ErasureStatus, PersonState, StoredRequest } from './types';

/** A person named by the request whose item does not exist yet has not been attempted. */
export const notYetAttempted = (personId: string): PersonState => ({ personId, outcome: 'pending', attempts: 0 });

/** The record of an erasure by subject that found no Verifik person linked to the subject. */
export const NO_LINKED_PERSON_NOTE =
  'No Verifik person was linked to this subject when the request was received: nothing was held at Verifik to erase.';

export function statusOf(persons: readonly PersonState[]): ErasureStatus {
  if (persons.some((p) => p.outcome === 'pending')) return 'pending';
  if (persons.some((p) => p.outcome === 'failed')) return 'failed';
  return 'completed';
}

/** Builds the record callers see, persons in the order the request named them. */
export function buildRecord(request: StoredRequest, persons: readonly PersonState[]): ErasureRecord {
  const byId = new Map(persons.map((p) => [p.personId, p]));
  const ordered = request.personIds.map((id) => byId.get(id) ?? notYetAttempted(id));
  const status = statusOf(ordered);
  // An erasure with no person (a subject nothing was linked to) is complete when it is received.
  const completedAt =
    status === 'pending'
      ? undefined
      : ordered.length === 0
        ? request.receivedAt
        : ordered.map((p) => p.completedAt ?? '').reduce((a, b) => (a > b ? a : b), '') || undefined;
  return omitUndefined({
    erasureId: request.erasureId,
    status,
    receivedAt: request.receivedAt,
    dueAt: request.dueAt,
    extendedDueAt: request.extendedDueAt,
    extension: request.extension,
    completedAt,
    requestedBy: request.requestedBy,
    reason: request.reason,
    subject: request.subject && { source: request.subject.source, linkedPersonIds: request.subject.linkedPersonIds },
    note: ordered.length === 0 && request.subject ? NO_LINKED_PERSON_NOTE : undefined,
    persons: ordered.map(({ uncertain: _uncertain, leaseUntil: _lease, ...p }) => omitUndefined(p)),
    callback: request.callbackUrl === undefined ? undefined : callbackState(request.callbackUrl, request.callbackDelivery),
  });
}

function callbackState(url: string, delivery: CallbackDelivery | undefined): CallbackState {
  return omitUndefined({ url, ...delivery, attempts: delivery?.attempts ?? 0 });
}

function omitUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
