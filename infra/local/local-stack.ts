import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhookVerifier } from '../../lambda/http/webhook-signature';
import { parseWebhookSecrets } from '../../lambda/secrets/secrets';
import { ensureCertificateKey, type LocalCertificateKey } from './certificate-key';
import { localRoutes } from './local-routes';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@aws-lambda-powertools/logger';
import { serveHandler } from './api-gateway';
import { composeRotation, endVerifikPaces } from '../../lambda/compose';
import { composeLocal } from './compose-local';
import { newWebhookSecret } from './signed-client';
import type { LocalCallbackQueue, LocalRetryQueue } from './local-retry-queue';
import { PendingWork } from './pending-work';
import { ensureAuditTable } from './audit-table';
import { LocalArchive } from './local-archive';
import { localDynamoClient, startEmbeddedDynamo, type EmbeddedDynamo } from './embedded-dynamodb';
import { VerifikSandbox } from './verifik-sandbox';
import { MemoryTokenStore, withLocalTokenRoutes } from './local-token-secret';

export const DEFAULT_TABLE = 'verifik-erasure-audit';
/** Where `npm start` keeps its certificate key unless CERTIFICATE_KEY_FILE names another file. */
export const DEFAULT_CERTIFICATE_KEY_FILE = join('.verifik-erasure', 'certificate-key.pem');
/** The controller on local certificates when ORGANIZATION_NAME is unset. */
export const LOCAL_ORGANIZATION_NAME = 'Local test controller';

export interface LocalStack {
  url: string;
  /** The environment the handlers were configured from, generated values included. */
  env: Readonly<Record<string, string>>;
  generated: {
    webhookSecret: boolean;
    pepper: boolean;
    organizationName: boolean;
    hubspotClientSecret: boolean;
    callbackSecret: boolean;
  };
  /** The local certificate key (absent when CERTIFICATE_KEY_ARN names a KMS key). */
  certificateKey?: LocalCertificateKey;
  sandbox?: VerifikSandbox;
  sandboxPersons: string[];
  retryQueue: LocalRetryQueue;
  callbackQueue: LocalCallbackQueue;
  dynamoEndpoint: string;
  tableCreated: boolean;
  /** The local tamper-evidence archive (a folder and a key file standing in for S3 and KMS); absent with `archive: false`. */
  archive?: LocalArchive;
  close(): Promise<void>;
}

/**
 * What `npm start` runs: the same handlers behind a local API Gateway, on dynalite unless
 * DYNAMODB_ENDPOINT names another engine, against a Verifik sandbox unless VERIFIK_BASE_URL names one.
 */
export async function startLocalStack(
  given: NodeJS.ProcessEnv = process.env,
  /**
   * `archive: false` leaves the local archive out: the bulk benchmark measures the request path,
   * which in the cloud never waits for the archive (the stream feeds it afterwards).
   */
  options: { logger?: Logger; sandboxPersons?: number; archive?: boolean } = {},
): Promise<LocalStack> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    // Calls waiting for a slot of VERIFIK_RATE_LIMIT get none: the handlers finish at once.
    endVerifikPaces();
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const env: Record<string, string> = Object.fromEntries(
      Object.entries(given).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    env.AUDIT_TABLE_NAME ??= DEFAULT_TABLE;
    const generated = {
      webhookSecret: !env.WEBHOOK_SECRET,
      pepper: !env.SUBJECT_REF_PEPPER,
      hubspotClientSecret: !env.HUBSPOT_CLIENT_SECRET,
      organizationName: !env.ORGANIZATION_NAME,
      callbackSecret: !env.CALLBACK_SECRET && !env.CALLBACK_SECRET_ARN,
    };
    env.WEBHOOK_SECRET ??= newWebhookSecret();
    if (generated.callbackSecret) env.CALLBACK_SECRET = newWebhookSecret();
    env.SUBJECT_REF_PEPPER ??= randomBytes(32).toString('base64');
    env.HUBSPOT_CLIENT_SECRET ??= randomUUID();
    env.ORGANIZATION_NAME ??= LOCAL_ORGANIZATION_NAME;
    let certificateKey: LocalCertificateKey | undefined;
    if (!env.CERTIFICATE_KEY_ARN) {
      env.CERTIFICATE_KEY_FILE ??= DEFAULT_CERTIFICATE_KEY_FILE;
      certificateKey = await ensureCertificateKey(env.CERTIFICATE_KEY_FILE);
    }

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
    // The archive folder, chosen first: certificates read it (ARCHIVE_DIR) to name what holds an erasure.
    if (options.archive !== false && !env.ARCHIVE_DIR) {
      const temporary = await mkdtemp(join(tmpdir(), 'verifik-erasure-archive-'));
      closers.push(() => rm(temporary, { recursive: true, force: true }));
      env.ARCHIVE_DIR = join(temporary, 'archive');
    }
    const local = composeLocal(env, { dynamodb, logger: options.logger, tokenStore });
    // Started after the table exists: it archives the service's writes, not the table's creation.
    let archive: LocalArchive | undefined;
    if (options.archive !== false) {
      const started = await LocalArchive.start({
        client: dynamodb,
        tableName: env.AUDIT_TABLE_NAME,
        dir: env.ARCHIVE_DIR,
        keyFile: env.ARCHIVE_KEY_FILE,
        logger: local.logger,
      });
      archive = started;
      closers.push(() => started.close());
    }
    const retryQueue = local.retryQueue;
    closers.push(() => retryQueue.close());
    closers.push(() => local.callbackQueue.close());

    const requests = new PendingWork();
    const handler = tokenStore
      ? withLocalTokenRoutes(
          local.http,
          composeRotation(env, { tokenStore, logger: local.logger, metrics: local.metrics }),
          tokenStore,
        )
      : local.http;
    const verifier = new WebhookVerifier(async () => parseWebhookSecrets(env.WEBHOOK_SECRET!, 'WEBHOOK_SECRET'));
    const routes = localRoutes({
      store: local.store,
      verifier,
      publicKey: certificateKey?.jwk,
      logger: local.logger,
      signDigest: archive && (() => archive!.digest()),
      retryQueue,
    });
    const server = serveHandler(handler, { pending: requests, localRoutes: routes });
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
      certificateKey,
      sandbox,
      sandboxPersons,
      retryQueue,
      callbackQueue: local.callbackQueue,
      dynamoEndpoint,
      tableCreated,
      archive,
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
