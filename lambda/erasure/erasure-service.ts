import { randomUUID } from 'node:crypto';
import pMap from 'p-map';
import {
  ExtensionRefusedError,
  IdempotencyConflictError,
  InvalidRequestError,
  NotFoundError,
  StorageUnavailableError,
  errorName,
} from '../errors';
import type { SubjectStore } from '../subjects/subject-store';
import type { LogSink } from '../log';
import { requestFingerprint } from './fingerprint';
import { settlementFor, verificationSettlement } from './outcome';
import { callbackEventIdOf, isTerminalRecord } from '../callbacks/callback-event';
import type {
  AuditStore,
  CallbackQueue,
  ErasureMetrics,
  FirstSettlement,
  PresenceAnswer,
  RetryMessage,
  RetryQueue,
  Settlement,
  VendorAnswer,
  VerifikPort,
} from './ports';
import { buildRecord, notYetAttempted } from './record';
import type { RetryPolicy } from './retry-policy';
import { MAX_PERSONS } from './rules';
import { STATUTORY_MONTHS, addCalendarMonths, dueDateFor, type ExtensionMonths } from './statutory-clock';
import type { ErasureInput, ErasureRecord, PersonState, StoredRequest, StoredSubject, SubjectRef } from './types';
import { isTerminal } from './types';

export interface ErasureServiceDeps {
  store: AuditStore;
  verifik: VerifikPort;
  retryQueue: RetryQueue;
  retryPolicy: RetryPolicy;
  /** Where a terminal erasure that names a callbackUrl is announced; absent where none is configured. */
  callbacks?: CallbackQueue;
  metrics?: ErasureMetrics;
  /** Keyed hash of a subjectRef (HMAC-SHA256 with the pepper); absent where nothing is submitted (the worker). */
  hashSubjectRef?(subjectRef: string): Promise<string>;
  /** Subject links, for an erasure by subject (hashed like subjectRef, as `source:id`); absent in the worker. */
  subjects?: SubjectStore;
  retentionDays: number;
  /** How many persons of one request are erased at once. */
  concurrency: number;
  /** How long a lease outlives the deadline, so an in-flight answer is never overtaken. */
  leaseMarginMs: number;
  /**
   * A redelivery calls Verifik at once only for persons with fewer attempts than this; past it only the
   * retry chain does, so replaying a request cannot multiply the calls to Verifik.
   */
  redeliveryAttemptCap?: number;
  /**
   * After every 2xx DELETE, read the person back (GET) and record the erasure only once Verifik
   * answers 404 (docs/lifecycle.md, "Verified absence"). Default true.
   */
  verifyAfterDelete?: boolean;
  now?: () => Date;
  newOwnerId?: () => string;
}

export interface Budget {
  /** Epoch ms: no Verifik call runs past it. */
  deadline: number;
}

/** How one pass over an erasure's open persons goes. */
interface ErasingHow {
  /** Persons with this many calls to Verifik or more are left to the retry chain (a redelivery). */
  attemptCap?: number;
  /** This invocation recorded the request and holds its persons with it: those with no item are not claimed. */
  holder?: boolean;
}

/** What the worker did with one retry message. */
export type RetryResult =
  | { kind: 'unknown_erasure' }
  /** The message is not the chain's current step (armed by a redelivery, or a duplicate): dropped. */
  | { kind: 'stale' }
  | { kind: 'done'; record: ErasureRecord }
  | { kind: 'deferred'; until: number }
  | { kind: 'rescheduled'; record: ErasureRecord; attempt: number }
  | { kind: 'dead_lettered'; record: ErasureRecord };

const DAY_MS = 86_400_000;
/**
 * The step a request is recorded at. Every delivery's first message follows it (`after`), so the first
 * of them to arrive takes the chain over from it and the others are dropped as stale.
 */
export const FIRST_STEP = 'received';
/** A retry message that arrives this close to its time is worked on, not deferred again. */
const DEFER_TOLERANCE_MS = 1_000;

export const INTERRUPTED_NOTE =
  'An earlier attempt was interrupted before its answer was recorded; Verifik may have deleted the person then.';
export const UNCERTAIN_NOTE =
  'An earlier attempt got no clear answer (timeout, dropped connection or 5xx); Verifik may have deleted the person then.';

/** Enough for a redelivery to finish what an interrupted first delivery started, not enough to flood Verifik. */
const DEFAULT_REDELIVERY_ATTEMPT_CAP = 10;

const METRIC_FOR_OUTCOME = { erased: 'Erased', already_erased: 'AlreadyErased', failed: 'Failed', pending: 'Pending' } as const;
const noMetrics: ErasureMetrics = { count() {}, pendingAge() {} };

