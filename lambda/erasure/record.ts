import type { CallbackDelivery, CallbackState, ErasureRecord, ErasureStatus, PersonState, StoredRequest } from './types';

/** A person named by the request whose item does not exist yet has not been attempted. */
export const notYetAttempted = (personId: string): PersonState => ({ personId, outcome: 'pending', attempts: 0 });

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
  const completedAt =
    status === 'pending' ? undefined : ordered.map((p) => p.completedAt ?? '').reduce((a, b) => (a > b ? a : b), '') || undefined;
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
