import {
  ErasureService,
  FIRST_STEP,
  INTERRUPTED_NOTE,
  rearmIfUnarmed,
  UNCERTAIN_NOTE,
  type ErasureServiceDeps,
} from '../../lambda/erasure/erasure-service';
import { ExtensionRefusedError, IdempotencyConflictError, NotFoundError } from '../../lambda/errors';
import type { RetryMessage, VendorAnswer } from '../../lambda/erasure/ports';
import type { ErasureRecord } from '../../lambda/erasure/types';
import { MemoryAuditStore } from '../support/memory-audit-store';
import { RetryPolicy } from '../../lambda/erasure/retry-policy';
import {
  RecordingMetrics,
  RecordingRetryQueue,
  ScriptedVerifik,
  deleted,
  notFound,
  rejected,
  silentLog,
  transient,
  unauthorized,
  absent,
  present,
  unclear,
} from '../support/scripted-verifik';
import { AWAITING_VERIFICATION, STILL_PRESENT } from '../../lambda/erasure/outcome';
import { dueDateFor } from '../../lambda/erasure/statutory-clock';

const budget = () => ({ deadline: Date.now() + 5_000 });

const SCHEDULE = [1_000, 2_000, 4_000];

/** The store of the test that is running, so `due` can name the erasure's current chain step. */
let currentStore: MemoryAuditStore | undefined;

function setUp(
  answer?: (personId: string, call: number) => VendorAnswer,
  concurrency = 4,
  options: Pick<ErasureServiceDeps, 'verifyAfterDelete' | 'now'> & { store?: MemoryAuditStore } = {},
) {
  const { store = new MemoryAuditStore(), ...rest } = options;
  currentStore = store;
  const verifik = new ScriptedVerifik(answer);
  const retryQueue = new RecordingRetryQueue();
  const metrics = new RecordingMetrics();
  const service = new ErasureService({
    store,
    verifik,
    retryQueue,
    metrics,
    retryPolicy: new RetryPolicy(SCHEDULE, () => 0.5),
    hashSubjectRef: async (ref) => `hash(${ref})`,
    retentionDays: 10,
    concurrency,
    leaseMarginMs: 1_000,
    ...rest,
  });
  return { store, verifik, service, retryQueue, metrics };
}

/** The chain's current message for this erasure, as the retry queue delivers it. */
const due = (erasureId: string, attempt = 0) => ({
  erasureId,
  attempt,
  notBefore: 0,
  step: currentStore?.requests.get(erasureId)?.retryStep,
});

/** A request recorded by some earlier invocation, as the worker finds it. */
const recordRequest = (store: MemoryAuditStore, erasureId: string, personIds: string[], extra: { heldUntil?: number } = {}) =>
  store.createRequest({
    erasureId,
    personIds,
    fingerprint: 'x',
    receivedAt: new Date().toISOString(),
    dueAt: dueDateFor(new Date().toISOString()),
    expiresAt: 1,
    ...extra,
  });

/** One person per kind of Verifik answer. */
const oneOfEach = (): Record<string, VendorAnswer> => ({
  a: deleted(),
  b: notFound(),
  c: unauthorized(),
  d: transient(),
  e: rejected(),
});