export class ErasureService {
  private readonly now: () => Date;
  private readonly newOwnerId: () => string;
  private readonly newStepId: () => string;
  private readonly metrics: ErasureMetrics;
  private readonly verifyAfterDelete: boolean;

  constructor(private readonly deps: ErasureServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.verifyAfterDelete = deps.verifyAfterDelete ?? true;
    this.newOwnerId = deps.newOwnerId ?? randomUUID;
    this.newStepId = randomUUID;
    this.metrics = deps.metrics ?? noMetrics;
  }

  /**
   * Records the request durably and puts it on the retry path, then erases every person not yet
   * terminal. A redelivery of the same request returns what is recorded and only retries persons
   * that are not terminal.
   */
  async submit(input: ErasureInput, budget: Budget, log: LogSink): Promise<ErasureRecord> {
    // The persons are held with the request itself, so the first attempt needs no claim of its own.
    const received = await this.receive(input, log, this.leaseUntil(budget));
    const how = received.created
      ? { holder: true }
      : { attemptCap: this.deps.redeliveryAttemptCap ?? DEFAULT_REDELIVERY_ATTEMPT_CAP };
    const record = await this.eraseOpenPersons(received.request, received.persons, budget, log, how);
    return this.announceOnRequestPath(received.request, record, log);
  }

  /**
   * Records the request durably and puts it on the retry path like `submit`, without calling Verifik:
   * the retry worker erases its persons (a CRM hook that must answer within seconds).
   */
  async record(input: ErasureInput, log: LogSink): Promise<ErasureRecord> {
    const received = await this.receive(input, log);
    // Terminal at once only when no person is named (a subject with no links): announced like any other.
    return this.announceOnRequestPath(received.request, buildRecord(received.request, received.persons), log);
  }

  /**
   * Arms the retry chain and records the request (or finds the one recorded) at once, then marks the
   * subject's links with it. A redelivery is the same request when it asks for the same, with the
   * persons resolved from a subject when it was first received (they are never resolved again).
   */
  private async receive(input: ErasureInput, log: LogSink, heldUntil?: number) {
    const request = await this.toStoredRequest(input, heldUntil);
    // Both stored before Verifik is called: if this invocation dies after that, the retry worker
    // still finds every person that is not terminal (and lets go of an erasure never recorded).
    // Every delivery arms a first message that follows the step a request is recorded at; the first
    // of them to arrive starts the chain, the others are dropped. So a delivery that recorded the
    // request but could not arm its message (it answers 5xx) is re-armed by the caller's redelivery.
    const [armed, recorded] = await Promise.allSettled([
      this.deps.retryQueue.schedule(this.firstRetry(input.erasureId)),
      this.deps.store.createRequest(request),
    ]);
    if (recorded.status === 'rejected') throw recorded.reason;
    const created = recorded.value;
    if (!created.created && created.existing.fingerprint !== fingerprintAgainst(input, request, created.existing)) {
      throw new IdempotencyConflictError(input.erasureId);
    }
    const stored = created.created ? { request, persons: [] } : await this.load(input.erasureId);
    // The links are marked even when the chain could not be armed: the request is recorded, and the
    // sweep that arms its chain later does not come back to them.
    const linked = await settled(this.markLinks(stored.request));
    if (armed.status === 'rejected') {
      // Nothing is sent to Verifik: say so in the request, so that nobody later takes its persons for
      // interrupted attempts. A redelivery, or the hourly sweep, arms the chain.
      const released = created.created && heldUntil !== undefined && (await this.releaseHold(request.erasureId, heldUntil));
      log.error('retry chain not armed; a redelivery or the hourly sweep arms it', {
        recorded: created.created,
        released,
        error: errorName(armed.reason),
      });
      throw armed.reason;
    }
    if (linked.status === 'rejected') throw linked.reason;
    log.info(created.created ? 'erasure recorded' : 'erasure redelivered', {
      persons: stored.request.personIds.length,
      ...(stored.request.subject && { subjectSource: stored.request.subject.source }),
    });
    return { created: created.created, request: stored.request, persons: stored.persons };
  }

  private async markLinks(request: StoredRequest): Promise<void> {
    if (!request.subject || !this.deps.subjects) return;
    const { hash, linkedPersonIds } = request.subject;
    await this.deps.subjects.markLinks(hash, linkedPersonIds, request.erasureId, request.expiresAt);
  }

  /** Ends this invocation's hold on a request it recorded; false when that could not be written (the hold then runs out). */
  private async releaseHold(erasureId: string, heldUntil: number): Promise<boolean> {
    try {
      return await this.deps.store.releaseHold(erasureId, heldUntil);
    } catch {
      return false;
    }
  }

  async get(erasureId: string): Promise<ErasureRecord | undefined> {
    const stored = await this.deps.store.getErasure(erasureId);
    return stored && buildRecord(stored.request, stored.persons);
  }

