import type { AuditStore, Claim } from '../../lambda/erasure/ports';
import type { StoredRequest } from '../../lambda/erasure/types';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { MemoryAuditStore } from '../support/memory-audit-store';

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
  expiresAt: 2_000_000_000,
});
const claim = (owner: string, now = Date.now(), leaseMs = 10_000): Claim => ({
  owner,
  now,
  leaseUntil: now + leaseMs,
  receivedAt: '2026-11-28T10:00:00.000Z',
  expiresAt: 2_000_000_000,
});
const settled = (outcome: 'erased' | 'already_erased' | 'pending', vendorStatus: number) => ({
  outcome,
  vendorStatus,
  attempts: 1,
  updatedAt: new Date().toISOString(),
  ...(outcome === 'pending' ? { lastError: 'later' } : { completedAt: new Date().toISOString() }),
});

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
  });
});
