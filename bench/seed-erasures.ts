import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pMap from 'p-map';
import { REQUEST_SK, erasureKey, monthPartition, personPartition, personSk, timeSortKey } from '../lambda/audit/keys';

/**
 * Writes `count` terminal erasures (one person each, `erased` with Verifik's evidence) straight into an
 * audit table in the layout DynamoAuditStore writes (lambda/audit/keys.ts), received one a minute from
 * `start`. BatchWriteItem: the export benchmark and test need many erasures fast, not the write path.
 */
export async function seedErasures(client: DynamoDBClient, tableName: string, count: number, start: Date): Promise<string[]> {
  const doc = DynamoDBDocumentClient.from(client);
  const items: Record<string, unknown>[] = [];
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const erasureId = `seed_${String(i).padStart(6, '0')}`;
    const personId = `person_${String(i).padStart(6, '0')}`;
    const receivedAt = new Date(start.getTime() + i * 60_000).toISOString();
    const completedAt = new Date(start.getTime() + i * 60_000 + 400).toISOString();
    const expiresAt = Math.floor(start.getTime() / 1000) + 6 * 365 * 86_400;
    ids.push(erasureId);
    items.push({
      pk: erasureKey(erasureId),
      sk: REQUEST_SK,
      gsi1pk: monthPartition(receivedAt),
      gsi1sk: timeSortKey(receivedAt, erasureId),
      erasureId,
      personIds: [personId],
      fingerprint: 'seed',
      receivedAt,
      expiresAt,
      reason: 'gdpr-art-17',
      requestedBy: i % 2 ? 'crm' : '=HYPERLINK("http://x")',
    });
    items.push({
      pk: erasureKey(erasureId),
      sk: personSk(personId),
      gsi2pk: personPartition(personId),
      gsi2sk: timeSortKey(receivedAt, erasureId),
      erasureId,
      personId,
      receivedAt,
      expiresAt,
      outcome: 'erased',
      attempts: 1,
      vendorStatus: 200,
      completedAt,
      evidence: { signature: 'Certified by Verifik.co', dateTime: completedAt },
    });
  }
  const batches: Record<string, unknown>[][] = [];
  for (let at = 0; at < items.length; at += 25) batches.push(items.slice(at, at + 25));
  await pMap(
    batches,
    async (batch) => {
      let pending: { PutRequest: { Item: Record<string, unknown> } }[] = batch.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const { UnprocessedItems } = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        pending = (UnprocessedItems?.[tableName] ?? []) as typeof pending;
      }
    },
    { concurrency: 4 },
  );
  return ids;
}