  /**
   * The erasure's one extension of its due date (GDPR art. 12(3)): `months` further months from
   * receipt, asked before `dueAt`, with its reason. The same extension asked again (a retried call)
   * answers the record as it stands; any other second extension, or one on or after `dueAt`, is refused.
   */
  async extend(erasureId: string, asked: { months: ExtensionMonths; reason: string }, log: LogSink): Promise<ErasureRecord> {
    const stored = await this.deps.store.getErasure(erasureId);
    if (!stored) throw new NotFoundError();
    const { request } = stored;
    const now = this.now();
    const refuseOrRepeat = (current: StoredRequest) => {
      const repeated = current.extension?.months === asked.months && current.extension.reason === asked.reason;
      if (repeated) return buildRecord(current, stored.persons);
      log.warn('extension refused: the erasure was extended already');
      throw new ExtensionRefusedError('already_extended', 'This erasure was extended already; it can be extended only once.');
    };
    if (request.extension) return refuseOrRepeat(request);
    if (now.getTime() >= Date.parse(request.dueAt)) {
      log.warn('extension refused: past the due date', { dueAt: request.dueAt });
      throw new ExtensionRefusedError('past_due', `The due date (${request.dueAt}) has passed; it can no longer be extended.`);
    }
    const extendedDueAt = addCalendarMonths(request.receivedAt, STATUTORY_MONTHS + asked.months);
    const result = await this.deps.store.extendDueDate(erasureId, {
      dueAt: request.dueAt,
      extendedDueAt,
      extension: { months: asked.months, reason: asked.reason, requestedAt: now.toISOString() },
    });
    if (!result.granted) {
      if (!result.request) throw new StorageUnavailableError(new Error('a recorded erasure could not be read back'));
      return refuseOrRepeat(result.request);
    }
    log.info('due date extended', { months: asked.months, extendedDueAt });
    return buildRecord(result.request, stored.persons);
  }

  /**
   * One message from the retry queue: retries the erasure's open persons, then schedules the next
   * attempt, or gives up (persons `failed`, message to the dead-letter queue) when the schedule has
   * run out. A message redriven from the dead-letter queue reopens the persons it gave up on.
   */
  async retry(message: RetryMessage, budget: Budget, log: LogSink): Promise<RetryResult> {
    const { store, retryQueue, retryPolicy } = this.deps;
    const stored = await store.getErasure(message.erasureId);
    if (!stored) {
      // The message is armed before the request is recorded: the recording may still be under way,
      // or may have failed (then the caller got a 5xx). Look again on the schedule, then let go.
      // Counted apart from the schedule, so that the message, should it start the chain after all, starts it at its beginning.
      const lookups = (message.lookups ?? 0) + 1;
      if (lookups < retryPolicy.maxAttempts) {
        await retryQueue.schedule({ ...message, lookups, notBefore: this.now().getTime() + retryPolicy.delayBefore(lookups) });
      }
      log.warn('retry for an erasure that is not recorded', {
        lookups: message.lookups ?? 0,
        lookAgain: lookups < retryPolicy.maxAttempts,
      });
      return { kind: 'unknown_erasure' };
    }
    const redriven = isDeadLetter(message, retryPolicy.maxAttempts);
    if (
      !redriven &&
      message.step !== stored.request.retryStep &&
      message.after === stored.request.retryStep &&
      openPersons(stored.request, stored.persons).length === 0
    ) {
      // A message that would start the chain (or take the next step) finds nothing open: nothing to move on.
      return this.done(stored.request, buildRecord(stored.request, stored.persons), log);
    }
    if (
      message.step !== stored.request.retryStep &&
      !(await this.takeOver(message, stored.request)) &&
      !(redriven && (await this.takeOverFinishedChain(message, stored.request, stored.persons)))
    ) {
      log.debug("retry message dropped: not the current step of the erasure's retry chain", { attempt: message.attempt });
      return { kind: 'stale' };
    }
    // A message that looked for its erasure before it was recorded is due now that it is, not when it would have looked again.
    let current: RetryMessage = message.lookups ? { ...message, lookups: undefined, notBefore: 0 } : message;
    let persons = stored.persons;
    if (redriven) {
      const reopened = await this.reopenExhausted(stored.request.erasureId, persons);
      log.info('erasure redriven from the dead-letter queue', { reopened });
      current = { ...message, attempt: 0, deadLettered: undefined, redrives: (message.redrives ?? 0) + 1 };
      persons = (await this.load(message.erasureId)).persons;
    }
    const open = openPersons(stored.request, persons);
    if (open.length === 0) return this.done(stored.request, buildRecord(stored.request, persons), log);
    if (current.final) {
      // The schedule had run out while another invocation held a person; its lease is over now.
      const pendingNow = stored.request.personIds
        .filter((id) => open.includes(id))
        .map((id) => persons.find((p) => p.personId === id) ?? notYetAttempted(id));
      return this.giveUp(
        current,
        { ...current, attempt: current.attempt + 1, final: undefined },
        stored.request,
        pendingNow,
        budget,
        log,
      );
    }
    this.metrics.pendingAge((this.now().getTime() - Date.parse(stored.request.receivedAt)) / 1000);

    const now = this.now().getTime();
    const askedFor = Math.max(0, ...open.map((id) => retryAfterOf(persons.find((p) => p.personId === id))));
    if (current.notBefore > now + DEFER_TOLERANCE_MS) {
      // A hop past SQS's 15-minute delay cap: the same attempt, later.
      await this.continueChain(current, { ...current }, log);
      return { kind: 'deferred', until: current.notBefore };
    }
    const recorded = new Set(persons.map((p) => p.personId));
    if (heldBySomeoneElse(stored.request, now) && open.every((id) => !recorded.has(id))) {
      // The invocation that recorded the request still holds every open person (a first message
      // earlier than the request path's end): back when the hold ends, no attempt used, nothing written.
      const until = stored.request.heldUntil! + DEFER_TOLERANCE_MS;
      await this.continueChain(current, { ...current, notBefore: until }, log);
      return { kind: 'deferred', until };
    }
    if (askedFor > now + DEFER_TOLERANCE_MS && current.attempt + 1 < retryPolicy.maxAttempts) {
      // Verifik asked for a pause (Retry-After, at most an hour): the wait uses up an attempt of the
      // schedule, so no answer can keep a person pending forever.
      await this.continueChain(current, { ...current, attempt: current.attempt + 1, notBefore: askedFor }, log);
      return { kind: 'deferred', until: askedFor };
    }

    this.metrics.count('Retries', open.length);
    const { record, persons: settledPersons } = await this.erasePersons(stored.request, persons, budget, log);
    const pending = settledPersons.filter((p) => p.outcome === 'pending');
    if (pending.length === 0) return this.done(stored.request, record, log);

    const attempt = current.attempt + 1;
    if (attempt < retryPolicy.maxAttempts) {
      const notBefore = Math.max(this.now().getTime() + retryPolicy.delayBefore(attempt), ...pending.map(retryAfterOf));
      await this.continueChain(current, { ...current, attempt, notBefore }, log);
      log.info('erasure retry scheduled', { attempt, pending: pending.length, notBefore: new Date(notBefore).toISOString() });
      return { kind: 'rescheduled', record, attempt };
    }
    return this.giveUp(current, { ...current, attempt }, stored.request, pending, budget, log);
  }

