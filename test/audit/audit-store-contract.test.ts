import type { AuditStore, Claim, Settlement } from '../../lambda/erasure/ports';
import type { StoredRequest } from '../../lambda/erasure/types';
import { StorageUnavailableError } from '../../lambda/errors';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { MemoryAuditStore } from '../support/memory-audit-store';
import { dueDateFor } from '../../lambda/erasure/statutory-clock';

/**
 * The AuditStore contract, run against the DynamoDB store and the in-memory store the domain tests
 * use: whatever the domain tests learn from the memory store holds for DynamoDB too.
 */
interface Backend {
  start(): Promise<void>;
  /** A store with nothing in it. */
  emptyStore(): Promise<AuditStore>;
  stop(): Promise<void>;
}

function dynaliteBackend(): Backend {
  let dynamo: TestDynamo | undefined;
  return {
    start: async () => {
      dynamo = await startTestDynamo();
    },
    emptyStore: async () => (await dynamo!.newTable()).store,
    stop: async () => {
      await dynamo?.close();
    },
  };
}

const memoryBackend: Backend = {
  start: async () => {},
  emptyStore: async () => new MemoryAuditStore(),
  stop: async () => {},
};

const request = (erasureId: string, receivedAt: string, personIds = ['p1']): StoredRequest => ({
  erasureId,
  personIds,
  fingerprint: `fp-${erasureId}`,
  receivedAt,
  dueAt: dueDateFor(receivedAt),
  expiresAt: 2_000_000_000,
});
const claim = (owner: string, now = Date.now(), leaseMs = 10_000): Claim => ({
  owner,
  now,
  leaseUntil: now + leaseMs,
  receivedAt: '2026-11-28T10:00:00.000Z',
  expiresAt: 2_000_000_000,
});
const settled = (outcome: Settlement['outcome'], vendorStatus: number) => ({
  outcome,
  vendorStatus,
  attempts: 1,
  updatedAt: new Date().toISOString(),
  ...(outcome === 'pending' ? { lastError: 'later' } : { completedAt: new Date().toISOString() }),
});
/** Failed because the retry schedule ran out: what a redrive reopens. */
const exhausted = (): Settlement => ({ ...settled('failed', 500), attempts: 4, lastError: 'gave up', exhausted: true });

