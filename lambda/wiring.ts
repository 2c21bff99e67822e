import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoAuditStore } from './audit/dynamo-audit-store';
import type { Config } from './config';
import { ErasureService } from './erasure/erasure-service';
import { hashSubjectRef } from './erasure/fingerprint';
import type { AuditStore, VerifikPort } from './erasure/ports';
import { WebhookVerifier } from './http/webhook-signature';
import type { HttpAppDeps } from './http/http-app';
import type { Secrets } from './secrets/secrets';
import { VerifikClient } from './verifik/verifik-client';

export const SERVICE_NAME = 'verifik-erasure';

export interface Overrides {
  dynamodb?: DynamoDBClient;
  verifik?: VerifikPort;
  store?: AuditStore;
  logger?: Logger;
  now?: () => Date;
}

/** The composition root: one place that turns configuration and secrets into the objects handlers use. */
export function buildDependencies(config: Config, secrets: Secrets, overrides: Overrides = {}) {
  const logger = overrides.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const dynamodb =
    overrides.dynamodb ?? new DynamoDBClient(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {});
  const store = overrides.store ?? new DynamoAuditStore(dynamodb, config.AUDIT_TABLE_NAME);
  const verifik =
    overrides.verifik ??
    new VerifikClient({
      baseUrl: config.VERIFIK_BASE_URL,
      token: () => secrets.verifikToken(),
      timeoutMs: config.VERIFIK_TIMEOUT_MS,
      retryLimit: config.VERIFIK_RETRY_LIMIT,
      backoffBaseMs: config.VERIFIK_BACKOFF_BASE_MS,
      backoffLimitMs: config.VERIFIK_BACKOFF_LIMIT_MS,
    });
  const service = new ErasureService({
    store,
    verifik,
    hashSubjectRef: async (subjectRef) => hashSubjectRef(await secrets.pepper(), subjectRef),
    retentionDays: config.RETENTION_DAYS,
    concurrency: config.PERSON_CONCURRENCY,
    leaseMarginMs: config.LEASE_MARGIN_MS,
    now: overrides.now,
  });
  const http: HttpAppDeps = {
    service,
    verifier: new WebhookVerifier(() => secrets.webhookSecrets()),
    logger,
    inlineBudgetMs: config.INLINE_BUDGET_MS,
    reserveMs: config.RESERVE_MS,
  };
  return { logger, store, verifik, service, http };
}