describe('ErasureService', () => {
  it('records the request durably before the first Verifik call', async () => {
    const { store, verifik, service } = setUp();
    verifik.onCall = () => {
      expect(store.requests.has('e1')).toBe(true);
    };
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    expect(verifik.calls).toEqual(['p1']);
  });

  it('maps each answer to its outcome', async () => {
    const answers = oneOfEach();
    const { service } = setUp((id) => answers[id]!);

    const record = await service.submit({ erasureId: 'e1', personIds: Object.keys(answers) }, budget(), silentLog);

    expect(record.persons.map((p) => [p.personId, p.outcome])).toEqual([
      ['a', 'erased'],
      ['b', 'already_erased'],
      ['c', 'pending'],
      ['d', 'pending'],
      ['e', 'failed'],
    ]);
    expect(record.status).toBe('pending');
  });

  it('keeps subjectRef only as its keyed hash', async () => {
    const { store, service } = setUp();
    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'], subjectRef: 'crm-1' }, budget(), silentLog);
    expect(record).not.toHaveProperty('subjectRefHash');
    expect(store.requests.get('e1')?.subjectRefHash).toBe('hash(crm-1)');
    expect(JSON.stringify([...store.requests.values()])).not.toContain('"crm-1"');
  });

  it('erases at most `concurrency` persons at once', async () => {
    const { verifik, service } = setUp(undefined, 3);
    await service.submit({ erasureId: 'e1', personIds: Array.from({ length: 20 }, (_, i) => `p${i}`) }, budget(), silentLog);
    expect(verifik.calls).toHaveLength(20);
    expect(verifik.maxInFlight).toBe(3);
  });

  it('refuses the same id with another request, without calling Verifik', async () => {
    const { verifik, service } = setUp();
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    await expect(service.submit({ erasureId: 'e1', personIds: ['p2'] }, budget(), silentLog)).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
    expect(verifik.calls).toEqual(['p1']);
  });

  it('retries only persons that are not terminal on redelivery, adding up attempts', async () => {
    const { verifik, service } = setUp((id, call) => (id === 'p2' && call === 1 ? transient() : deleted()));
    await service.submit({ erasureId: 'e1', personIds: ['p1', 'p2'] }, budget(), silentLog);

    const record = await service.submit({ erasureId: 'e1', personIds: ['p2', 'p1'] }, budget(), silentLog);

    expect(verifik.calls).toEqual(['p1', 'p2', 'p2']);
    expect(record.persons).toMatchObject([
      { personId: 'p1', outcome: 'erased', attempts: 1 },
      { personId: 'p2', outcome: 'erased', attempts: 4 },
    ]);
    expect(record.status).toBe('completed');
  });

  it('does not report an outcome that could not be recorded', async () => {
    const { store, service } = setUp();
    store.settlePerson = async () => {
      throw new Error('DynamoDB is down');
    };
    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    expect(record.persons[0]).toMatchObject({ outcome: 'pending', lastError: expect.stringContaining('could not be recorded') });
  });

  it('notes on an already_erased that an interrupted earlier attempt may have deleted the person', async () => {
    const { store, service } = setUp(() => notFound());
    await recordRequest(store, 'e1', ['p1']);
    await store.claimPerson('e1', 'p1', { owner: 'crashed', now: 0, leaseUntil: 1, receivedAt: '', expiresAt: 1 });

    const { record } = (await service.retry(due('e1'), budget(), silentLog)) as { record: ErasureRecord };

    expect(record.persons[0]).toMatchObject({ outcome: 'already_erased', note: INTERRUPTED_NOTE });
  });

  it('notes on an already_erased that an uncertain attempt in the same call may have deleted the person', async () => {
    const { service } = setUp(() => notFound(true));
    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    expect(record.persons[0]).toMatchObject({ outcome: 'already_erased', note: UNCERTAIN_NOTE });
  });

  it('leaves a person that another delivery is erasing to that delivery', async () => {
    const { store, verifik, service } = setUp();
    await recordRequest(store, 'e1', ['p1']);
    await store.claimPerson('e1', 'p1', {
      owner: 'other',
      now: Date.now(),
      leaseUntil: Date.now() + 60_000,
      receivedAt: '',
      expiresAt: 1,
    });

    const { record } = (await service.retry(due('e1'), budget(), silentLog)) as { record: ErasureRecord };

    expect(verifik.calls).toHaveLength(0);
    expect(record.persons[0]!.outcome).toBe('pending');
  });

  it('keeps the request record as received: completedAt is the last person’s', async () => {
    let now = Date.parse('2026-11-28T10:00:00.000Z');
    const store = new MemoryAuditStore();
    const service = new ErasureService({
      store,
      verifik: new ScriptedVerifik(),
      retryQueue: new RecordingRetryQueue(),
      retryPolicy: new RetryPolicy(SCHEDULE),
      hashSubjectRef: async (r) => r,
      retentionDays: 1,
      concurrency: 1,
      leaseMarginMs: 0,
      now: () => new Date((now += 100)),
    });
    const record = await service.submit({ erasureId: 'e1', personIds: ['a', 'b'] }, budget(), silentLog);
    expect(record.completedAt).toBe(record.persons[1]!.completedAt);
    expect(record.completedAt! > record.persons[0]!.completedAt!).toBe(true);
    expect(store.requests.get('e1')!.expiresAt).toBe(Math.floor((Date.parse(record.receivedAt) + 86_400_000) / 1000));
  });

  it('puts the erasure on the retry path and records it before calling Verifik', async () => {
    const { verifik, service, retryQueue, store } = setUp();
    verifik.onCall = () => {
      expect(retryQueue.scheduled).toEqual([
        { erasureId: 'e1', attempt: 0, notBefore: expect.any(Number), step: expect.any(String), after: FIRST_STEP },
      ]);
      expect(store.requests.get('e1')?.retryStep).toBe(FIRST_STEP);
    };
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    expect(verifik.calls).toEqual(['p1']);
  });

  it('calls nobody when the retry path cannot be armed, so the caller retries', async () => {
    const { verifik, service, retryQueue } = setUp();
    retryQueue.failing = true;
    await expect(service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog)).rejects.toThrow('queue down');
    expect(verifik.calls).toEqual([]);
  });

  it('counts outcomes, retries and vendor auth failures as metrics', async () => {
    const answers = oneOfEach();
    const { service, metrics } = setUp((id) => answers[id]!);
    await service.submit({ erasureId: 'e1', personIds: Object.keys(answers) }, budget(), silentLog);
    expect(metrics.counts).toEqual({
      Erased: 1,
      AlreadyErased: 1,
      Pending: 2,
      Failed: 1,
      VendorAuthFailures: 1,
      VerifikServerErrors: 1,
      Retries: 2,
    });
  });
});