  /**
   * Sends the chain's next message, then makes it the current step. Sent first, so a death between the
   * two leaves the current message to come back (it was not acknowledged); the next message, if it
   * arrives first, moves the chain on itself (takeOver). Of two next messages sent by two deliveries
   * of the same message, the first to move the chain on wins and the other is dropped.
   */
  private async continueChain(current: RetryMessage, next: RetryMessage, log: LogSink) {
    const step = this.newStepId();
    await this.deps.retryQueue.schedule({ ...next, step, after: current.step });
    const advanced = await this.deps.store.advanceRetryStep(current.erasureId, current.step, step);
    if (!advanced) log.info('the chain had already moved on from this step (its next message, or another delivery of it)');
    return advanced;
  }

  /**
   * A redriven dead letter whose chain ended another way (another delivery finished it) still
   * reopens what ran out of retries: with nothing open, it becomes the chain's step. The conditional
   * move from the step just read lets one dead letter at most do so.
   */
  private async takeOverFinishedChain(message: RetryMessage, request: StoredRequest, persons: readonly PersonState[]) {
    const idle = openPersons(request, persons).length === 0 && persons.some((p) => p.exhausted);
    return (
      idle && message.step !== undefined && this.deps.store.advanceRetryStep(request.erasureId, request.retryStep, message.step)
    );
  }

  /** A next message that arrives before its sender made it the current step becomes it now. */
  private async takeOver(message: RetryMessage, request: StoredRequest): Promise<boolean> {
    if (message.step === undefined || message.after === undefined || message.after !== request.retryStep) return false;
    return this.deps.store.advanceRetryStep(request.erasureId, message.after, message.step);
  }

