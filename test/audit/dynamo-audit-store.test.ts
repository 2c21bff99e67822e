import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { hashSubjectRef } from '../../lambda/erasure/fingerprint';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { startHarness } from '../support/http-harness';

// What every AuditStore does is in audit-store-contract.test.ts; this file holds what only the
// DynamoDB table shows.

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
});
