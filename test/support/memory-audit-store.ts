import type {
  AuditStore,
  CallbackStore,
  Claim,
  ClaimResult,
  ExtensionResult,
  FirstSettlement,
  PersonErasureRef,
  Settlement,
} from '../../lambda/erasure/ports';
import { dueDateFor } from '../../lambda/erasure/statutory-clock';
import type { CallbackDelivery, PersonState, StoredRequest } from '../../lambda/erasure/types';
import { StorageUnavailableError } from '../../lambda/errors';

interface PersonItem extends PersonState {
  erasureId: string;
  receivedAt: string;
  leaseOwner?: string;
  leaseUntil?: number;
}

/**
 * The AuditStore in memory, for the domain tests. test/audit/audit-store-contract.test.ts runs the
 * same tests against it and the DynamoDB store; it answers in the same shapes and orders too.
 */
export class MemoryAuditStore implements AuditStore, CallbackStore {
  readonly requests = new Map<string, StoredRequest>();
  readonly persons = new Map<string, PersonItem>();
  writes = 0;

  async createRequest(request: StoredRequest) {
    this.writes += 1;
    const existing = this.requests.get(request.erasureId);
    if (existing) return { created: false, existing: toRequest(existing) } as const;
    this.requests.set(request.erasureId, structuredClone(request));
    return { created: true } as const;
  }

  async releaseHold(erasureId: string, heldUntil: number): Promise<boolean> {
    this.writes += 1;
    const request = this.requests.get(erasureId);
    if (!request || request.heldUntil !== heldUntil) return false;
    const { heldUntil: _released, ...rest } = request;
    this.requests.set(erasureId, rest);
    return true;
  }

  async claimPerson(erasureId: string, personId: string, claim: Claim): Promise<ClaimResult> {
    this.writes += 1;
    const key = personKey(erasureId, personId);
    const item = this.persons.get(key);
    if (item && (item.outcome !== 'pending' || (item.leaseUntil !== undefined && item.leaseUntil >= claim.now))) {
      return { claimed: false, person: toPerson(item) };
    }
    if (!item && claim.heldUntil !== undefined && claim.now < claim.heldUntil) {
      // Held by the invocation that recorded the request.
      return { claimed: false, person: { personId, outcome: 'pending', attempts: 0, leaseUntil: claim.heldUntil } };
    }
    const next: PersonItem = item ?? { erasureId, personId, outcome: 'pending', attempts: 0, receivedAt: claim.receivedAt };
    this.persons.set(key, { ...next, receivedAt: claim.receivedAt, leaseOwner: claim.owner, leaseUntil: claim.leaseUntil });
    // Like DynamoDB's ALL_OLD: the person as it stood, or only what a new item starts with.
    const person = item ? toPerson(item) : { personId, outcome: 'pending' as const, attempts: 0 };
    return { claimed: true, person, interrupted: item ? item.leaseUntil !== undefined : claim.heldUntil !== undefined };
  }

  async settlePerson(
    erasureId: string,
    personId: string,
    owner: string,
    settlement: Settlement,
    first?: FirstSettlement,
  ): Promise<PersonState> {
    this.writes += 1;
    const key = personKey(erasureId, personId);
    const found = this.persons.get(key);
    const terminal = settlement.outcome !== 'pending';
    if (found && first && !terminal) return toPerson(found);
    // DynamoDB's condition fails on a missing item and the store finds nothing to return.
    if (!found && !first) throw new StorageUnavailableError(new Error('settling a person that was never claimed'));
    const item: PersonItem = found ?? { erasureId, personId, outcome: 'pending', attempts: 0, receivedAt: first!.receivedAt };
    if (item.outcome !== 'pending' || (!terminal && !first && item.leaseOwner !== owner)) return toPerson(item);
    const { updatedAt: _updatedAt, ...fields } = settlement;
    const next: PersonItem = { ...item, ...definedOnly(fields) };
    delete next.leaseOwner;
    delete next.leaseUntil;
    if (terminal) delete next.retryAfter;
    if ((settlement.outcome === 'erased' || settlement.outcome === 'already_erased') && settlement.lastError === undefined)
      delete next.lastError;
    this.persons.set(key, next);
    return toPerson(next);
  }

  async advanceRetryStep(erasureId: string, from: string | undefined, to: string): Promise<boolean> {
    this.writes += 1;
    const request = this.requests.get(erasureId);
    if (!request || (request.retryStep !== from && request.retryStep !== to)) return false;
    this.requests.set(erasureId, { ...request, retryStep: to });
    return true;
  }

  async reopenPerson(erasureId: string, personId: string, note: string, _at: string): Promise<boolean> {
    this.writes += 1;
    const key = personKey(erasureId, personId);
    const item = this.persons.get(key);
    if (!item || item.outcome !== 'failed' || item.exhausted !== true) return false;
    const { exhausted: _e, completedAt: _c, ...rest } = item;
    this.persons.set(key, { ...rest, outcome: 'pending', note });
    return true;
  }

