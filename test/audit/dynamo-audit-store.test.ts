import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoAuditStore } from '../../lambda/audit/dynamo-audit-store';
import type { Claim } from '../../lambda/erasure/ports';
import type { StoredRequest } from '../../lambda/erasure/types';
import { hashSubjectRef } from '../../lambda/erasure/fingerprint';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { startHarness } from '../support/http-harness';

let dynamo: TestDynamo;
let store: DynamoAuditStore;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(() => dynamo.close());
beforeEach(async () => {
  ({ store } = await dynamo.newTable());
});

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

describe('DynamoAuditStore', () => {
  it('records a request once and hands back the stored one to a second writer', async () => {
    await expect(store.createRequest(request('e1', '2026-11-28T10:00:00.000Z'))).resolves.toEqual({ created: true });
    const again = await store.createRequest({ ...request('e1', '2026-11-28T11:00:00.000Z'), fingerprint: 'other' });
    expect(again).toEqual({
      created: false,
      existing: expect.objectContaining({ fingerprint: 'fp-e1', receivedAt: '2026-11-28T10:00:00.000Z' }),
    });
  });

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

    const found = await store.requestsReceivedBetween(new Date('2026-10-01T00:00:00.000Z'), new Date('2026-11-10T00:00:00.000Z'));

    expect(found.map((r) => r.erasureId)).toEqual(['start', 'oct', 'nov']);
  });
});

describe('what the audit table holds', () => {
  it('keeps subjectRef only as its HMAC with the pepper, and sets the TTL from the retention', async () => {
    const api = await startHarness(dynamo, { RETENTION_DAYS: '30' });
    try {
      const posted = await api.post({ personIds: ['p1'], subjectRef: 'crm-contact-8812' }, { id: 'msg_hashed' });
      const { Items = [] } = await dynamo.client.send(new ScanCommand({ TableName: api.env.AUDIT_TABLE_NAME }));
      const dump = JSON.stringify(Items);

      expect(dump).not.toContain('crm-contact-8812');
      // Kept in the table under the keyed hash, never served: an answer must not link erasures of one subject.
      expect(posted.body).not.toHaveProperty('subjectRefHash');
      expect(dump).toContain(hashSubjectRef(api.env.SUBJECT_REF_PEPPER!, 'crm-contact-8812'));
      const expected = Math.floor(Date.parse(posted.body.receivedAt) / 1000) + 30 * 86_400;
      expect(Items.map((item) => Number(item.expiresAt?.N))).toEqual(Items.map(() => expected));
      expect(dump).not.toContain(api.env.VERIFIK_TOKEN!);
      expect(dump).not.toContain(api.secrets[0]!);
    } finally {
      await api.close();
    }
  });
});