  /**
   * The retry schedule ran out: dead-letter first (so a crash cannot lose the alarm), then fail the
   * persons, then end the chain by making the dead letter its current step (a redrive resumes it).
   * A person another invocation still holds (one under way, or one that died with its lease) keeps
   * the chain going until its lease has run out, so no person is left pending with no chain.
   */
  private async giveUp(
    current: RetryMessage,
    message: RetryMessage,
    request: StoredRequest,
    pending: PersonState[],
    budget: Budget,
    log: LogSink,
  ): Promise<RetryResult> {
    const heldUntil = Math.max(0, ...pending.map((p) => p.leaseUntil ?? 0));
    if (heldUntil > this.now().getTime()) {
      // Another invocation holds a person (one under way, or one that died with its lease): its
      // answer may still come. Give up once the lease has run out.
      await this.continueChain(current, { ...current, notBefore: heldUntil + DEFER_TOLERANCE_MS, final: true }, log);
      return { kind: 'deferred', until: heldUntil + DEFER_TOLERANCE_MS };
    }
    const deadLetter = { ...message, final: undefined, deadLettered: true, step: this.newStepId(), after: current.step };
    await this.deps.retryQueue.deadLetter(deadLetter);
    const owner = this.newOwnerId();
    const settled = await pMap(pending, async (person) => {
      const claim = await this.claim(request, person.personId, owner, budget);
      if (!claim.claimed) return claim.person;
      const at = this.now().toISOString();
      return this.settle(request, person.personId, owner, {
        outcome: 'failed',
        exhausted: true,
        attempts: claim.person.attempts,
        vendorStatus: person.vendorStatus,
        lastError: `Gave up after ${message.attempt} retries: ${person.lastError ?? 'no answer from Verifik'}`,
        completedAt: at,
        updatedAt: at,
      });
    });
    const exhausted = settled.filter((p) => p.exhausted).length;
    this.metrics.count('DeadLettered', exhausted);
    log.warn('erasure dead-lettered', { persons: exhausted });
    const recorded = await this.load(request.erasureId);
    const record = buildRecord(recorded.request, recorded.persons);
    if (settled.some((p) => p.outcome === 'pending')) {
      const notBefore = this.now().getTime() + this.deps.retryPolicy.delayBefore(current.attempt);
      await this.continueChain(current, { ...current, notBefore }, log);
      log.warn('a person is held by another invocation; giving up again after its lease', { attempt: current.attempt });
      return { kind: 'rescheduled', record, attempt: current.attempt };
    }
    // Announced before the chain ends: a death in between brings this message back to announce it.
    await this.announce(recorded.request, record, log);
    await this.deps.store.advanceRetryStep(request.erasureId, current.step, deadLetter.step);
    return { kind: 'dead_lettered', record };
  }

  /**
   * The chain found nothing open: announce the outcome (again, if the path that ended the erasure died
   * before it could), then let the message go. A failure throws, so the message comes back.
   */
  private async done(request: StoredRequest, record: ErasureRecord, log: LogSink): Promise<RetryResult> {
    await this.announce(request, record, log);
    return { kind: 'done', record };
  }

  /**
   * Puts the callback event of a terminal record on the callback queue, unless the request names no
   * callbackUrl or the event was enqueued already; then notes it on the request. Enqueued first, so a
   * death between the two only repeats the message (the delivery drops a delivered event).
   */
  private async announce(request: StoredRequest, record: ErasureRecord, log: LogSink): Promise<void> {
    if (request.callbackUrl === undefined || !isTerminalRecord(record)) return;
    const eventId = callbackEventIdOf(record);
    if (request.callbackEventId === eventId) return;
    if (!this.deps.callbacks) throw new TypeError('ErasureService: a callback is due but no callback queue is configured');
    await this.deps.callbacks.schedule({ erasureId: request.erasureId, eventId, attempt: 0, notBefore: this.now().getTime() });
    await this.deps.store.markCallbackEnqueued(request.erasureId, eventId);
    log.info('callback enqueued', { eventId, status: record.status });
  }

  /**
   * On the request path a failed announcement does not fail the request: the erasure is recorded, and
   * its retry chain (armed before it was) announces it when it finds the erasure terminal.
   */
  private async announceOnRequestPath(request: StoredRequest, record: ErasureRecord, log: LogSink): Promise<ErasureRecord> {
    try {
      await this.announce(request, record, log);
    } catch (error) {
      log.warn('callback not enqueued yet; the retry chain will', { error: errorName(error) });
    }
    return record;
  }

  private async reopenExhausted(erasureId: string, persons: readonly PersonState[]): Promise<number> {
    const at = this.now().toISOString();
    const note = `Reopened at ${at} by a redrive of the dead-letter queue, after the retry schedule had run out.`;
    const reopened = await Promise.all(
      persons
        .filter((p) => p.outcome === 'failed' && p.exhausted)
        .map((p) => this.deps.store.reopenPerson(erasureId, p.personId, note, at)),
    );
    return reopened.filter(Boolean).length;
  }

  private async eraseOpenPersons(
    request: StoredRequest,
    known: readonly PersonState[],
    budget: Budget,
    log: LogSink,
    how?: ErasingHow,
  ): Promise<ErasureRecord> {
    return (await this.erasePersons(request, known, budget, log, how)).record;
  }