  async getErasure(erasureId: string) {
    const request = this.requests.get(erasureId);
    if (!request) return undefined;
    // One Query on the partition: persons in sort-key order.
    const persons = [...this.persons.values()]
      .filter((p) => p.erasureId === erasureId)
      .sort((a, b) => byKey(a.personId, b.personId))
      .map(toPerson);
    return { request: toRequest(request), persons };
  }

  async erasuresForPerson(personId: string, { limit = 100 } = {}): Promise<PersonErasureRef[]> {
    // The byPerson index: sorted on `<receivedAt>#<erasureId>`, newest first, at most `limit`.
    return [...this.persons.values()]
      .filter((p) => p.personId === personId)
      .sort((a, b) => byKey(`${b.receivedAt}#${b.erasureId}`, `${a.receivedAt}#${a.erasureId}`))
      .slice(0, limit)
      .map((p) => ({ erasureId: p.erasureId, receivedAt: p.receivedAt, person: toPerson(p) }));
  }

  async *requestPagesReceivedBetween(from: Date, to: Date, { pageSize = 100 } = {}): AsyncGenerator<StoredRequest[]> {
    const all = await this.requestsReceivedBetween(from, to);
    for (let at = 0; at < all.length; at += pageSize) yield all.slice(at, at + pageSize);
  }

  async extendDueDate(erasureId: string, change: Parameters<AuditStore['extendDueDate']>[1]): Promise<ExtensionResult> {
    this.writes += 1;
    const request = this.requests.get(erasureId);
    if (!request || request.extension) return { granted: false, request: request && toRequest(request) };
    const next = {
      ...request,
      dueAt: request.dueAt ?? change.dueAt,
      extendedDueAt: change.extendedDueAt,
      extension: change.extension,
    };
    this.requests.set(erasureId, structuredClone(next));
    return { granted: true, request: toRequest(next) };
  }

  async markCallbackEnqueued(erasureId: string, eventId: string): Promise<boolean> {
    this.writes += 1;
    const request = this.requests.get(erasureId);
    if (!request || request.callbackEventId === eventId) return false;
    this.requests.set(erasureId, { ...request, callbackEventId: eventId });
    return true;
  }

  async recordCallbackDelivery(erasureId: string, delivery: CallbackDelivery, previousAttempts: readonly number[]) {
    this.writes += 1;
    const request = this.requests.get(erasureId);
    const recorded = request?.callbackDelivery;
    const sameEvent = recorded?.eventId === delivery.eventId;
    if (!request || (sameEvent && (!previousAttempts.includes(recorded.attempts) || recorded.deliveredAt !== undefined))) {
      return false;
    }
    this.requests.set(erasureId, { ...request, callbackDelivery: structuredClone(delivery) });
    return true;
  }

  async requestsReceivedBetween(from: Date, to: Date): Promise<StoredRequest[]> {
    // The byReceivedAt index: sorted on `<receivedAt>#<erasureId>`, oldest first.
    return [...this.requests.values()]
      .filter((r) => r.receivedAt >= from.toISOString() && r.receivedAt < to.toISOString())
      .sort((a, b) => byKey(`${a.receivedAt}#${a.erasureId}`, `${b.receivedAt}#${b.erasureId}`))
      .map(toRequest);
  }
}

const personKey = (erasureId: string, personId: string) => `${erasureId}/${personId}`;

/** DynamoDB compares string keys by their bytes, not by locale. */
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The request as DynamoAuditStore reads it back: every field named, unknown ones dropped. */
function toRequest(request: StoredRequest): StoredRequest {
  return structuredClone({
    erasureId: request.erasureId,
    personIds: request.personIds ?? [],
    fingerprint: request.fingerprint,
    receivedAt: request.receivedAt,
    dueAt: request.dueAt ?? dueDateFor(request.receivedAt),
    extendedDueAt: request.extendedDueAt,
    extension: request.extension,
    expiresAt: request.expiresAt,
    subjectRefHash: request.subjectRefHash,
    reason: request.reason,
    requestedBy: request.requestedBy,
    apiRequestId: request.apiRequestId,
    retryStep: request.retryStep,
    heldUntil: request.heldUntil,
    callbackUrl: request.callbackUrl,
    callbackEventId: request.callbackEventId,
    callbackDelivery: request.callbackDelivery,
  });
}

/** The person as DynamoAuditStore reads it back: every field named, the flags only when true. */
function toPerson(item: PersonItem): PersonState {
  return structuredClone({
    personId: item.personId,
    outcome: item.outcome,
    attempts: item.attempts,
    vendorStatus: item.vendorStatus,
    lastError: item.lastError,
    completedAt: item.completedAt,
    evidence: item.evidence,
    retryAfter: item.retryAfter,
    note: item.note,
    exhausted: item.exhausted === true ? true : undefined,
    uncertain: item.uncertain === true ? true : undefined,
    deletedAt: item.deletedAt,
    verifiedAbsentAt: item.verifiedAbsentAt,
    verifyAttempts: item.verifyAttempts,
    leaseUntil: item.leaseUntil,
  });
}

const definedOnly = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
