import { request } from 'node:http';
import { ensureAuditTable } from '../../infra/local/audit-table';
import { localDynamoClient, startEmbeddedDynamo } from '../../infra/local/embedded-dynamodb';

/** Sends a whole PutItem and hangs up at once, as a client whose call timed out does; resolves when the body has left. */
function putAndHangUp(endpoint: string, tableName: string, i: number): Promise<void> {
  const body = JSON.stringify({
    TableName: tableName,
    Item: {
      pk: { S: `ERASURE#hang-${i}` },
      sk: { S: 'REQUEST' },
      personId: { S: `p${i}` },
      gsi1pk: { S: 'MONTH#2026-11' },
      gsi1sk: { S: `2026-11-29T00:00:00.000Z#hang-${i}` },
      gsi2pk: { S: `PERSON#p${i}` },
      gsi2sk: { S: `2026-11-29T00:00:00.000Z#hang-${i}` },
    },
  });
  return new Promise((resolve) => {
    const req = request(`${endpoint}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.PutItem',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20261129/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        'x-amz-date': '20261129T000000Z',
      },
    });
    req.on('error', () => undefined);
    req.end(body, () => {
      req.destroy();
      resolve();
    });
  });
}

describe('the embedded DynamoDB engine', () => {
  it('closes cleanly while it is still working on writes whose clients hung up', async () => {
    const engine = await startEmbeddedDynamo();
    const client = localDynamoClient(engine.endpoint);
    await ensureAuditTable(client, 'audit-closing');
    client.destroy();
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on('uncaughtException', onCrash);
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => putAndHangUp(engine.endpoint, 'audit-closing', i)));
      await engine.close();
      // Anything dynalite would still do after the close has had its turn by now.
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      process.off('uncaughtException', onCrash);
    }
    expect(crashes.map(String)).toEqual([]);
  });
});
