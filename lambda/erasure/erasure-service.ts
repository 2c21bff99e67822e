import { randomUUID } from 'node:crypto';
import pMap from 'p-map';
import { IdempotencyConflictError } from '../errors';
import type { LogSink } from '../log';
import { requestFingerprint } from './fingerprint';
import { settlementFor } from './outcome';
import type { AuditStore, VerifikPort } from './ports';
import { buildRecord } from './record';
import type { ErasureInput, ErasureRecord, PersonState, StoredRequest } from './types';
import { isTerminal } from './types';

export interface ErasureServiceDeps {
  store: AuditStore;
  verifik: VerifikPort;
  /** Keyed hash of a subjectRef (HMAC-SHA256 with the pepper). */
  hashSubjectRef(subjectRef: string): Promise<string>;
  retentionDays: number;
  /** How many persons of one request are erased at once. */
  concurrency: number;
  /** How long a lease outlives the deadline, so an in-flight answer is never overtaken. */
  leaseMarginMs: number;
  now?: () => Date;
  newOwnerId?: () => string;
}

export interface Budget {
  /** Epoch ms: no Verifik call runs past it. */
  deadline: number;
}

const DAY_MS = 86_400_000;

export const INTERRUPTED_NOTE =
  'An earlier attempt was interrupted before its answer was recorded; Verifik may have deleted the person then.';
export const UNCERTAIN_NOTE =
  'An earlier attempt got no clear answer (timeout, dropped connection or 5xx); Verifik may have deleted the person then.';

export class ErasureService {
  private readonly now: () => Date;
  private readonly newOwnerId: () => string;

  constructor(private readonly deps: ErasureServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.newOwnerId = deps.newOwnerId ?? randomUUID;
  }

  /**
   * Records the request durably, then erases every person not yet terminal. A redelivery of the same
   * request returns what is recorded and only retries persons that are not terminal.
   */
  async submit(input: ErasureInput, budget: Budget, log: LogSink): Promise<ErasureRecord> {
    const request = await this.toStoredRequest(input);
    const created = await this.deps.store.createRequest(request);
    if (created.created) {
      log.info('erasure recorded', { persons: request.personIds.length });
      return buildRecord(request, await this.erasePersons(request, request.personIds, budget, log));
    }
    if (created.existing.fingerprint !== request.fingerprint) throw new IdempotencyConflictError(input.erasureId);
    log.info('erasure redelivered');
    return this.resume(input.erasureId, budget, log);
  }

  /** Retries every person of a recorded erasure that is not terminal; undefined when unknown. */
  async resume(erasureId: string, budget: Budget, log: LogSink): Promise<ErasureRecord> {
    const stored = await this.deps.store.getErasure(erasureId);
    if (!stored) throw new Error(`erasure ${erasureId} is not recorded`);
    const recorded = new Map(stored.persons.map((p) => [p.personId, p]));
    const open = stored.request.personIds.filter((id) => !isTerminal(recorded.get(id)?.outcome ?? 'pending'));
    const attempted = await this.erasePersons(stored.request, open, budget, log);
    for (const person of attempted) recorded.set(person.personId, person);
    return buildRecord(stored.request, [...recorded.values()]);
  }

  async get(erasureId: string): Promise<ErasureRecord | undefined> {
    const stored = await this.deps.store.getErasure(erasureId);
    return stored && buildRecord(stored.request, stored.persons);
  }

  private async erasePersons(
    request: StoredRequest,
    personIds: readonly string[],
    budget: Budget,
    log: LogSink,
  ): Promise<PersonState[]> {
    const owner = this.newOwnerId();
    return pMap(personIds, (personId) => this.erasePerson(request, personId, owner, budget, log), {
      concurrency: this.deps.concurrency,
    });
  }

  /** Claim, call Verifik, record: the only path by which an outcome is written. */
  private async erasePerson(
    request: StoredRequest,
    personId: string,
    owner: string,
    budget: Budget,
    log: LogSink,
  ): Promise<PersonState> {
    const { store, verifik, leaseMarginMs } = this.deps;
    const claim = await store.claimPerson(request.erasureId, personId, {
      owner,
      leaseUntil: budget.deadline + leaseMarginMs,
      now: this.now().getTime(),
      receivedAt: request.receivedAt,
      expiresAt: request.expiresAt,
    });
    if (!claim.claimed) return claim.person;

    const answer = await verifik.deletePerson(personId, budget);
    const settlement = settlementFor(answer, this.now());
    settlement.attempts += claim.person.attempts;
    if (answer.kind === 'not_found' && claim.interrupted) settlement.note = INTERRUPTED_NOTE;
    else if (answer.kind === 'not_found' && answer.uncertain) settlement.note = UNCERTAIN_NOTE;
    try {
      const person = await store.settlePerson(request.erasureId, personId, owner, settlement);
      log.info('person settled', { personId, outcome: person.outcome, vendorStatus: answer.status, attempts: person.attempts });
      return person;
    } catch (error) {
      // Verifik answered but the answer could not be recorded: the lease keeps the person pending and
      // the retry path will ask Verifik again. Nothing is reported that the audit trail does not hold.
      log.error('person outcome not recorded', { personId, vendorStatus: answer.status, error: errorName(error) });
      return { ...claim.person, outcome: 'pending', lastError: 'The outcome could not be recorded yet; it will be retried.' };
    }
  }

  private async toStoredRequest(input: ErasureInput): Promise<StoredRequest> {
    const receivedAt = this.now();
    const subjectRefHash = input.subjectRef === undefined ? undefined : await this.deps.hashSubjectRef(input.subjectRef);
    return {
      erasureId: input.erasureId,
      personIds: input.personIds,
      fingerprint: requestFingerprint({ ...input, subjectRefHash }),
      receivedAt: receivedAt.toISOString(),
      expiresAt: Math.floor((receivedAt.getTime() + this.deps.retentionDays * DAY_MS) / 1000),
      subjectRefHash,
      reason: input.reason,
      requestedBy: input.requestedBy,
    };
  }
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : typeof error);
