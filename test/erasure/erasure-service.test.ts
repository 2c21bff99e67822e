import { ErasureService, INTERRUPTED_NOTE, UNCERTAIN_NOTE } from '../../lambda/erasure/erasure-service';
import { IdempotencyConflictError } from '../../lambda/errors';
import type { VendorAnswer } from '../../lambda/erasure/ports';
import { MemoryAuditStore } from '../support/memory-audit-store';
import { ScriptedVerifik, deleted, notFound, rejected, silentLog, transient, unauthorized } from '../support/scripted-verifik';

const budget = () => ({ deadline: Date.now() + 5_000 });

function setUp(answer?: (personId: string, call: number) => VendorAnswer, concurrency = 4) {
  const store = new MemoryAuditStore();
  const verifik = new ScriptedVerifik(answer);
  const service = new ErasureService({
    store,
    verifik,
    hashSubjectRef: async (ref) => `hash(${ref})`,
    retentionDays: 10,
    concurrency,
    leaseMarginMs: 1_000,
  });
  return { store, verifik, service };
}

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
    const answers: Record<string, VendorAnswer> = { a: deleted(), b: notFound(), c: unauthorized(), d: transient(), e: rejected() };
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
    expect(record.subjectRefHash).toBe('hash(crm-1)');
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
    await expect(service.submit({ erasureId: 'e1', personIds: ['p2'] }, budget(), silentLog)).rejects.toBeInstanceOf(IdempotencyConflictError);
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
    await store.createRequest({ erasureId: 'e1', personIds: ['p1'], fingerprint: 'x', receivedAt: new Date().toISOString(), expiresAt: 1 });
    await store.claimPerson('e1', 'p1', { owner: 'crashed', now: 0, leaseUntil: 1, receivedAt: '', expiresAt: 1 });

    const record = await service.resume('e1', budget(), silentLog);

    expect(record.persons[0]).toMatchObject({ outcome: 'already_erased', note: INTERRUPTED_NOTE });
  });

  it('notes on an already_erased that an uncertain attempt in the same call may have deleted the person', async () => {
    const { service } = setUp(() => notFound(true));
    const record = await service.submit({ erasureId: 'e1', personIds: ['p1'] }, budget(), silentLog);
    expect(record.persons[0]).toMatchObject({ outcome: 'already_erased', note: UNCERTAIN_NOTE });
  });

  it('leaves a person that another delivery is erasing to that delivery', async () => {
    const { store, verifik, service } = setUp();
    await store.createRequest({ erasureId: 'e1', personIds: ['p1'], fingerprint: 'x', receivedAt: new Date().toISOString(), expiresAt: 1 });
    await store.claimPerson('e1', 'p1', { owner: 'other', now: Date.now(), leaseUntil: Date.now() + 60_000, receivedAt: '', expiresAt: 1 });

    const record = await service.resume('e1', budget(), silentLog);

    expect(verifik.calls).toHaveLength(0);
    expect(record.persons[0]!.outcome).toBe('pending');
  });

  it('keeps the request record as received: completedAt is the last person’s', async () => {
    let now = Date.parse('2026-11-28T10:00:00.000Z');
    const store = new MemoryAuditStore();
    const service = new ErasureService({
      store,
      verifik: new ScriptedVerifik(),
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
});
