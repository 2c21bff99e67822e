import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { DynamoAuditStore } from '../../lambda/audit/dynamo-audit-store';
import { ensureAuditTable } from '../../infra/local/audit-table';
import { localDynamoClient, startEmbeddedDynamo, type EmbeddedDynamo } from '../../infra/local/embedded-dynamodb';

export interface TestDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** A fresh table per call, so tests do not see each other's items. */
  newTable(): Promise<{ tableName: string; store: DynamoAuditStore }>;
  close(): Promise<void>;
}

/** dynalite on loopback: the real DynamoDB API, conditional writes and all. */
export async function startTestDynamo(): Promise<TestDynamo> {
  const engine: EmbeddedDynamo = await startEmbeddedDynamo();
  const client = localDynamoClient(engine.endpoint);
  return {
    endpoint: engine.endpoint,
    client,
    async newTable() {
      const tableName = `audit-${randomBytes(4).toString('hex')}`;
      await ensureAuditTable(client, tableName);
      return { tableName, store: new DynamoAuditStore(client, tableName) };
    },
    async close() {
      client.destroy();
      await engine.close();
    },
  };
}