  /** Erases the open persons; returns the record and each person's state as it stands (leases included). */
  private async erasePersons(
    request: StoredRequest,
    known: readonly PersonState[],
    budget: Budget,
    log: LogSink,
    { attemptCap = Number.POSITIVE_INFINITY, holder = false }: ErasingHow = {},
  ): Promise<{ record: ErasureRecord; persons: PersonState[] }> {
    const recorded = new Map(known.map((p) => [p.personId, p]));
    // Persons past the cap are the retry chain's alone (a redelivery or a replay adds no calls).
    const open = openPersons(request, known).filter((id) => callsOf(recorded.get(id)) < attemptCap);
    const owner = this.newOwnerId();
    const attempted = await pMap(
      open,
      (personId) => {
        if (recorded.has(personId)) return this.erasePerson(request, personId, owner, budget, log, attemptCap);
        if (holder) return this.eraseHeldPerson(request, personId, owner, budget, log);
        // Held with the request by the invocation that recorded it: not even a claim to write.
        if (heldBySomeoneElse(request, this.now().getTime()))
          return { ...notYetAttempted(personId), leaseUntil: request.heldUntil };
        return this.erasePerson(request, personId, owner, budget, log, attemptCap);
      },
      { concurrency: this.deps.concurrency },
    );
    for (const person of attempted) recorded.set(person.personId, person);
    const persons = request.personIds.map((id) => recorded.get(id) ?? notYetAttempted(id));
    return { record: buildRecord(request, persons), persons };
  }

  /**
   * Claim, call Verifik, record: the only path by which Verifik's answer reaches the audit trail.
   * A person Verifik accepted the DELETE for but whose absence is not yet verified is only read back.
   */
  private async erasePerson(
    request: StoredRequest,
    personId: string,
    owner: string,
    budget: Budget,
    log: LogSink,
    attemptCap: number,
  ): Promise<PersonState> {
    const claim = await this.claim(request, personId, owner, budget);
    if (!claim.claimed) return claim.person;
    if (callsOf(claim.person) >= attemptCap) {
      // Another invocation reached the cap since this one read the record: hand the person back untouched.
      return this.settle(request, personId, owner, {
        outcome: 'pending',
        attempts: claim.person.attempts,
        updatedAt: this.now().toISOString(),
      });
    }

    const { settlement, vendorStatus } =
      claim.person.deletedAt === undefined
        ? await this.deleteAndVerify(personId, claim, budget)
        : await this.verifyDeleted(personId, claim.person, budget);
    return this.recordAnswer(request, claim.person, owner, { settlement, vendorStatus }, budget, log);
  }

  /**
   * The first attempt on a person of the request this invocation has just recorded: the request holds
   * it (StoredRequest.heldUntil), so Verifik is called at once and the answer creates the person's item.
   */
  private async eraseHeldPerson(request: StoredRequest, personId: string, owner: string, budget: Budget, log: LogSink) {
    const person = notYetAttempted(personId);
    const answer = await this.deleteAndVerify(personId, { person, interrupted: false }, budget);
    return this.recordAnswer(request, person, owner, answer, budget, log, {
      receivedAt: request.receivedAt,
      expiresAt: request.expiresAt,
    });
  }

  /** Writes what Verifik answered for a person; on a storage failure the person stays pending under this invocation's lease. */
  private async recordAnswer(
    request: StoredRequest,
    before: PersonState,
    owner: string,
    { settlement, vendorStatus }: { settlement: Settlement; vendorStatus?: number },
    budget: Budget,
    log: LogSink,
    first?: FirstSettlement,
  ): Promise<PersonState> {
    const personId = before.personId;
    try {
      const person = await this.settle(request, personId, owner, settlement, first);
      log.info('person settled', { personId, outcome: person.outcome, vendorStatus, attempts: person.attempts });
      return person;
    } catch (error) {
      // Verifik answered but the answer could not be recorded: the lease keeps the person pending and
      // the retry path will ask Verifik again. Nothing is reported that the audit trail does not hold.
      log.error('person outcome not recorded', { personId, vendorStatus, error: errorName(error) });
      // This invocation's lease (or the request's hold) still stands: say so, so that giving up waits for it.
      return {
        ...before,
        outcome: 'pending',
        leaseUntil: this.leaseUntil(budget),
        lastError: 'The outcome could not be recorded yet; it will be retried.',
      };
    }
  }

  /** Until when an invocation with this budget holds what it works on: past its deadline, so an in-flight answer is never overtaken. */
  private leaseUntil(budget: Budget): number {
    return budget.deadline + this.deps.leaseMarginMs;
  }