describe('ErasureService.retry (the worker)', () => {
  it('erases what is still pending and stops when everything is terminal', async () => {
    const { service, retryQueue, verifik } = setUp((id, call) => (call === 1 ? transient() : deleted()));
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    const result = await service.retry(due('e1'), budget(), silentLog);

    expect(result).toMatchObject({ kind: 'done', record: { status: 'completed', persons: [{ outcome: 'erased' }] } });
    expect(verifik.calls).toEqual(['p1', 'p1']);
    expect(retryQueue.scheduled).toHaveLength(1);
  });

  it('does nothing for an erasure whose persons are all terminal', async () => {
    const { service, verifik } = setUp();
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    await expect(service.retry(due('e1'), budget(), silentLog)).resolves.toMatchObject({ kind: 'done' });
    expect(verifik.calls).toEqual(['p1']);
  });

  it('schedules the next attempt on the backoff schedule while Verifik keeps failing', async () => {
    const { service, retryQueue } = setUp(() => transient());
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    const before = Date.now();

    const result = await service.retry(due('e1'), budget(), silentLog);

    expect(result).toMatchObject({ kind: 'rescheduled', attempt: 1 });
    const next = retryQueue.scheduled.at(-1)!;
    expect(next).toMatchObject({ erasureId: 'e1', attempt: 1 });
    expect(next.notBefore - before).toBeGreaterThanOrEqual(SCHEDULE[1]!);
  });

  it('reports how long a still-pending erasure has waited, for the pending-too-long alarm', async () => {
    const { service, metrics } = setUp(() => transient());
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    await service.retry(due('e1'), budget(), silentLog);
    expect(metrics.pendingAges).toHaveLength(1);
    expect(metrics.pendingAges[0]).toBeGreaterThanOrEqual(0);
    expect(metrics.pendingAges[0]).toBeLessThan(5);
  });

  it('keeps 401 on the retry path and never records it as erased', async () => {
    const { service, metrics } = setUp(() => unauthorized());
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    const result = await service.retry(due('e1'), budget(), silentLog);
    expect(result).toMatchObject({ kind: 'rescheduled', record: { persons: [{ outcome: 'pending', vendorStatus: 401 }] } });
    expect(metrics.counts.VendorAuthFailures).toBe(2);
    expect(metrics.counts.Erased).toBeUndefined();
  });

  it('waits for a Retry-After that lies beyond the message time, counting the wait against the schedule', async () => {
    const { service, retryQueue, verifik } = setUp(() => transient(60_000));
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    const result = await service.retry(due('e1'), budget(), silentLog);

    expect(result.kind).toBe('deferred');
    expect(retryQueue.scheduled.at(-1)).toMatchObject({ attempt: 1, notBefore: expect.any(Number) });
    expect(retryQueue.scheduled.at(-1)!.notBefore - Date.now()).toBeGreaterThan(55_000);
    expect(verifik.calls).toHaveLength(1);
  });

  it('gives up after the last attempt: persons failed with lastError, message dead-lettered', async () => {
    const { service, retryQueue, metrics } = setUp(() => transient());
    await service.submit({ erasureId: 'e1', personIds: ['p1', 'p2'] }, budget(), silentLog);

    const result = await service.retry(due('e1', SCHEDULE.length - 1), budget(), silentLog);

    expect(result).toMatchObject({ kind: 'dead_lettered', record: { status: 'failed' } });
    const record = (result as { record: ErasureRecord }).record;
    for (const person of record.persons) {
      expect(person).toMatchObject({
        outcome: 'failed',
        exhausted: true,
        lastError: 'Gave up after 3 retries: Verifik answered 503',
      });
    }
    expect(retryQueue.deadLetters).toEqual([
      {
        erasureId: 'e1',
        attempt: SCHEDULE.length,
        notBefore: 0,
        step: expect.any(String),
        after: expect.any(String),
        deadLettered: true,
      },
    ]);
    expect(metrics.counts.DeadLettered).toBe(2);
  });

  it('resumes a dead-lettered erasure when the dead-letter queue is redriven', async () => {
    let healthy = false;
    const { service, retryQueue } = setUp(() => (healthy ? deleted() : transient()));
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    await service.retry(due('e1', SCHEDULE.length - 1), budget(), silentLog);
    healthy = true;

    const result = await service.retry(retryQueue.deadLetters[0]!, budget(), silentLog);

    expect(result).toMatchObject({
      kind: 'done',
      record: { status: 'completed', persons: [{ outcome: 'erased', note: expect.stringContaining('redrive') }] },
    });
  });

  it('never reopens a person that Verifik refused', async () => {
    const { service, verifik } = setUp(() => rejected());
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    await expect(service.retry(due('e1', SCHEDULE.length), budget(), silentLog)).resolves.toMatchObject({ kind: 'done' });
    expect(verifik.calls).toEqual(['p1']);
  });

  it('looks again on the schedule for an erasure not (yet) recorded, then lets go', async () => {
    const { service, retryQueue } = setUp();
    await expect(service.retry(due('nope'), budget(), silentLog)).resolves.toEqual({ kind: 'unknown_erasure' });
    expect(retryQueue.scheduled).toEqual([{ erasureId: 'nope', attempt: 0, lookups: 1, notBefore: expect.any(Number) }]);

    await service.retry({ ...due('nope'), lookups: SCHEDULE.length - 1 }, budget(), silentLog);
    expect(retryQueue.scheduled).toHaveLength(1);
  });
});

