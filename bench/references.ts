import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * The two handlers every benchmark compares ours with, taking the same signed POST /erasures event
 * (API Gateway payload v2) and answering JSON, with no middleware, validation, signature check,
 * logging or metrics:
 * - baseline: what an erasure costs with nothing of ours around it, a DELETE at Verifik per person
 *   and one PutItem;
 * - same calls: the calls our http handler makes, in its order, with raw SDK clients: SQS
 *   SendMessage (arm the retry) and PutItem (record the request, holding its persons) at once, then
 *   per person DELETE at Verifik, GET at Verifik (verified absence), UpdateItem (the person's item,
 *   created with its outcome).
 * What ours costs above "same calls" is our code; what "same calls" costs above the baseline is the
 * design's calls.
 */
/** A handler of a POST /erasures event; the references need no Lambda context. */
export type ErasureHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** What both read from the environment at cold start, as lambda/handlers/http.ts does. */
export function referenceConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    verifikBaseUrl: (env.VERIFIK_BASE_URL ?? '').replace(/\/$/, ''),
    verifikToken: env.VERIFIK_TOKEN ?? '',
    tableName: env.AUDIT_TABLE_NAME ?? '',
    retryQueueUrl: env.RETRY_QUEUE_URL ?? '',
    dynamodb: new DynamoDBClient(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
  };
}

export type ReferenceConfig = ReturnType<typeof referenceConfig>;

function parseRequest(event: APIGatewayProxyEventV2) {
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  const { personIds } = JSON.parse(text) as { personIds: string[] };
  return { personIds, erasureId: event.headers?.['webhook-id'] ?? randomUUID() };
}

async function callVerifik(
  { verifikBaseUrl, verifikToken }: ReferenceConfig,
  method: 'DELETE' | 'GET',
  personId: string,
): Promise<number> {
  const response = await fetch(`${verifikBaseUrl}/v2/face-recognition/persons/${encodeURIComponent(personId)}`, {
    method,
    headers: { authorization: `Bearer ${verifikToken}`, accept: 'application/json' },
  });
  await response.arrayBuffer();
  return response.status;
}

const deleteAtVerifik = (config: ReferenceConfig, personId: string) => callVerifik(config, 'DELETE', personId);

const answer = (body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export function createBaselineHandler(config: ReferenceConfig): ErasureHandler {
  return async (event) => {
    const { personIds, erasureId } = parseRequest(event);
    const persons: { personId: string; vendorStatus: number }[] = [];
    for (const personId of personIds) persons.push({ personId, vendorStatus: await deleteAtVerifik(config, personId) });
    const at = new Date().toISOString();
    await config.dynamodb.send(
      new PutItemCommand({
        TableName: config.tableName,
        Item: {
          pk: { S: `BASELINE#${erasureId}` },
          sk: { S: 'REQUEST' },
          persons: { S: JSON.stringify(persons) },
          at: { S: at },
        },
      }),
    );
    return answer({ erasureId, status: 'completed', at, persons });
  };
}

export function createSameCallsHandler(config: ReferenceConfig, sqs = new SQSClient({})): ErasureHandler {
  const { dynamodb, tableName } = config;
  return async (event) => {
    const { personIds, erasureId } = parseRequest(event);
    const pk = { S: `SAME_CALLS#${erasureId}` };
    const receivedAt = new Date().toISOString();
    await Promise.all([
      sqs.send(
        new SendMessageCommand({
          QueueUrl: config.retryQueueUrl,
          MessageBody: JSON.stringify({ erasureId, attempt: 0, notBefore: Date.now() + 60_000 }),
          DelaySeconds: 60,
        }),
      ),
      dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk,
            sk: { S: 'REQUEST' },
            personIds: { SS: personIds },
            receivedAt: { S: receivedAt },
            heldUntil: { N: String(Date.now() + 20_000) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ]);
    const persons: { personId: string; vendorStatus: number }[] = [];
    for (const personId of personIds) {
      const key = { pk, sk: { S: `PERSON#${personId}` } };
      const vendorStatus = await deleteAtVerifik(config, personId);
      await callVerifik(config, 'GET', personId);
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          ConditionExpression: 'attribute_not_exists(pk) OR outcome = :pending',
          UpdateExpression: 'SET outcome = :outcome, vendorStatus = :status, completedAt = :at',
          ExpressionAttributeValues: {
            ':pending': { S: 'pending' },
            ':outcome': { S: vendorStatus === 404 ? 'already_erased' : 'erased' },
            ':status': { N: String(vendorStatus) },
            ':at': { S: new Date().toISOString() },
          },
        }),
      );
      persons.push({ personId, vendorStatus });
    }
    return answer({ erasureId, status: 'completed', receivedAt, persons });
  };
}
