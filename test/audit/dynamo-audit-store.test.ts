import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { hashSubjectRef } from '../../lambda/erasure/fingerprint';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { startHarness } from '../support/http-harness';

// What every AuditStore does is in audit-store-contract.test.ts; this file holds what only the
// DynamoDB table shows: its items, their keys and TTL attribute.

let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(() => dynamo.close());

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

  it('writes the request and each person under the keys of the table and its two indexes, each with the TTL attribute', async () => {
    const { tableName, store } = await dynamo.newTable();
    const receivedAt = '2026-11-28T10:00:00.000Z';
    const now = Date.now();
    await store.createRequest({
      erasureId: 'e1',
      personIds: ['p1'],
      fingerprint: 'fp',
      receivedAt,
      dueAt: '2026-12-28T10:00:00.000Z',
      expiresAt: 2_000_000_000,
    });
    await store.claimPerson('e1', 'p1', { owner: 'a', now, leaseUntil: now + 10_000, receivedAt, expiresAt: 2_000_000_001 });
    const item = async (pk: string, sk: string) =>
      (await dynamo.client.send(new GetCommand({ TableName: tableName, Key: { pk, sk }, ConsistentRead: true }))).Item;

    expect(await item('ERASURE#e1', 'REQUEST')).toMatchObject({
      gsi1pk: 'RECEIVED#2026-11',
      gsi1sk: `${receivedAt}#e1`,
      expiresAt: 2_000_000_000,
    });
    const person = await item('ERASURE#e1', 'PERSON#p1');
    expect(person).toMatchObject({
      gsi2pk: 'PERSON#p1',
      gsi2sk: `${receivedAt}#e1`,
      expiresAt: 2_000_000_001,
      leaseOwner: 'a',
      leaseUntil: now + 10_000,
    });
    expect(person).not.toHaveProperty('gsi1pk');

    await store.settlePerson('e1', 'p1', 'a', { outcome: 'erased', attempts: 1, vendorStatus: 200, updatedAt: receivedAt });
    const settled = await item('ERASURE#e1', 'PERSON#p1');
    expect(settled).toMatchObject({ outcome: 'erased', gsi2pk: 'PERSON#p1', expiresAt: 2_000_000_001, updatedAt: receivedAt });
    expect(settled).not.toHaveProperty('leaseOwner');
    expect(settled).not.toHaveProperty('leaseUntil');
  });
});