describe('ErasureService: one retry chain per erasure', () => {
  it('drops a retry message that is not the current step of the chain, without calling Verifik', async () => {
    const { service, verifik, retryQueue } = setUp((_id, call) => (call === 1 ? transient() : deleted()));
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    const armedByRedelivery = { erasureId: 'e1', attempt: 0, notBefore: 0, step: 'not-the-chain' };

    await expect(service.retry(armedByRedelivery, budget(), silentLog)).resolves.toEqual({ kind: 'stale' });
    expect(verifik.calls).toEqual(['p1']);
    expect(retryQueue.scheduled).toHaveLength(1);
  });

  it('arms a message on every delivery; the first to arrive starts the chain and the other is dropped', async () => {
    const { service, store, retryQueue, verifik } = setUp(() => transient());
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    const [first, second] = retryQueue.scheduled;
    const calls = verifik.calls.length;

    // The redelivery's message happens to arrive first.
    await expect(service.retry({ ...second!, notBefore: 0 }, budget(), silentLog)).resolves.toMatchObject({
      kind: 'rescheduled',
    });
    await expect(service.retry({ ...first!, notBefore: 0 }, budget(), silentLog)).resolves.toEqual({ kind: 'stale' });
    expect(verifik.calls.length - calls).toBe(1);
    expect(store.requests.get('e1')!.retryStep).toBe(retryQueue.scheduled.at(-1)!.step);
  });

  it('ends the chain at its first message, with no write, when the request path erased everyone', async () => {
    const { service, store, retryQueue } = setUp();
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    const writes = store.writes;

    await expect(service.retry({ ...retryQueue.scheduled[0]!, notBefore: 0 }, budget(), silentLog)).resolves.toMatchObject({
      kind: 'done',
    });
    expect(store.writes).toBe(writes);
    expect(retryQueue.scheduled).toHaveLength(1);
  });

  it('is re-armed by the redelivery when a delivery recorded the request but could not arm its message', async () => {
    let clock = Date.now();
    const { service, store, retryQueue, verifik } = setUp(undefined, 4, { now: () => new Date(clock) });
    const input = { erasureId: 'e1', personIds: ['p1'] };
    retryQueue.failing = true;
    await expect(service.submit(input, budget(), silentLog)).rejects.toThrow('queue down');
    expect(store.requests.has('e1')).toBe(true);
    expect(verifik.calls).toEqual([]);

    // The caller retries after the 5xx, after the failed delivery's hold: its message restarts the chain.
    retryQueue.failing = false;
    clock += 60_000;
    await service.submit(input, budget(), silentLog);
    expect(retryQueue.scheduled).toHaveLength(1);
    const record = await service.get('e1');
    expect(record?.persons).toMatchObject([{ personId: 'p1', outcome: 'erased' }]);
    await expect(service.retry({ ...retryQueue.scheduled[0]!, notBefore: 0 }, budget(), silentLog)).resolves.toMatchObject({
      kind: 'done',
    });
  });

  /**
   * The first delivery's message goes out, its record does not (the caller gets a 503); the message
   * finds no erasure twice and is sent again each time; then the caller's retry records the request.
   */
  async function bouncedFirstMessage() {
    const clock = { now: Date.now() };
    const store = new MemoryAuditStore();
    const { service, retryQueue } = setUp(() => transient(), 4, { store, now: () => new Date(clock.now) });
    const input = { erasureId: 'e1', personIds: ['p1'] };
    const createRequest = store.createRequest.bind(store);
    store.createRequest = async () => {
      throw new Error('DynamoDB is down');
    };
    await expect(service.submit(input, budget(), silentLog)).rejects.toThrow('DynamoDB is down');
    store.createRequest = createRequest;
    for (let i = 0; i < 2; i++) {
      await expect(service.retry({ ...retryQueue.scheduled.at(-1)!, notBefore: 0 }, budget(), silentLog)).resolves.toEqual({
        kind: 'unknown_erasure',
      });
    }
    const bounced = retryQueue.scheduled.at(-1)!;
    await service.submit(input, budget(), silentLog);
    clock.now += 60_000;
    return { service, store, retryQueue, bounced };
  }

  it('starts the schedule from its beginning when a first message that found the erasure unrecorded takes the chain over', async () => {
    const { service, bounced } = await bouncedFirstMessage();
    expect([bounced.attempt, bounced.lookups]).toEqual([0, 2]);

    const result = await service.retry({ ...bounced, notBefore: 0 }, budget(), silentLog);

    expect(result).toMatchObject({ kind: 'rescheduled', attempt: 1 });
  });

  it('starts the schedule from its beginning also when the first step that took the chain over is delivered again', async () => {
    const { service, store, retryQueue, bounced } = await bouncedFirstMessage();
    // It takes the chain over, then its invocation fails before it is acknowledged (the next step cannot be sent).
    retryQueue.failing = true;
    await expect(service.retry({ ...bounced, notBefore: 0 }, budget(), silentLog)).rejects.toThrow('queue down');
    retryQueue.failing = false;
    expect(store.requests.get('e1')!.retryStep).toBe(bounced.step);

    // SQS delivers it again: still the chain's first step, so still attempt 0 of the schedule.
    await expect(service.retry(bounced, budget(), silentLog)).resolves.toMatchObject({ kind: 'rescheduled', attempt: 1 });
  });

  it('releases its hold when it cannot arm the chain, so nobody later takes its untouched persons for interrupted ones', async () => {
    let clock = Date.now();
    const { service, store, retryQueue, verifik } = setUp(() => notFound(), 4, { now: () => new Date(clock) });
    retryQueue.failing = true;
    await expect(service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog)).rejects.toThrow('queue down');
    retryQueue.failing = false;
    expect(store.requests.get('e1')?.heldUntil).toBeUndefined();

    await rearmIfUnarmed({ store, retryQueue, now: 0 }, 'e1');
    clock += 60_000;
    const { record } = (await service.retry({ ...retryQueue.scheduled[0]!, notBefore: 0 }, budget(), silentLog)) as {
      record: ErasureRecord;
    };

    expect(verifik.calls).toEqual(['p1']);
    expect(record.persons[0]).toMatchObject({ outcome: 'already_erased' });
    expect(record.persons[0]!.note).toBeUndefined();
  });

  it('is armed by the sweep when the caller never delivers it again (it retried under a new id)', async () => {
    const { service, store, retryQueue } = setUp();
    retryQueue.failing = true;
    await expect(service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog)).rejects.toThrow('queue down');
    retryQueue.failing = false;
    await service.submit({ erasureId: 'e2', personIds: ['p1'] }, budget(), silentLog);
    expect(retryQueue.scheduled.map((m) => m.erasureId)).toEqual(['e2']);

    await expect(rearmIfUnarmed({ store, retryQueue, now: 0 }, 'e1')).resolves.toBe(true);
    await expect(rearmIfUnarmed({ store, retryQueue, now: 0 }, 'e2')).resolves.toBe(false); // erased on the request path
    const result = await service.retry({ ...retryQueue.scheduled.at(-1)!, notBefore: 0 }, budget(), silentLog);

    expect(result).toMatchObject({ kind: 'done', record: { status: 'completed', persons: [{ outcome: 'erased' }] } });
  });

  it('is re-armed by a redelivery during the failed delivery’s hold, when the hold could not be released either', async () => {
    let clock = Date.now();
    const { service, store, retryQueue, verifik } = setUp(undefined, 4, { now: () => new Date(clock) });
    const input = { erasureId: 'e1', personIds: ['p1'] };
    retryQueue.failing = true;
    store.releaseHold = async () => {
      throw new Error('DynamoDB is down');
    };
    await expect(service.submit(input, budget(), silentLog)).rejects.toThrow('queue down');
    retryQueue.failing = false;

    const answered = await service.submit(input, budget(), silentLog);
    expect(answered.persons).toMatchObject([{ outcome: 'pending', attempts: 0 }]);
    expect(verifik.calls).toEqual([]);

    clock += 60_000;
    const { record } = (await service.retry({ ...retryQueue.scheduled[0]!, notBefore: 0 }, budget(), silentLog)) as {
      record: ErasureRecord;
    };
    expect(record.persons).toMatchObject([{ personId: 'p1', outcome: 'erased' }]);
    expect(verifik.calls).toEqual(['p1']);
  });

  it('lets only one of two concurrent deliveries of the same message move the chain on', async () => {
    const { service, retryQueue } = setUp(() => transient());
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    const message = due('e1');

    await Promise.all([service.retry(message, budget(), silentLog), service.retry(message, budget(), silentLog)]);

    const next = retryQueue.scheduled.slice(1);
    expect(next).toHaveLength(2);
    const results = await Promise.all(next.map((m) => service.retry({ ...m, notBefore: 0 }, budget(), silentLog)));
    expect(results.filter((r) => r.kind === 'stale')).toHaveLength(1);
  });

  it('does not call Verifik on a redelivery for a person whose attempts reached the cap', async () => {
    const { service, verifik } = setUp(() => transient());
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog); // 3 attempts
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog); // 6
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog); // 9
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog); // 12: reached 10
    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    expect(verifik.calls).toHaveLength(4);
    expect(record.persons[0]).toMatchObject({ outcome: 'pending', attempts: 12 });
  });

  it('counts a Retry-After pause against the schedule, so it cannot keep a person pending forever', async () => {
    const { service, retryQueue } = setUp(() => transient(3_600_000));
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    let message: RetryMessage = due('e1');
    const kinds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const result = await service.retry({ ...message, notBefore: 0 }, budget(), silentLog);
      kinds.push(result.kind);
      if (result.kind === 'dead_lettered') break;
      message = retryQueue.scheduled.at(-1)!;
    }
    expect(kinds.at(-1)).toBe('dead_lettered');
    expect(kinds.length).toBeLessThanOrEqual(SCHEDULE.length);
  });
});

