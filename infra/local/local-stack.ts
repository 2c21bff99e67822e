import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@aws-lambda-powertools/logger';
import { serveHandler } from './api-gateway';
import { composeRotation } from '../../lambda/compose';
import { composeLocal } from './compose-local';
import { newWebhookSecret } from './signed-client';
import type { LocalRetryQueue } from './local-retry-queue';
import { PendingWork } from './pending-work';
import { ensureAuditTable } from './audit-table';
import { localDynamoClient, startEmbeddedDynamo, type EmbeddedDynamo } from './embedded-dynamodb';
import { VerifikSandbox } from './verifik-sandbox';
import { MemoryTokenStore, withLocalTokenRoutes } from './local-token-secret';

export const DEFAULT_TABLE = 'verifik-erasure-audit';

export interface LocalStack {
  url: string;
  /** The environment the handlers were configured from, generated values included. */
  env: Readonly<Record<string, string>>;
  generated: { webhookSecret: boolean; pepper: boolean };
  sandbox?: VerifikSandbox;
  sandboxPersons: string[];
  retryQueue: LocalRetryQueue;
  dynamoEndpoint: string;
  tableCreated: boolean;
  close(): Promise<void>;
}

/**
 * What `npm start` runs: the same handlers behind a local API Gateway, on dynalite unless
 * DYNAMODB_ENDPOINT names another engine, against a Verifik sandbox unless VERIFIK_BASE_URL names one.
 */
export async function startLocalStack(
  given: NodeJS.ProcessEnv = process.env,
  options: { logger?: Logger; sandboxPersons?: number } = {},
): Promise<LocalStack> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const env: Record<string, string> = Object.fromEntries(
      Object.entries(given).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    env.AUDIT_TABLE_NAME ??= DEFAULT_TABLE;
    const generated = { webhookSecret: !env.WEBHOOK_SECRET, pepper: !env.SUBJECT_REF_PEPPER };
    env.WEBHOOK_SECRET ??= newWebhookSecret();
    env.SUBJECT_REF_PEPPER ??= randomBytes(32).toString('base64');

    let sandbox: VerifikSandbox | undefined;
    const sandboxPersons: string[] = [];
    if (!env.VERIFIK_BASE_URL) {
      const lifetime = env.SANDBOX_TOKEN_LIFETIME_SECONDS;
      const started = await VerifikSandbox.start({
        token: env.VERIFIK_TOKEN,
        tokenLifetimeSeconds: lifetime === undefined ? undefined : positiveSeconds(lifetime),
      });
      env.VERIFIK_TOKEN ??= started.token;
      sandbox = started;
      closers.push(() => started.close());
      for (let i = 0; i < (options.sandboxPersons ?? 5); i++) sandboxPersons.push(started.createPerson());
      env.VERIFIK_BASE_URL = started.url;
    }

    let embedded: EmbeddedDynamo | undefined;
    if (!env.DYNAMODB_ENDPOINT) {
      embedded = await startEmbeddedDynamo();
      closers.push(() => embedded!.close());
    }
    const dynamoEndpoint = env.DYNAMODB_ENDPOINT ?? embedded!.endpoint;
    const dynamodb = localDynamoClient(dynamoEndpoint);
    closers.push(async () => dynamodb.destroy());

    env.DYNAMODB_ENDPOINT ??= dynamoEndpoint;
    const tableCreated = (await ensureAuditTable(dynamodb, env.AUDIT_TABLE_NAME)) === 'created';
    // The token in memory, where /_local/token/rotate renews it, unless it comes from Secrets Manager.
    const tokenStore = env.VERIFIK_TOKEN_SECRET_ARN ? undefined : new MemoryTokenStore(env.VERIFIK_TOKEN ?? '');
    const local = composeLocal(env, { dynamodb, logger: options.logger, tokenStore });
    const retryQueue = local.retryQueue;
    closers.push(() => retryQueue.close());

    const requests = new PendingWork();
    const handler = tokenStore
      ? withLocalTokenRoutes(
          local.http,
          composeRotation(env, { tokenStore, logger: local.logger, metrics: local.metrics }),
          tokenStore,
        )
      : local.http;
    const server = serveHandler(handler, { pending: requests });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(env.PORT ?? 3000), '127.0.0.1', resolve);
    });
    closers.push(() =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }).then(() => requests.settled()),
    );
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://localhost:${port}`,
      env,
      generated,
      sandbox,
      sandboxPersons,
      retryQueue,
      dynamoEndpoint,
      tableCreated,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new Error(
      `SANDBOX_TOKEN_LIFETIME_SECONDS must be a whole number of seconds, at least 1 (got ${JSON.stringify(value)})`,
    );
  }
  return seconds;
}
