import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * A second reference, beside the baseline: the same calls the real handler makes for one person,
 * in the same order, with raw SDK clients and nothing else (no middleware, validation, signature
 * check, logging or metrics): SQS SendMessage (arm the retry), PutItem (record the request),
 * UpdateItem (take the person's lease), DELETE at Verifik, UpdateItem (record the outcome).
 * What the real handler costs above this is its own code; what this costs above the baseline is
 * the design's calls.
 */
export interface FloorConfig {
  verifikBaseUrl: string;
  verifikToken: string;
  tableName: string;
  retryQueueUrl: string;
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
}

export type FloorHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export function floorConfigFromEnvironment(env: NodeJS.ProcessEnv = process.env): FloorConfig {
  return {
    verifikBaseUrl: env.VERIFIK_BASE_URL ?? '',
    verifikToken: env.VERIFIK_TOKEN ?? '',
    tableName: env.AUDIT_TABLE_NAME ?? '',
    retryQueueUrl: env.RETRY_QUEUE_URL ?? '',
    dynamodb: new DynamoDBClient(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
    sqs: new SQSClient({}),
  };
}

export function createFloorHandler({
  verifikBaseUrl,
  verifikToken,
  tableName,
  retryQueueUrl,
  dynamodb,
  sqs,
}: FloorConfig): FloorHandler {
  const base = verifikBaseUrl.replace(/\/$/, '');
  return async (event) => {
    const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    const { personIds } = JSON.parse(text) as { personIds: string[] };
    const erasureId = event.headers?.['webhook-id'] ?? randomUUID();
    const pk = { S: `FLOOR#${erasureId}` };
    const receivedAt = new Date().toISOString();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: retryQueueUrl,
        MessageBody: JSON.stringify({ erasureId, attempt: 0, notBefore: Date.now() + 60_000 }),
        DelaySeconds: 60,
      }),
    );
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk, sk: { S: 'REQUEST' }, personIds: { SS: personIds }, receivedAt: { S: receivedAt } },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    const persons: { personId: string; vendorStatus: number }[] = [];
    for (const personId of personIds) {
      const key = { pk, sk: { S: `PERSON#${personId}` } };
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          ConditionExpression: 'attribute_not_exists(pk)',
          UpdateExpression: 'SET outcome = :pending, leaseUntil = :until',
          ExpressionAttributeValues: { ':pending': { S: 'pending' }, ':until': { N: String(Date.now() + 20_000) } },
        }),
      );
      const response = await fetch(`${base}/v2/face-recognition/persons/${encodeURIComponent(personId)}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${verifikToken}`, accept: 'application/json' },
      });
      await response.arrayBuffer();
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          ConditionExpression: 'outcome = :pending',
          UpdateExpression: 'SET outcome = :outcome, vendorStatus = :status, completedAt = :at REMOVE leaseUntil',
          ExpressionAttributeValues: {
            ':pending': { S: 'pending' },
            ':outcome': { S: response.status === 404 ? 'already_erased' : 'erased' },
            ':status': { N: String(response.status) },
            ':at': { S: new Date().toISOString() },
          },
        }),
      );
      persons.push({ personId, vendorStatus: response.status });
    }
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ erasureId, status: 'completed', receivedAt, persons }),
    };
  };
}
