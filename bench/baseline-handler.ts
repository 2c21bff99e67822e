import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * The baseline the benchmarks compare against: what an erasure costs with nothing of ours around
 * it. A raw fetch DELETE to Verifik and one PutItem, no middleware, no validation, no signature
 * check, no retry path. Same event in (API Gateway payload v2), a JSON answer out.
 */
export interface BaselineConfig {
  verifikBaseUrl: string;
  verifikToken: string;
  tableName: string;
  dynamodb: DynamoDBClient;
}

export type BaselineHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export function baselineConfigFromEnvironment(env: NodeJS.ProcessEnv = process.env): BaselineConfig {
  return {
    verifikBaseUrl: env.VERIFIK_BASE_URL ?? '',
    verifikToken: env.VERIFIK_TOKEN ?? '',
    tableName: env.AUDIT_TABLE_NAME ?? '',
    dynamodb: new DynamoDBClient(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
  };
}

export function createBaselineHandler({ verifikBaseUrl, verifikToken, tableName, dynamodb }: BaselineConfig): BaselineHandler {
  const base = verifikBaseUrl.replace(/\/$/, '');
  return async (event) => {
    const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    const { personIds } = JSON.parse(text) as { personIds: string[] };
    const erasureId = event.headers?.['webhook-id'] ?? randomUUID();
    const persons: { personId: string; vendorStatus: number }[] = [];
    for (const personId of personIds) {
      const response = await fetch(`${base}/v2/face-recognition/persons/${encodeURIComponent(personId)}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${verifikToken}`, accept: 'application/json' },
      });
      await response.arrayBuffer();
      persons.push({ personId, vendorStatus: response.status });
    }
    const at = new Date().toISOString();
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: `BASELINE#${erasureId}` },
          sk: { S: 'REQUEST' },
          persons: { S: JSON.stringify(persons) },
          at: { S: at },
        },
      }),
    );
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ erasureId, status: 'completed', at, persons }),
    };
  };
}
