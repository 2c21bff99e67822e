import { ErasureService } from '../../lambda/erasure/erasure-service';
import { AWAITING_VERIFICATION, STILL_PRESENT } from '../../lambda/erasure/outcome';
import type { RetryMessage, VendorAnswer } from '../../lambda/erasure/ports';
import { RetryPolicy } from '../../lambda/erasure/retry-policy';
import { ExtensionRefusedError, NotFoundError } from '../../lambda/errors';
import { MemoryAuditStore } from '../support/memory-audit-store';
import {
  RecordingMetrics,
  RecordingRetryQueue,
  ScriptedVerifik,
  absent,
  deleted,
  notFound,
  present,
  silentLog,
  transient,
  unclear,
} from '../support/scripted-verifik';

const budget = () => ({ deadline: Date.now() + 5_000 });
const SCHEDULE = [1_000, 2_000, 4_000];

function setUp({
  answer = () => deleted(),
  ...options
}: { answer?: (personId: string, call: number) => VendorAnswer; verifyAfterDelete?: boolean; now?: () => Date } = {}) {
  const store = new MemoryAuditStore();
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
    concurrency: 4,
    leaseMarginMs: 1_000,
    ...options,
  });
  /** The chain's current message, as the retry queue delivers it. */
  const due = (erasureId: string, attempt = 0): RetryMessage => ({
    erasureId,
    attempt,
    notBefore: 0,
    step: store.requests.get(erasureId)?.retryStep,
  });
  return { store, verifik, retryQueue, metrics, service, due };
}

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
    const { service, verifik } = setUp({ answer: () => notFound() });

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
    const { service, verifik, due } = setUp();
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
    const { service, verifik, due, metrics } = setUp();
    verifik.presence = (_, call) => (call === 1 ? unclear(429) : present());
    await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    await service.retry(due('e1'), budget(), silentLog);

    const settled = (await service.get('e1'))!;
    expect(settled.persons[0]).toMatchObject({ outcome: 'failed', lastError: expect.stringContaining(STILL_PRESENT) });
    expect(verifik.calls).toEqual(['p1']);
    expect(metrics.counts.VerifikPersonStillPresent).toBe(1);
  });

  it('gives up verifying when the schedule runs out: failed, exhausted, dead-lettered, and a redrive verifies again', async () => {
    const { service, verifik, retryQueue, due } = setUp();
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
    const { service, verifik } = setUp({ verifyAfterDelete: false });

    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    expect(verifik.gets).toEqual([]);
    expect(record.status).toBe('completed');
    expect(record.persons[0]).toMatchObject({ outcome: 'erased', deletedAt: expect.any(String) });
    expect(record.persons[0]!.verifiedAbsentAt).toBeUndefined();
  });

  it('records as erased, without calling Verifik, a person left awaiting verification when the switch is turned off', async () => {
    const store = new MemoryAuditStore();
    const first = new ErasureService({ ...serviceDeps(store), verifik: unclearVerifik() });
    await first.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    const off = new ScriptedVerifik(() => deleted());
    const second = new ErasureService({ ...serviceDeps(store), verifik: off, verifyAfterDelete: false });

    await second.retry(
      { erasureId: 'e1', attempt: 0, notBefore: 0, step: store.requests.get('e1')!.retryStep },
      budget(),
      silentLog,
    );

    expect(off.calls).toEqual([]);
    expect(off.gets).toEqual([]);
    expect((await second.get('e1'))!.persons[0]).toMatchObject({ outcome: 'erased', attempts: 1 });
  });

  it('treats a transient DELETE as before: no GET until Verifik accepts the delete', async () => {
    const { service, verifik, due } = setUp({ answer: (_, call) => (call === 1 ? transient() : deleted()) });

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
    const { service } = setUp({ now: () => new Date('2026-01-31T09:00:00.000Z') });

    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);

    expect(record).toMatchObject({ receivedAt: '2026-01-31T09:00:00.000Z', dueAt: '2026-02-28T09:00:00.000Z' });
    expect(record.extendedDueAt).toBeUndefined();
  });

  it('extends once, before dueAt, from receipt, keeping the reason and when it was asked', async () => {
    let now = new Date('2026-01-31T09:00:00.000Z');
    const { service, store } = setUp({ now: () => now });
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
    const { service } = setUp({ now: () => now });
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
    const { service, store } = setUp({ now: () => now });
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

function serviceDeps(store: MemoryAuditStore) {
  return {
    store,
    retryQueue: new RecordingRetryQueue(),
    retryPolicy: new RetryPolicy(SCHEDULE, () => 0.5),
    hashSubjectRef: async (ref: string) => `hash(${ref})`,
    retentionDays: 10,
    concurrency: 4,
    leaseMarginMs: 1_000,
  };
}

function unclearVerifik() {
  const verifik = new ScriptedVerifik(() => deleted());
  verifik.presence = () => unclear(503);
  return verifik;
}