describe('ErasureService: what a redrive and an interrupted attempt leave behind', () => {
  it('reopens on redrive even when the chain ended another way after the dead letter was sent', async () => {
    let healthy = false;
    const { service, store, retryQueue } = setUp(() => (healthy ? deleted() : transient()));
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    await service.retry(due('e1', SCHEDULE.length - 1), budget(), silentLog);
    const deadLetter = retryQueue.deadLetters[0]!;
    // Another delivery of the last step moved the chain on after the dead letter was sent.
    await store.advanceRetryStep('e1', store.requests.get('e1')!.retryStep, 'another-step');
    healthy = true;

    const result = await service.retry(deadLetter, budget(), silentLog);

    expect(result).toMatchObject({
      kind: 'done',
      record: { persons: [{ outcome: 'erased', note: expect.stringContaining('redrive') }] },
    });
  });

  it('knows a dead letter by its flag, not by the schedule in force when it is redriven', async () => {
    const { service, store, retryQueue } = setUp(() => transient());
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    await service.retry(due('e1', SCHEDULE.length - 1), budget(), silentLog);
    const longer = new ErasureService({
      store,
      verifik: new ScriptedVerifik(() => deleted()),
      retryQueue: new RecordingRetryQueue(),
      retryPolicy: new RetryPolicy([...SCHEDULE, 8_000, 16_000], () => 0.5),
      hashSubjectRef: async (ref) => ref,
      retentionDays: 10,
      concurrency: 1,
      leaseMarginMs: 1_000,
    });

    const result = await longer.retry(retryQueue.deadLetters[0]!, budget(), silentLog);

    expect(result).toMatchObject({ kind: 'done', record: { persons: [{ outcome: 'erased' }] } });
  });

  it('keeps an interrupted attempt in mind through later answers, so a final 404 carries a note', async () => {
    const { store, service } = setUp((_id, call): VendorAnswer =>
      call === 1
        ? { kind: 'transient', status: 429, attempts: 1, message: 'Verifik answered 429', uncertain: false }
        : notFound(),
    );
    await recordRequest(store, 'e1', ['p1']);
    await store.claimPerson('e1', 'p1', { owner: 'crashed', now: 0, leaseUntil: 1, receivedAt: '', expiresAt: 1 });

    await service.retry(due('e1'), budget(), silentLog);
    const { record } = (await service.retry(due('e1', 1), budget(), silentLog)) as { record: ErasureRecord };

    expect(record.persons[0]).toMatchObject({ outcome: 'already_erased', note: expect.any(String) });
  });
});