  /** The DELETE, and when it went through (2xx) and the switch is on, the GET that verifies it. */
  private async deleteAndVerify(personId: string, claim: { person: PersonState; interrupted: boolean }, budget: Budget) {
    const answer = await this.deps.verifik.deletePerson(personId, budget);
    this.countAnswer(answer);
    const settlement = settlementFor(answer, this.now());
    settlement.attempts += claim.person.attempts;
    // An interrupted earlier attempt may have deleted the person: carried on, so a later 404 says so.
    if (claim.interrupted) settlement.uncertain = true;
    if (answer.kind === 'not_found' && claim.interrupted) settlement.note = INTERRUPTED_NOTE;
    else if (answer.kind === 'not_found' && (answer.uncertain || claim.person.uncertain)) settlement.note = UNCERTAIN_NOTE;
    if (answer.kind !== 'deleted' || !this.verifyAfterDelete) return { settlement, vendorStatus: answer.status };
    // Until the GET answers, nothing is terminal: an unclear answer leaves the person pending with
    // `deletedAt`, and the retry path only reads it back from then on.
    const verified = await this.readBack(
      personId,
      { attempts: settlement.attempts, verifyAttempts: claim.person.verifyAttempts },
      budget,
    );
    return { settlement: { ...settlement, completedAt: undefined, ...verified }, vendorStatus: answer.status };
  }

  /** A person whose DELETE went through earlier: verified now, or (switch turned off since) recorded as erased. */
  private async verifyDeleted(personId: string, person: PersonState, budget: Budget) {
    if (!this.verifyAfterDelete) {
      const at = this.now().toISOString();
      const settlement: Settlement = { outcome: 'erased', attempts: person.attempts, completedAt: at, updatedAt: at };
      return { settlement, vendorStatus: person.vendorStatus };
    }
    return { settlement: await this.readBack(personId, person, budget), vendorStatus: person.vendorStatus };
  }

  private async readBack(personId: string, deletion: { attempts: number; verifyAttempts?: number }, budget: Budget) {
    const presence = await this.deps.verifik.getPerson(personId, budget);
    this.countPresence(presence);
    return verificationSettlement(presence, deletion, this.now());
  }

  private claim(request: StoredRequest, personId: string, owner: string, budget: Budget) {
    return this.deps.store.claimPerson(request.erasureId, personId, {
      owner,
      leaseUntil: this.leaseUntil(budget),
      now: this.now().getTime(),
      receivedAt: request.receivedAt,
      expiresAt: request.expiresAt,
      heldUntil: request.heldUntil,
    });
  }

  /** Writes a settlement; counts it only when it is what now stands (not another caller's outcome). */
  private async settle(
    request: StoredRequest,
    personId: string,
    owner: string,
    settlement: Settlement,
    first?: FirstSettlement,
  ): Promise<PersonState> {
    const person = await this.deps.store.settlePerson(request.erasureId, personId, owner, settlement, first);
    if (person.outcome === settlement.outcome) this.metrics.count(METRIC_FOR_OUTCOME[person.outcome]);
    return person;
  }

  private countAnswer(answer: VendorAnswer): void {
    if (answer.attempts > 1) this.metrics.count('Retries', answer.attempts - 1);
    if (answer.kind === 'unauthorized') this.metrics.count('VendorAuthFailures');
    if (answer.kind === 'rejected' && answer.unexpectedNotFound) this.metrics.count('VerifikUnexpectedNotFound');
    if (answer.status !== undefined && answer.status >= 500) this.metrics.count('VerifikServerErrors');
  }

  private countPresence(presence: PresenceAnswer): void {
    if (presence.attempts > 1) this.metrics.count('Retries', presence.attempts - 1);
    if (presence.kind === 'present') this.metrics.count('VerifikPersonStillPresent');
    if (presence.kind !== 'unclear' || presence.status === undefined) return;
    if (presence.status === 401 || presence.status === 403) this.metrics.count('VendorAuthFailures');
    if (presence.status === 404) this.metrics.count('VerifikUnexpectedNotFound');
    if (presence.status >= 500) this.metrics.count('VerifikServerErrors');
  }

  private firstRetry(erasureId: string): RetryMessage {
    return firstRetryMessage(erasureId, this.now().getTime() + this.deps.retryPolicy.delayBefore(0));
  }

  private async load(erasureId: string) {
    const stored = await this.deps.store.getErasure(erasureId);
    // It was read or written moments ago: a missing record now is the store failing, not the caller.
    if (!stored) throw new StorageUnavailableError(new Error('a recorded erasure could not be read back'));
    return stored;
  }

  private hashSubjectRef(subjectRef: string): Promise<string> {
    if (!this.deps.hashSubjectRef) throw new TypeError('ErasureService: submit needs hashSubjectRef (the pepper)');
    return this.deps.hashSubjectRef(subjectRef);
  }