describe.each([
  ['DynamoDB (dynalite)', dynaliteBackend()],
  ['in memory', memoryBackend],
])('AuditStore contract: %s', (_name, backend) => {
  let store: AuditStore;

  beforeAll(() => backend.start());
  afterAll(() => backend.stop());
  beforeEach(async () => {
    store = await backend.emptyStore();
  });

  const personOf = async (erasureId: string, personId: string) =>
    (await store.getErasure(erasureId))?.persons.find((p) => p.personId === personId);

  describe('createRequest', () => {
    it('records a request once and hands back the stored one to a second writer', async () => {
      await expect(store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'))).resolves.toEqual({ created: true });
      const again = await store.createRequest({ ...request('e1', '2026-11-28T11:00:00.000Z'), fingerprint: 'other' });
      expect(again).toEqual({
        created: false,
        existing: expect.objectContaining({ fingerprint: 'fp-e1', receivedAt: '2026-11-28T10:00:00.000Z' }),
      });
    });
  });

  describe('releaseHold', () => {
    it('removes the hold it names, once, and no other', async () => {
      await store.createRequest({ ...request('e1', '2026-11-28T10:00:00.000Z'), heldUntil: 1_000 });

      await expect(store.releaseHold('e1', 999)).resolves.toBe(false);
      await expect(store.releaseHold('e1', 1_000)).resolves.toBe(true);
      await expect(store.releaseHold('e1', 1_000)).resolves.toBe(false);
      await expect(store.releaseHold('never-recorded', 1_000)).resolves.toBe(false);
      expect((await store.getErasure('e1'))?.request.heldUntil).toBeUndefined();
    });
  });

  describe('claimPerson', () => {
    it('lets only one owner hold a person lease at a time', async () => {
      await expect(store.claimPerson('e1', 'p1', claim('a'))).resolves.toMatchObject({ claimed: true, interrupted: false });
      await expect(store.claimPerson('e1', 'p1', claim('b'))).resolves.toMatchObject({
        claimed: false,
        person: { outcome: 'pending' },
      });
    });

    it('hands an expired lease to the next owner and says the earlier attempt was interrupted', async () => {
      await store.claimPerson('e1', 'p1', claim('a', Date.now() - 60_000, 1_000));
      await expect(store.claimPerson('e1', 'p1', claim('b'))).resolves.toMatchObject({ claimed: true, interrupted: true });
    });

    it('creates a person it has never seen as pending with no attempt', async () => {
      await expect(store.claimPerson('e1', 'p1', claim('a'))).resolves.toEqual({
        claimed: true,
        interrupted: false,
        person: { personId: 'p1', outcome: 'pending', attempts: 0 },
      });
    });

    it('holds a lease up to and including its last millisecond, and says until when to a refused owner', async () => {
      const now = Date.now();
      await store.claimPerson('e1', 'p1', claim('a', now, 1_000));

      await expect(store.claimPerson('e1', 'p1', claim('b', now + 1_000))).resolves.toMatchObject({
        claimed: false,
        person: { outcome: 'pending', leaseUntil: now + 1_000 },
      });
      await expect(store.claimPerson('e1', 'p1', claim('b', now + 1_001))).resolves.toMatchObject({
        claimed: true,
        interrupted: true,
      });
    });

    it('hands the next owner the person as the last attempt left it', async () => {
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', { ...settled('pending', 503), uncertain: true });

      await expect(store.claimPerson('e1', 'p1', claim('b'))).resolves.toMatchObject({
        claimed: true,
        interrupted: false,
        person: { personId: 'p1', outcome: 'pending', attempts: 1, vendorStatus: 503, lastError: 'later', uncertain: true },
      });
    });

    it('does not create a person while the request that names it is held by the invocation that recorded it', async () => {
      const now = Date.now();
      await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'));

      await expect(store.claimPerson('e1', 'p1', { ...claim('b', now), heldUntil: now + 1_000 })).resolves.toEqual({
        claimed: false,
        person: { personId: 'p1', outcome: 'pending', attempts: 0, leaseUntil: now + 1_000 },
      });
      expect(await personOf('e1', 'p1')).toBeUndefined();
    });

    it('claims a person with no item after the hold, as interrupted: the holder may have called Verifik', async () => {
      const now = Date.now();
      await expect(store.claimPerson('e1', 'p1', { ...claim('b', now + 1_001), heldUntil: now + 1_000 })).resolves.toEqual({
        claimed: true,
        interrupted: true,
        person: { personId: 'p1', outcome: 'pending', attempts: 0 },
      });
    });

    it('claims a person the holder has recorded as it would any other, even while the hold stands', async () => {
      const now = Date.now();
      const first = { receivedAt: '2026-11-28T10:00:00.000Z', expiresAt: 2_000_000_000 };
      await store.settlePerson('e1', 'p1', 'holder', { ...settled('pending', 503), attempts: 1 }, first);

      await expect(store.claimPerson('e1', 'p1', { ...claim('b', now), heldUntil: now + 60_000 })).resolves.toMatchObject({
        claimed: true,
        interrupted: false,
        person: { outcome: 'pending', attempts: 1, vendorStatus: 503 },
      });
    });

    it.each(['erased', 'already_erased', 'failed'] as const)('never hands out a person that is %s', async (outcome) => {
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', settled(outcome, 200));

      await expect(store.claimPerson('e1', 'p1', claim('b', Date.now() + 3_600_000))).resolves.toMatchObject({
        claimed: false,
        person: { outcome },
      });
    });
  });

  describe('settlePerson', () => {
    it('never changes a terminal outcome: a later 404 does not turn erased into already_erased', async () => {
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', settled('erased', 200));

      const after = await store.settlePerson('e1', 'p1', 'b', settled('already_erased', 404));

      expect(after).toMatchObject({ outcome: 'erased', vendorStatus: 200 });
      await expect(store.claimPerson('e1', 'p1', claim('c'))).resolves.toMatchObject({
        claimed: false,
        person: { outcome: 'erased' },
      });
    });

    it.each([
      ['erased', 'failed'],
      ['already_erased', 'erased'],
      ['failed', 'erased'],
      ['failed', 'pending'],
    ] as const)('keeps %s when %s arrives later, from the owner of the lease as from anyone', async (first, later) => {
      await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'));
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', settled(first, 200));

      for (const owner of ['a', 'b']) {
        await expect(store.settlePerson('e1', 'p1', owner, { ...settled(later, 500), attempts: 9 })).resolves.toMatchObject({
          outcome: first,
          attempts: 1,
        });
      }
      expect(await personOf('e1', 'p1')).toMatchObject({ outcome: first, attempts: 1 });
    });

    it('lets a terminal answer land even when the lease moved on, but not a pending one', async () => {
      await store.claimPerson('e1', 'p1', claim('a', Date.now() - 60_000, 1_000));
      await store.claimPerson('e1', 'p1', claim('b'));

      await expect(store.settlePerson('e1', 'p1', 'a', settled('pending', 503))).resolves.toMatchObject({
        outcome: 'pending',
        lastError: undefined,
      });
      await expect(store.settlePerson('e1', 'p1', 'a', settled('erased', 200))).resolves.toMatchObject({ outcome: 'erased' });
    });

    it('releases the lease with a pending result so the next attempt can start at once', async () => {
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', settled('pending', 401));
      await expect(store.claimPerson('e1', 'p1', claim('b'))).resolves.toMatchObject({ claimed: true, interrupted: false });
    });

    it('records a pending answer from the lease holder and hands back the person without a lease', async () => {
      await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'));
      await store.claimPerson('e1', 'p1', claim('a'));

      const after = await store.settlePerson('e1', 'p1', 'a', {
        ...settled('pending', 429),
        retryAfter: '2026-11-28T10:01:00.000Z',
      });

      expect(after).toMatchObject({
        personId: 'p1',
        outcome: 'pending',
        attempts: 1,
        vendorStatus: 429,
        lastError: 'later',
        retryAfter: '2026-11-28T10:01:00.000Z',
      });
      expect(after.leaseUntil).toBeUndefined();
      expect(await personOf('e1', 'p1')).toEqual(after);
    });

    it('takes a pending answer from the holder whose lease ran out while nobody else claimed the person', async () => {
      await store.claimPerson('e1', 'p1', claim('a', Date.now() - 60_000, 1_000));

      await expect(store.settlePerson('e1', 'p1', 'a', settled('pending', 503))).resolves.toMatchObject({
        outcome: 'pending',
        attempts: 1,
        lastError: 'later',
      });
    });

    it('refuses a second pending answer once the first released the lease', async () => {
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', settled('pending', 503));

      await expect(
        store.settlePerson('e1', 'p1', 'a', { ...settled('pending', 429), attempts: 2, lastError: 'again' }),
      ).resolves.toMatchObject({ outcome: 'pending', attempts: 1, vendorStatus: 503, lastError: 'later' });
    });

    it.each(['erased', 'already_erased'] as const)(
      'drops the errors and Retry-After of earlier attempts when the person becomes %s',
      async (outcome) => {
        await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'));
        await store.claimPerson('e1', 'p1', claim('a'));
        await store.settlePerson('e1', 'p1', 'a', { ...settled('pending', 503), retryAfter: '2026-11-28T10:01:00.000Z' });
        await store.claimPerson('e1', 'p1', claim('b'));

        const after = await store.settlePerson('e1', 'p1', 'b', { ...settled(outcome, 200), attempts: 2 });

        expect(after).toMatchObject({ outcome, attempts: 2, vendorStatus: 200 });
        expect(after.lastError).toBeUndefined();
        expect(after.retryAfter).toBeUndefined();
        expect(await personOf('e1', 'p1')).toEqual(after);
      },
    );

    it('keeps the last error, but not Retry-After, when the person fails', async () => {
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', { ...settled('pending', 503), retryAfter: '2026-11-28T10:01:00.000Z' });
      await store.claimPerson('e1', 'p1', claim('b'));

      const after = await store.settlePerson('e1', 'p1', 'b', { ...settled('failed', 503), attempts: 2 });

      expect(after).toMatchObject({ outcome: 'failed', attempts: 2, lastError: 'later' });
      expect(after.retryAfter).toBeUndefined();
    });

    it('keeps what an earlier attempt recorded when a later one does not say it', async () => {
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', { ...settled('pending', 503), uncertain: true, note: 'interrupted' });
      await store.claimPerson('e1', 'p1', claim('b'));

      const after = await store.settlePerson('e1', 'p1', 'b', {
        outcome: 'pending',
        attempts: 2,
        updatedAt: new Date().toISOString(),
      });

      expect(after).toMatchObject({ attempts: 2, vendorStatus: 503, lastError: 'later', uncertain: true, note: 'interrupted' });
    });

    describe('a first settlement (the holder of the request, which never claimed the person)', () => {
      const first = { receivedAt: '2026-11-28T10:00:00.000Z', expiresAt: 2_000_000_000 };

      it.each(['erased', 'pending'] as const)('creates the person, %s, found by person like a claimed one', async (outcome) => {
        await store.createRequest(request('e1', first.receivedAt));

        await expect(store.settlePerson('e1', 'p1', 'holder', settled(outcome, 200), first)).resolves.toMatchObject({
          personId: 'p1',
          outcome,
          attempts: 1,
          leaseUntil: undefined,
        });
        expect(await personOf('e1', 'p1')).toMatchObject({ outcome, attempts: 1 });
        expect(await store.erasuresForPerson('p1')).toEqual([
          { erasureId: 'e1', receivedAt: first.receivedAt, person: expect.objectContaining({ personId: 'p1', outcome }) },
        ]);
      });

      it('lands a terminal answer on a person claimed since the hold ran out, but not a pending one', async () => {
        await store.claimPerson('e1', 'p1', claim('worker'));

        await expect(store.settlePerson('e1', 'p1', 'holder', settled('pending', 503), first)).resolves.toMatchObject({
          outcome: 'pending',
          attempts: 0,
          leaseUntil: expect.any(Number),
        });
        await expect(store.settlePerson('e1', 'p1', 'holder', settled('erased', 200), first)).resolves.toMatchObject({
          outcome: 'erased',
          attempts: 1,
        });
      });

      it('never changes a terminal outcome', async () => {
        await store.settlePerson('e1', 'p1', 'holder', settled('erased', 200), first);

        await expect(store.settlePerson('e1', 'p1', 'holder', settled('already_erased', 404), first)).resolves.toMatchObject({
          outcome: 'erased',
        });
      });
    });

    it('refuses to settle a person that was never claimed', async () => {
      await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'));
      await expect(store.settlePerson('e1', 'p1', 'a', settled('erased', 200))).rejects.toBeInstanceOf(StorageUnavailableError);
    });
  });

  describe('advanceRetryStep', () => {
    beforeEach(async () => {
      await store.createRequest({ ...request('e1', '2026-11-28T10:00:00.000Z'), retryStep: 's1' });
    });
    const stepOf = async (erasureId: string) => (await store.getErasure(erasureId))?.request.retryStep;

    it('moves the chain from the step it is at', async () => {
      await expect(store.advanceRetryStep('e1', 's1', 's2')).resolves.toBe(true);
      expect(await stepOf('e1')).toBe('s2');
    });

    it('says it moved when the chain is at the target step already', async () => {
      await store.advanceRetryStep('e1', 's1', 's2');
      await expect(store.advanceRetryStep('e1', 's1', 's2')).resolves.toBe(true);
      expect(await stepOf('e1')).toBe('s2');
    });

    it('refuses when the chain is at another step, and leaves it there', async () => {
      await expect(store.advanceRetryStep('e1', 's0', 's2')).resolves.toBe(false);
      expect(await stepOf('e1')).toBe('s1');
    });

    it('moves a request recorded before retry steps existed only from no step', async () => {
      await store.createRequest(request('old', '2026-11-28T10:00:00.000Z'));

      await expect(store.advanceRetryStep('old', 's1', 's2')).resolves.toBe(false);
      expect(await stepOf('old')).toBeUndefined();
      await expect(store.advanceRetryStep('old', undefined, 's1')).resolves.toBe(true);
      expect(await stepOf('old')).toBe('s1');
      await expect(store.advanceRetryStep('old', undefined, 's1')).resolves.toBe(true);
      await expect(store.advanceRetryStep('old', undefined, 's2')).resolves.toBe(false);
      expect(await stepOf('old')).toBe('s1');
    });

    it('refuses for an erasure that was never recorded', async () => {
      await expect(store.advanceRetryStep('nope', undefined, 's1')).resolves.toBe(false);
      await expect(store.advanceRetryStep('nope', 's1', 's2')).resolves.toBe(false);
      expect(await store.getErasure('nope')).toBeUndefined();
    });
  });

  describe('reopenPerson', () => {
    beforeEach(async () => {
      await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'));
    });

    it('turns a person that failed because retries ran out back to pending, with the note', async () => {
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', exhausted());

      await expect(store.reopenPerson('e1', 'p1', 'redriven', new Date().toISOString())).resolves.toBe(true);

      const person = await personOf('e1', 'p1');
      expect(person).toMatchObject({ outcome: 'pending', note: 'redriven', attempts: 4, lastError: 'gave up' });
      expect(person?.exhausted).toBeUndefined();
      expect(person?.completedAt).toBeUndefined();
      await expect(store.claimPerson('e1', 'p1', claim('b'))).resolves.toMatchObject({ claimed: true, interrupted: false });
    });

    it.each([
      ['failed for another reason', { ...settled('failed', 400), lastError: 'rejected' }],
      ['erased', settled('erased', 200)],
      ['already erased', settled('already_erased', 404)],
      ['pending', settled('pending', 503)],
    ] as const)('leaves a person that is %s as it is', async (_what, settlement) => {
      await store.claimPerson('e1', 'p1', claim('a'));
      const before = await store.settlePerson('e1', 'p1', 'a', settlement);

      await expect(store.reopenPerson('e1', 'p1', 'redriven', new Date().toISOString())).resolves.toBe(false);

      expect(await personOf('e1', 'p1')).toEqual(before);
    });

    it('refuses a person that was never attempted, and does not create it', async () => {
      await expect(store.reopenPerson('e1', 'p1', 'redriven', new Date().toISOString())).resolves.toBe(false);
      expect((await store.getErasure('e1'))?.persons).toEqual([]);
    });

    it('reopens a person once', async () => {
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', exhausted());

      await expect(store.reopenPerson('e1', 'p1', 'redriven', new Date().toISOString())).resolves.toBe(true);
      await expect(store.reopenPerson('e1', 'p1', 'redriven again', new Date().toISOString())).resolves.toBe(false);
      expect(await personOf('e1', 'p1')).toMatchObject({ outcome: 'pending', note: 'redriven' });
    });
  });

  describe('getErasure', () => {
    it('reads the request and every person of one erasure, and nothing of another', async () => {
      await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z', ['p1', 'p2']));
      await store.createRequest(request('e10', '2026-11-28T10:00:00.000Z', ['p1']));
      await store.claimPerson('e1', 'p2', claim('a'));
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.claimPerson('e10', 'p1', claim('a'));
      await store.settlePerson('e10', 'p1', 'a', settled('erased', 200));

      const erasure = await store.getErasure('e1');

      expect(erasure?.request).toEqual(request('e1', '2026-11-28T10:00:00.000Z', ['p1', 'p2']));
      expect(erasure?.persons.map((p) => p.personId).sort()).toEqual(['p1', 'p2']);
      expect(erasure?.persons.map((p) => p.outcome)).toEqual(['pending', 'pending']);
    });

    it('says until when a person is leased, and nothing once the lease is released', async () => {
      await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'));
      const until = claim('a').leaseUntil;
      await store.claimPerson('e1', 'p1', { ...claim('a'), leaseUntil: until });
      expect((await personOf('e1', 'p1'))?.leaseUntil).toBe(until);

      await store.settlePerson('e1', 'p1', 'a', settled('pending', 503));
      expect((await personOf('e1', 'p1'))?.leaseUntil).toBeUndefined();
    });

    it('knows no erasure whose request was never recorded, even when a person was claimed', async () => {
      await store.claimPerson('e1', 'p1', claim('a'));
      expect(await store.getErasure('e1')).toBeUndefined();
    });

    it('hands out copies: changing an answer changes nothing stored', async () => {
      await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'));
      await store.claimPerson('e1', 'p1', claim('a'));
      await store.settlePerson('e1', 'p1', 'a', { ...settled('erased', 200), evidence: { responseId: 'RQ1' } });

      const first = (await store.getErasure('e1'))!;
      first.request.personIds.push('intruder');
      first.persons[0]!.evidence!.responseId = 'forged';

      const again = (await store.getErasure('e1'))!;
      expect(again.request.personIds).toEqual(['p1']);
      expect(again.persons[0]!.evidence).toEqual({ responseId: 'RQ1' });
    });
  });

  describe('erasuresForPerson', () => {
    it('finds every erasure that touched a person, newest first', async () => {
      for (const [id, at] of [
        ['old', '2025-01-01T00:00:00.000Z'],
        ['new', '2026-11-28T00:00:00.000Z'],
        ['mid', '2026-02-01T00:00:00.000Z'],
      ] as const) {
        await store.createRequest(request(id, at));
        await store.claimPerson(id, 'p1', { ...claim('o'), receivedAt: at });
      }
      await store.claimPerson('other', 'p2', claim('o'));

      const refs = await store.erasuresForPerson('p1');

      expect(refs.map((r) => r.erasureId)).toEqual(['new', 'mid', 'old']);
      expect(refs[0]!.person).toMatchObject({ personId: 'p1', outcome: 'pending' });
    });

    it('returns at most `limit` of them, the newest, with when each was received and how it ended', async () => {
      for (const [id, at] of [
        ['old', '2025-01-01T00:00:00.000Z'],
        ['new', '2026-11-28T00:00:00.000Z'],
        ['mid', '2026-02-01T00:00:00.000Z'],
      ] as const) {
        await store.createRequest(request(id, at));
        await store.claimPerson(id, 'p1', { ...claim('o'), receivedAt: at });
      }
      await store.settlePerson('mid', 'p1', 'o', settled('erased', 200));

      const refs = await store.erasuresForPerson('p1', { limit: 2 });

      expect(refs).toEqual([
        { erasureId: 'new', receivedAt: '2026-11-28T00:00:00.000Z', person: expect.objectContaining({ outcome: 'pending' }) },
        { erasureId: 'mid', receivedAt: '2026-02-01T00:00:00.000Z', person: expect.objectContaining({ outcome: 'erased' }) },
      ]);
    });

    it('finds nothing for a person no erasure touched', async () => {
      await store.claimPerson('e1', 'p1', claim('o'));
      await expect(store.erasuresForPerson('p2')).resolves.toEqual([]);
    });
  });

  describe('requestsReceivedBetween', () => {
    it('lists the requests received in a time range across months, oldest first, end excluded', async () => {
      for (const [id, at] of [
        ['before', '2026-09-30T23:59:59.999Z'],
        ['start', '2026-10-01T00:00:00.000Z'],
        ['oct', '2026-10-15T12:00:00.000Z'],
        ['nov', '2026-11-02T12:00:00.000Z'],
        ['end', '2026-11-10T00:00:00.000Z'],
      ] as const) {
        await store.createRequest(request(id, at));
      }

      const found = await store.requestsReceivedBetween(
        new Date('2026-10-01T00:00:00.000Z'),
        new Date('2026-11-10T00:00:00.000Z'),
      );

      expect(found.map((r) => r.erasureId)).toEqual(['start', 'oct', 'nov']);
    });

    it('lists them oldest first whatever order they were recorded in, across a year, up to the last millisecond', async () => {
      for (const [id, at] of [
        ['jan', '2027-01-05T08:00:00.000Z'],
        ['last', '2027-01-31T23:59:59.999Z'],
        ['dec', '2026-12-31T23:59:59.999Z'],
        ['feb', '2027-02-01T00:00:00.000Z'],
        ['first', '2026-12-01T00:00:00.000Z'],
      ] as const) {
        await store.createRequest(request(id, at));
      }

      const found = await store.requestsReceivedBetween(
        new Date('2026-12-01T00:00:00.000Z'),
        new Date('2027-02-01T00:00:00.000Z'),
      );

      expect(found.map((r) => r.erasureId)).toEqual(['first', 'dec', 'jan', 'last']);
      expect(found[0]).toEqual(request('first', '2026-12-01T00:00:00.000Z'));
    });

    it('finds nothing in an empty range', async () => {
      await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'));
      const at = new Date('2026-11-28T10:00:00.000Z');
      await expect(store.requestsReceivedBetween(at, at)).resolves.toEqual([]);
    });
  });

  describe('requestPagesReceivedBetween', () => {
    const pagesOf = async (from: string, to: string, pageSize: number) => {
      const pages: StoredRequest[][] = [];
      for await (const page of store.requestPagesReceivedBetween(new Date(from), new Date(to), { pageSize })) pages.push(page);
      return pages;
    };

    it('yields the same requests as requestsReceivedBetween, in order, in pages of at most pageSize', async () => {
      for (let i = 0; i < 11; i++) {
        const day = String(25 + (i % 6)).padStart(2, '0');
        await store.createRequest(
          request(`e${String(i).padStart(2, '0')}`, `2026-11-${day}T10:00:${String(i).padStart(2, '0')}.000Z`),
        );
      }
      await store.createRequest(request('dec', '2026-12-01T00:00:00.000Z'));
      const from = '2026-11-01T00:00:00.000Z';
      const to = '2027-01-01T00:00:00.000Z';

      const pages = await pagesOf(from, to, 3);

      expect(pages.every((page) => page.length >= 1 && page.length <= 3)).toBe(true);
      expect(pages.flat()).toEqual(await store.requestsReceivedBetween(new Date(from), new Date(to)));
      expect(pages.flat()).toHaveLength(12);
    });

    it('yields no page for an empty or reversed range (DynamoDB would refuse the reversed key condition)', async () => {
      await store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'));
      await expect(pagesOf('2026-11-28T10:00:00.000Z', '2026-11-28T10:00:00.000Z', 10)).resolves.toEqual([]);
      await expect(pagesOf('2026-11-29T00:00:00.000Z', '2026-11-28T00:00:00.000Z', 10)).resolves.toEqual([]);
      await expect(store.requestsReceivedBetween(new Date('2026-11-29'), new Date('2026-11-28'))).resolves.toEqual([]);
    });
  });
});
