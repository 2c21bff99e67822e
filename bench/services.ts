import { newWebhookSecret } from '../infra/local/signed-client';
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureAuditTable } from '../infra/local/audit-table';
import { localDynamoClient, startEmbeddedDynamo } from '../infra/local/embedded-dynamodb';
import { VerifikSandbox } from '../infra/local/verifik-sandbox';
import { FakeSqs } from './fake-sqs';

/**
 * What a Lambda talks to, on loopback in the bench process: dynalite (with the audit table), the
 * Verifik sandbox (answers at once) and a fake SQS. `env` is the environment a handler process is
 * configured from, as lambda/compose.ts `composeHttp` reads it.
 */
export interface BenchServices {
  /** A client for the bench itself (setup and checks), not the handlers'. */
  client: DynamoDBClient;
  tableName: string;
  sandbox: VerifikSandbox;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startServices(): Promise<BenchServices> {
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const [dynamo, sandbox, sqs] = await Promise.all([startEmbeddedDynamo(), VerifikSandbox.start({ token }), FakeSqs.start()]);
  const client = localDynamoClient(dynamo.endpoint);
  const tableName = 'verifik-erasure-audit';
  await ensureAuditTable(client, tableName);
  const env: Record<string, string> = {
    VERIFIK_BASE_URL: sandbox.url,
    VERIFIK_TOKEN: token,
    WEBHOOK_SECRET: newWebhookSecret(),
    SUBJECT_REF_PEPPER: randomBytes(32).toString('base64'),
    HUBSPOT_CLIENT_SECRET: randomBytes(18).toString('hex'),
    AUDIT_TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    RETRY_QUEUE_URL: sqs.queueUrl('verifik-erasure-retry'),
    DEAD_LETTER_QUEUE_URL: sqs.queueUrl('verifik-erasure-dead-letters'),
    // SDK v3 takes a service's endpoint from AWS_ENDPOINT_URL_<SERVICE ID> (here "SQS").
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    // As the stack sets them for every function.
    POWERTOOLS_SERVICE_NAME: 'verifik-erasure',
    POWERTOOLS_METRICS_NAMESPACE: 'VerifikErasure',
  };
  return {
    client,
    tableName,
    sandbox,
    env,
    close: async () => {
      client.destroy();
      await Promise.all([sandbox.close(), sqs.close(), dynamo.close()]);
    },
  };
}
