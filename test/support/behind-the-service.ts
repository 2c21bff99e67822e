import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The reason an erasure gets when its request item is rewritten behind the service's back. */
export const CHANGED_REASON = 'changed behind the service';

/**
 * Rewrites an erasure's request item with a client of its own, as someone with table access but not
 * going through the service would: the local stream capture does not see it, so the archive does not.
 */
export async function rewriteRequestBehindService(client: DynamoDBClient, table: string, erasureId: string): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: `ERASURE#${erasureId}` }, sk: { S: 'REQUEST' } },
      UpdateExpression: 'SET reason = :r',
      ExpressionAttributeValues: { ':r': { S: CHANGED_REASON } },
    }),
  );
}