  private async toStoredRequest(input: ErasureInput, heldUntil?: number): Promise<StoredRequest> {
    const receivedAt = this.now();
    const subjectRefHash = input.subjectRef === undefined ? undefined : await this.hashSubjectRef(input.subjectRef);
    const subject = input.subject && (await this.resolveSubject(input.subject));
    const personIds = [...new Set([...input.personIds, ...(subject?.linkedPersonIds ?? [])])];
    if (personIds.length > MAX_PERSONS) {
      throw new InvalidRequestError(
        `The persons named and those linked to the subject are ${personIds.length}; one erasure takes at most ${MAX_PERSONS}.`,
      );
    }
    return {
      erasureId: input.erasureId,
      personIds,
      fingerprint: requestFingerprint({ ...input, subjectRefHash, subject }),
      receivedAt: receivedAt.toISOString(),
      dueAt: dueDateFor(receivedAt.toISOString()),
      expiresAt: Math.floor((receivedAt.getTime() + this.deps.retentionDays * DAY_MS) / 1000),
      subjectRefHash,
      subject,
      reason: input.reason,
      requestedBy: input.requestedBy,
      apiRequestId: input.apiRequestId,
      retryStep: FIRST_STEP,
      heldUntil,
      callbackUrl: input.callbackUrl,
    };
  }

  /** The subject's hash and the persons linked to it now: one consistent Query. */
  private async resolveSubject(subject: SubjectRef): Promise<StoredSubject> {
    if (!this.deps.subjects) throw new TypeError('ErasureService: an erasure by subject needs the subject links');
    const hash = await this.hashSubjectRef(`${subject.source}:${subject.id}`);
    const links = await this.deps.subjects.links(hash);
    return { source: subject.source, hash, linkedPersonIds: links.map((link) => link.personId) };
  }
}

/**
 * The fingerprint a redelivery of `input` has against the request recorded first: its own, except
 * that the persons a subject gave are those recorded then, not those linked now.
 */
function fingerprintAgainst(input: ErasureInput, fresh: StoredRequest, existing: StoredRequest): string {
  if (!fresh.subject) return fresh.fingerprint;
  const linkedPersonIds =
    existing.subject?.hash === fresh.subject.hash ? existing.subject.linkedPersonIds : fresh.subject.linkedPersonIds;
  return requestFingerprint({
    ...input,
    subjectRefHash: fresh.subjectRefHash,
    subject: { hash: fresh.subject.hash, linkedPersonIds },
  });
}

/** A message the dead-letter queue gave back (redrive). Messages from before the flag: the attempt told. */
const isDeadLetter = (message: RetryMessage, maxAttempts: number) =>
  message.deadLettered === true ||
  (message.deadLettered === undefined && message.step === undefined && message.attempt >= maxAttempts);

/** A promise's outcome, without throwing: to act on one failure before another. */
const settled = <T>(promise: Promise<T>) => Promise.allSettled([promise]).then(([outcome]) => outcome!);

/** A first message of an erasure's retry chain: it follows FIRST_STEP, so only the first to arrive starts the chain. */
export function firstRetryMessage(erasureId: string, notBefore: number): RetryMessage {
  return { erasureId, attempt: 0, notBefore, step: randomUUID(), after: FIRST_STEP };
}

/**
 * Sends a first message for an erasure recorded without a retry chain: still at FIRST_STEP with a
 * person open (a delivery recorded it but could not arm its message, and nobody delivered it again).
 * True when one was sent. A chain that is only late is not harmed: of two first messages, one starts it.
 */
export async function rearmIfUnarmed(
  deps: { store: Pick<AuditStore, 'getErasure'>; retryQueue: RetryQueue; now: number },
  erasureId: string,
): Promise<boolean> {
  const stored = await deps.store.getErasure(erasureId);
  if (!stored || stored.request.retryStep !== FIRST_STEP || openPersons(stored.request, stored.persons).length === 0) {
    return false;
  }
  await deps.retryQueue.schedule(firstRetryMessage(erasureId, deps.now));
  return true;
}

/** The persons the request names that are not terminal (a person with no item yet is pending). */
function openPersons(request: StoredRequest, persons: readonly PersonState[]): string[] {
  const outcomes = new Map(persons.map((p) => [p.personId, p.outcome]));
  return request.personIds.filter((id) => !isTerminal(outcomes.get(id) ?? 'pending'));
}
/** The request's hold still stands: its persons with no item are the recording invocation's. */
const heldBySomeoneElse = (request: StoredRequest, now: number) => request.heldUntil !== undefined && now < request.heldUntil;
/** Calls made to Verifik for a person (DELETEs and GETs), which the redelivery cap bounds. */
const callsOf = (person: PersonState | undefined) => (person?.attempts ?? 0) + (person?.verifyAttempts ?? 0);
const retryAfterOf = (person: PersonState | undefined) => (person?.retryAfter ? Date.parse(person.retryAfter) : 0);