describe('the persons a request holds while the invocation that recorded it erases them', () => {
  const first = { receivedAt: new Date().toISOString(), expiresAt: 1 };

  it('calls Verifik with no claim first: the request and each person’s outcome are its only writes', async () => {
    const { store, verifik, service } = setUp();
    const before = Date.now();
    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    expect(record.persons).toMatchObject([{ personId: 'p1', outcome: 'erased', attempts: 1 }]);
    expect([verifik.calls, verifik.gets]).toEqual([['p1'], ['p1']]);
    expect(store.writes).toBe(2);
    // The hold outlasts the budget by the lease margin, like a claim.
    expect(store.requests.get('e1')?.heldUntil).toBeGreaterThanOrEqual(before + 5_000 + 1_000);
    expect((await store.erasuresForPerson('p1')).map((e) => e.erasureId)).toEqual(['e1']);
  });

  it('leaves them to it when the retry chain comes while the hold stands, and comes back when it ends, no attempt used', async () => {
    const { store, verifik, service, retryQueue } = setUp();
    const heldUntil = Date.now() + 60_000;
    await recordRequest(store, 'e1', ['p1'], { heldUntil });

    const result = await service.retry(due('e1'), budget(), silentLog);

    expect(verifik.calls).toHaveLength(0);
    expect(result).toEqual({ kind: 'deferred', until: heldUntil + 1_000 });
    expect(retryQueue.scheduled.at(-1)).toMatchObject({ attempt: 0, notBefore: heldUntil + 1_000 });
    expect(store.persons.size).toBe(0);
  });

  it('writes no claim for a held person when another person of the request is open too', async () => {
    const { store, verifik, service } = setUp();
    await recordRequest(store, 'e1', ['p1', 'p2'], { heldUntil: Date.now() + 60_000 });
    await store.settlePerson('e1', 'p1', 'holder', { outcome: 'pending', attempts: 1, updatedAt: '' }, first);
    const writes = store.writes;

    const result = await service.retry(due('e1'), budget(), silentLog);

    expect(verifik.calls).toEqual(['p1']);
    expect(result).toMatchObject({ kind: 'rescheduled', record: { persons: [{ outcome: 'erased' }, { outcome: 'pending' }] } });
    // p1's claim and outcome, the next step's move: nothing for p2.
    expect(store.writes - writes).toBe(3);
  });

  it('leaves them to it when a redelivery comes while the first delivery is calling Verifik', async () => {
    const { verifik, service } = setUp();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    verifik.onCall = () => released;
    const input = { erasureId: 'e1', personIds: ['p1'] };

    const first = service.submit(input, budget(), silentLog);
    while (verifik.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const again = await service.submit(input, budget(), silentLog);
    release();

    expect(again.persons).toMatchObject([{ personId: 'p1', outcome: 'pending', attempts: 0 }]);
    await expect(first).resolves.toMatchObject({ persons: [{ outcome: 'erased' }] });
    expect(verifik.calls).toEqual(['p1']);
  });

  it('takes over a person the holder never recorded once the hold ran out, noting it may have been deleted then', async () => {
    const { store, service } = setUp(() => notFound());
    await recordRequest(store, 'e1', ['p1'], { heldUntil: Date.now() - 1 });

    const { record } = (await service.retry(due('e1'), budget(), silentLog)) as { record: ErasureRecord };

    expect(record.persons[0]).toMatchObject({ outcome: 'already_erased', note: INTERRUPTED_NOTE });
  });

  it('holds nothing when the request is only recorded (a CRM hook): the worker finds its persons never attempted', async () => {
    const { store, service } = setUp(() => notFound());
    await service.record({ erasureId: 'e1', personIds: ['p1'] }, silentLog);
    expect(store.requests.get('e1')?.heldUntil).toBeUndefined();

    const { record } = (await service.retry(due('e1'), budget(), silentLog)) as { record: ErasureRecord };

    expect(record.persons).toEqual([expect.objectContaining({ outcome: 'already_erased', attempts: 1 })]);
    expect(record.persons[0]!.note).toBeUndefined();
  });
});

describe('verified absence after a delete', () => {
  it('reads the person back after a 2xx delete and records verifiedAbsentAt when Verifik answers 404', async () => {
    const { service, verifik } = setUp();

    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    expect(verifik.calls).toEqual(['p1']);
    expect(verifik.gets).toEqual(['p1']);
    expect(record.status).toBe('completed');
    expect(record.persons[0]).toMatchObject({
      outcome: 'erased',
      vendorStatus: 200,
      attempts: 1,
      verifyAttempts: 1,
      deletedAt: expect.any(String),
      verifiedAbsentAt: record.persons[0]!.completedAt,
      evidence: { signature: 'Certified by Verifik.co' },
    });
  });

  it('needs no GET when the DELETE itself was answered 404 PERSON_NOT_FOUND', async () => {
    const { service, verifik } = setUp(() => notFound());

    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    expect(verifik.gets).toEqual([]);
    expect(record.persons[0]).toMatchObject({ outcome: 'already_erased', verifiedAbsentAt: record.persons[0]!.completedAt });
  });

  it('fails a person Verifik still holds after a 200, with STILL_PRESENT, and counts it', async () => {
    const { service, verifik, metrics } = setUp();
    verifik.presence = () => present();

    const record = await service.submit({ erasureId: 'e1', personIds: ['p1', 'p2'] }, budget(), silentLog);

    expect(record.status).toBe('failed');
    expect(record.persons[0]).toMatchObject({
      outcome: 'failed',
      vendorStatus: 200,
      deletedAt: expect.any(String),
      lastError: expect.stringMatching(new RegExp(`^${STILL_PRESENT}: `)),
    });
    expect(record.persons[0]!.verifiedAbsentAt).toBeUndefined();
    expect(metrics.counts.VerifikPersonStillPresent).toBe(2);
    expect(metrics.counts.Failed).toBe(2);
    expect(metrics.counts.Erased).toBeUndefined();
  });

  it('keeps a person whose GET got no clear answer pending (not completed), and the retry path only reads it back', async () => {
    const { service, verifik } = setUp();
    verifik.presence = (_, call) => (call === 1 ? unclear(503) : absent());

    const first = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    expect(first.status).toBe('pending');
    expect(first.completedAt).toBeUndefined();
    expect(first.persons[0]).toMatchObject({
      outcome: 'pending',
      vendorStatus: 200,
      deletedAt: expect.any(String),
      evidence: { signature: 'Certified by Verifik.co' },
      lastError: `${AWAITING_VERIFICATION}: Verifik answered 503`,
      verifyAttempts: 2,
    });
    expect(first.persons[0]!.completedAt).toBeUndefined();

    const result = await service.retry(due('e1'), budget(), silentLog);

    expect(result.kind).toBe('done');
    expect(verifik.calls).toEqual(['p1']); // never deleted twice
    expect(verifik.gets).toEqual(['p1', 'p1']);
    const settled = (await service.get('e1'))!;
    expect(settled.status).toBe('completed');
    expect(settled.persons[0]).toMatchObject({
      outcome: 'erased',
      attempts: 1,
      verifyAttempts: 3,
      verifiedAbsentAt: settled.persons[0]!.completedAt,
      evidence: { signature: 'Certified by Verifik.co' },
    });
    expect(settled.persons[0]!.lastError).toBeUndefined();
  });

  it('fails on the retry path too when Verifik still holds the person', async () => {
    const { service, verifik, metrics } = setUp();
    verifik.presence = (_, call) => (call === 1 ? unclear(429) : present());
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    await service.retry(due('e1'), budget(), silentLog);

    const settled = (await service.get('e1'))!;
    expect(settled.persons[0]).toMatchObject({ outcome: 'failed', lastError: expect.stringContaining(STILL_PRESENT) });
    expect(verifik.calls).toEqual(['p1']);
    expect(metrics.counts.VerifikPersonStillPresent).toBe(1);
  });

  it('gives up verifying when the schedule runs out: failed, exhausted, dead-lettered, and a redrive verifies again', async () => {
    const { service, verifik, retryQueue } = setUp();
    verifik.presence = () => unclear(503);
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    let result;
    for (let attempt = 0; attempt < SCHEDULE.length; attempt++)
      result = await service.retry(due('e1', attempt), budget(), silentLog);

    expect(result!.kind).toBe('dead_lettered');
    expect(retryQueue.deadLetters).toHaveLength(1);
    const gaveUp = (await service.get('e1'))!;
    expect(gaveUp.status).toBe('failed');
    expect(gaveUp.persons[0]).toMatchObject({
      outcome: 'failed',
      exhausted: true,
      deletedAt: expect.any(String),
      lastError: expect.stringContaining(AWAITING_VERIFICATION),
    });
    // One DELETE, then one GET call per invocation: the inline one and one per step of the schedule.
    expect(verifik.calls).toEqual(['p1']);
    expect(verifik.gets).toHaveLength(1 + SCHEDULE.length);

    verifik.presence = () => absent();
    await service.retry({ ...retryQueue.deadLetters[0]!, notBefore: 0 }, budget(), silentLog);

    expect(verifik.calls).toEqual(['p1']);
    expect((await service.get('e1'))!.persons[0]).toMatchObject({ outcome: 'erased', verifiedAbsentAt: expect.any(String) });
  });

  it('counts GETs against the redelivery cap, so replays cannot multiply calls to Verifik', async () => {
    const { service, verifik } = setUp();
    verifik.presence = () => unclear(503); // 2 calls each

    for (let i = 0; i < 8; i++) await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    // 1 DELETE, then GETs of 2 calls each until DELETE + GETs reach the default cap of 10.
    expect(verifik.calls).toHaveLength(1);
    expect(verifik.gets).toHaveLength(5);
  });

  it('records a 2xx as erased at once, without a GET, when the switch is off', async () => {
    const { service, verifik } = setUp(undefined, 4, { verifyAfterDelete: false });

    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    expect(verifik.gets).toEqual([]);
    expect(record.status).toBe('completed');
    expect(record.persons[0]).toMatchObject({ outcome: 'erased', deletedAt: expect.any(String) });
    expect(record.persons[0]!.verifiedAbsentAt).toBeUndefined();
  });

  it('records as erased, without calling Verifik, a person left awaiting verification when the switch is turned off', async () => {
    const on = setUp();
    on.verifik.presence = () => unclear(503);
    await on.service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    const off = setUp(undefined, 4, { verifyAfterDelete: false, store: on.store });

    await off.service.retry(due('e1'), budget(), silentLog);

    expect(off.verifik.calls).toEqual([]);
    expect(off.verifik.gets).toEqual([]);
    expect((await off.service.get('e1'))!.persons[0]).toMatchObject({ outcome: 'erased', attempts: 1 });
  });

  it('treats a transient DELETE as before: no GET until Verifik accepts the delete', async () => {
    const { service, verifik } = setUp((_, call) => (call === 1 ? transient() : deleted()));

    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    expect(verifik.gets).toEqual([]);
    await service.retry(due('e1'), budget(), silentLog);

    expect(verifik.calls).toEqual(['p1', 'p1']);
    expect(verifik.gets).toEqual(['p1']);
    expect((await service.get('e1'))!.persons[0]).toMatchObject({ outcome: 'erased', attempts: 4 });
  });
});

describe('the statutory clock on a record', () => {
  it('gives every erasure dueAt one calendar month after receipt', async () => {
    const { service } = setUp(undefined, 4, { now: () => new Date('2026-01-31T09:00:00.000Z') });

    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    expect(record).toMatchObject({ receivedAt: '2026-01-31T09:00:00.000Z', dueAt: '2026-02-28T09:00:00.000Z' });
    expect(record.extendedDueAt).toBeUndefined();
  });

  it('extends once, before dueAt, from receipt, keeping the reason and when it was asked', async () => {
    let now = new Date('2026-01-31T09:00:00.000Z');
    const { service, store } = setUp(undefined, 4, { now: () => now });
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    now = new Date('2026-02-20T12:00:00.000Z');

    const record = await service.extend('e1', { months: 2, reason: 'complex request, several systems' }, silentLog);

    expect(record).toMatchObject({
      dueAt: '2026-02-28T09:00:00.000Z',
      extendedDueAt: '2026-04-30T09:00:00.000Z',
      extension: { months: 2, reason: 'complex request, several systems', requestedAt: '2026-02-20T12:00:00.000Z' },
      status: 'completed',
    });
    expect((await service.get('e1'))!.extendedDueAt).toBe('2026-04-30T09:00:00.000Z');
    expect(store.requests.get('e1')!.extension).toEqual(record.extension);
  });

  it('answers the same extension asked again with the record as it stands, and refuses another with 409', async () => {
    let now = new Date('2026-03-01T00:00:00.000Z');
    const { service } = setUp(undefined, 4, { now: () => now });
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    const first = await service.extend('e1', { months: 1, reason: 'r' }, silentLog);
    now = new Date('2026-03-02T00:00:00.000Z');

    await expect(service.extend('e1', { months: 1, reason: 'r' }, silentLog)).resolves.toEqual(first);
    const refused = service.extend('e1', { months: 2, reason: 'r' }, silentLog);
    await expect(refused).rejects.toBeInstanceOf(ExtensionRefusedError);
    await expect(refused).rejects.toMatchObject({ statusCode: 409, code: 'already_extended' });
    await expect(service.extend('e1', { months: 1, reason: 'another' }, silentLog)).rejects.toMatchObject({
      code: 'already_extended',
    });
    expect((await service.get('e1'))!.extension).toEqual(first.extension);
  });

  it('refuses an extension on or after dueAt with 409 past_due, writing nothing', async () => {
    let now = new Date('2026-01-31T09:00:00.000Z');
    const { service, store } = setUp(undefined, 4, { now: () => now });
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    const writes = store.writes;
    now = new Date('2026-02-28T09:00:00.000Z');

    await expect(service.extend('e1', { months: 1, reason: 'late' }, silentLog)).rejects.toMatchObject({
      statusCode: 409,
      code: 'past_due',
    });
    expect(store.writes).toBe(writes);
    expect((await service.get('e1'))!.extendedDueAt).toBeUndefined();
  });

  it('answers 404 for an erasure it does not know', async () => {
    const { service, store } = setUp();

    await expect(service.extend('nobody', { months: 1, reason: 'r' }, silentLog)).rejects.toBeInstanceOf(NotFoundError);
    expect(store.writes).toBe(0);
  });

  it('lets only one of two concurrent, different extensions win', async () => {
    const { service } = setUp();
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    const results = await Promise.allSettled([
      service.extend('e1', { months: 1, reason: 'one' }, silentLog),
      service.extend('e1', { months: 2, reason: 'two' }, silentLog),
    ]);

    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const won = results.find((r) => r.status === 'fulfilled')!.value;
    expect((await service.get('e1'))!.extension).toEqual(won.extension);
  });
});
