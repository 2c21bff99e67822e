import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoAuditStore } from './audit/dynamo-audit-store';
import { METRICS_NAMESPACE, SERVICE_NAME } from './names';
import { readConfig, type Config } from './config';
import { ErasureService } from './erasure/erasure-service';
import { hashSubjectRef } from './erasure/fingerprint';
import type { AuditStore, ErasureMetrics, RetryQueue, VerifikPort } from './erasure/ports';
import { RetryPolicy } from './erasure/retry-policy';
import { WebhookVerifier } from './http/webhook-signature';
import type { HttpAppDeps } from './http/http-app';
import { SqsRetryQueue } from './queue/sqs-retry-queue';
import { secretsFromEnvironment, type Secrets } from './secrets/secrets';
import { VerifikClient } from './verifik/verifik-client';
import type { RetryWorkerDeps } from './worker/retry-worker';

export { METRICS_NAMESPACE, SERVICE_NAME };

export interface Overrides {
  dynamodb?: DynamoDBClient;
  verifik?: VerifikPort;
  store?: AuditStore;
  retryQueue?: RetryQueue;
  logger?: Logger;
  metrics?: Metrics;
  now?: () => Date;
}

/** The composition root: one place that turns configuration and secrets into the objects handlers use. */
export function buildDependencies(config: Config, secrets: Secrets, overrides: Overrides = {}) {
  const logger = overrides.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const metrics = overrides.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const dynamodb =
    overrides.dynamodb ?? new DynamoDBClient(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {});
  const store = overrides.store ?? new DynamoAuditStore(dynamodb, config.AUDIT_TABLE_NAME);
  const verifik =
    overrides.verifik ??
    new VerifikClient({
      baseUrl: config.VERIFIK_BASE_URL,
      token: (options) => secrets.verifikToken(options),
      timeoutMs: config.VERIFIK_TIMEOUT_MS,
      retryLimit: config.VERIFIK_RETRY_LIMIT,
      backoffBaseMs: config.VERIFIK_BACKOFF_BASE_MS,
      backoffLimitMs: config.VERIFIK_BACKOFF_LIMIT_MS,
    });
  const service = new ErasureService({
    store,
    verifik,
    retryQueue: overrides.retryQueue ?? sqsRetryQueue(config),
    retryPolicy: new RetryPolicy(config.RETRY_SCHEDULE),
    metrics: countIn(metrics),
    hashSubjectRef: async (subjectRef) => hashSubjectRef(await secrets.pepper(), subjectRef),
    retentionDays: config.RETENTION_DAYS,
    concurrency: config.PERSON_CONCURRENCY,
    leaseMarginMs: config.LEASE_MARGIN_MS,
    // Twice what one call may make: a redelivery can finish an interrupted first delivery, no more.
    redeliveryAttemptCap: 2 * (config.VERIFIK_RETRY_LIMIT + 1),
    now: overrides.now,
  });
  const http: HttpAppDeps = {
    service,
    verifier: new WebhookVerifier(() => secrets.webhookSecrets()),
    logger,
    metrics,
    inlineBudgetMs: config.INLINE_BUDGET_MS,
    reserveMs: config.RESERVE_MS,
  };
  const worker: RetryWorkerDeps = { service, logger, metrics, reserveMs: config.RESERVE_MS };
  return { logger, metrics, store, verifik, service, http, worker };
}

function sqsRetryQueue(config: Config): RetryQueue {
  if (!config.RETRY_QUEUE_URL || !config.DEAD_LETTER_QUEUE_URL) {
    throw new Error('verifik-erasure: RETRY_QUEUE_URL and DEAD_LETTER_QUEUE_URL must be set');
  }
  return new SqsRetryQueue(new SQSClient({}), config.RETRY_QUEUE_URL, config.DEAD_LETTER_QUEUE_URL);
}

/** Our counters as CloudWatch embedded-metric-format metrics, published once per invocation. */
const countIn = (metrics: Metrics): ErasureMetrics => ({
  count: (name, value = 1) => {
    if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
  },
  pendingAge: (seconds) => metrics.addMetric('PendingAge', MetricUnit.Seconds, seconds),
});

/** What the Lambda entries use: configuration and secrets from their environment, read at cold start. */
export const dependenciesFromEnvironment = () => buildDependencies(readConfig(), secretsFromEnvironment(process.env));
