import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createErasureApi } from './api/erasure-api';
import { DynamoAuditStore } from './audit/dynamo-audit-store';
import { ArchiveLocator } from './archive/archive-locator';
import { FolderArchiveStorage } from './archive/folder-archive-storage';
import { S3ArchiveStorage } from './archive/s3-archive-storage';
import { DynamoSubjectStore } from './audit/dynamo-subject-store';
import { hubSpotAdapter } from './crm/hubspot';
import { createSubjectApi } from './subjects/subject-api';
import type { SubjectStore } from './subjects/subject-store';
import { createCertificateIssuer } from './certificate/certificate-issuer';
import { FileCertificateSigner, KmsCertificateSigner, type CertificateSigner } from './certificate/certificate-signer';
import { readConfig, SECRET_ARN_VARIABLE, type HttpConfig, type ServiceConfig } from './config';
import type { DeadlineCheckDeps } from './deadlines/deadline-check';
import { ErasureService } from './erasure/erasure-service';
import { hashSubject, hashSubjectRef } from './erasure/fingerprint';
import {
  PENDING_AGE_METRIC,
  type AuditStore,
  type CallbackQueue,
  type CallbackStore,
  type ErasureMetrics,
  type RetryQueue,
  type VerifikPort,
} from './erasure/ports';
import { CallbackDelivery } from './callbacks/callback-delivery';
import { CallbackSender } from './callbacks/callback-sender';
import { CallbackUrlPolicy } from './callbacks/callback-url';
import type { CallbackWorkerDeps } from './callbacks/callback-worker';
import { RetryPolicy } from './erasure/retry-policy';
import { ConfigurationError } from './errors';
import type { HttpAppDeps } from './http/http-app';
import { WebhookVerifier } from './http/webhook-signature';
import type { InvokeDeps } from './invoke/invoke-handler';
import { METRICS_NAMESPACE, SERVICE_NAME } from './names';
import { SqsCallbackQueue, SqsRetryQueue } from './queue/sqs-retry-queue';
import { secretsFromEnvironment, type Secrets } from './secrets/secrets';
import { VerifikClient } from './verifik/verifik-client';
import { defaultBurst, verifikPace, type VerifikPace } from './verifik/verifik-pace';
import type { RetryWorkerDeps } from './worker/retry-worker';
import type { RotationDeps } from './rotation/rotation-handler';
import {
  TOKEN_DAYS_LEFT_METRIC,
  TOKEN_ROTATION_FAILED_METRIC,
  TokenRotation,
  type TokenMetrics,
} from './rotation/token-rotation';
import { SecretsManagerTokenStore, type TokenSecretStore } from './rotation/token-store';
import { VerifikSession } from './verifik/verifik-session';

/**
 * The composition of each function: its own configuration (lambda/config.ts), the secrets it reads
 * and the objects its handler uses. The Lambda entries call these with `process.env`; the local stack,
 * the tests and the benchmarks call the same ones with overrides for what runs in-process.
 */
export interface Overrides {
  dynamodb?: DynamoDBClient;
  store?: AuditStore;
  /** The subject links (on the audit table by default). */
  subjects?: SubjectStore;
  verifik?: VerifikPort;
  /** The in-process queue of the local stack (SQS in the cloud). */
  retryQueue?: RetryQueue;
  /** The in-process callback queue of the local stack (SQS in the cloud). */
  callbackQueue?: CallbackQueue;
  logger?: Logger;
  metrics?: Metrics;
  secrets?: Secrets;
  now?: () => Date;
  /** Signs certificates in place of the configured key (tests). */
  certificateSigner?: CertificateSigner;
}

/** What the token rotation stands on, for the local stack and the tests. */
export interface RotationOverrides {
  /** The token secret's versions (Secrets Manager in the cloud; in memory locally). */
  tokenStore?: TokenSecretStore;
  secretsManager?: SecretsManagerClient;
  logger?: Logger;
  metrics?: Metrics;
  fetch?: typeof globalThis.fetch;
  now?: () => Date;
}

export function composeHttp(env: NodeJS.ProcessEnv, overrides: Overrides = {}): HttpAppDeps {
  const { api, service, logger, metrics, secrets, subjectStore } = requestParts('http', env, overrides);
  const config = readConfig('http', env);
  const certificates = createCertificateIssuer({
    read: (erasureId) => service.get(erasureId),
    signer: overrides.certificateSigner ?? certificateSigner(config),
    organizationName: config.ORGANIZATION_NAME,
    archive: archiveLocator(config),
    now: overrides.now,
  });
  const subjects = createSubjectApi({
    store: subjectStore,
    hashSubject: async (subject) => hashSubject(await secrets.pepper(), subject),
    retentionDays: config.RETENTION_DAYS,
    logger,
    now: overrides.now,
  });
  const hubspot = hubSpotAdapter({
    clientSecret: () => secrets.hubspotClientSecret(),
    eraseOnContactDeletion: config.HUBSPOT_CONTACT_DELETION,
    now: overrides.now && (() => overrides.now!().getTime()),
  });
  const crmHooks = [{ adapter: hubspot, publicUrl: config.HUBSPOT_WEBHOOK_URL }];
  return {
    api,
    certificates,
    verifier: new WebhookVerifier(() => secrets.webhookSecrets()),
    logger,
    metrics,
    subjects,
    crmHooks,
  };
}

/** The archive certificates name: the Object Lock bucket in the cloud, a folder locally, none when neither is configured. */
function archiveLocator(config: HttpConfig): ArchiveLocator | undefined {
  if (config.ARCHIVE_BUCKET_NAME) return new ArchiveLocator(new S3ArchiveStorage(new S3Client({}), config.ARCHIVE_BUCKET_NAME));
  if (config.ARCHIVE_DIR) return new ArchiveLocator(new FolderArchiveStorage(config.ARCHIVE_DIR));
  return undefined;
}

/** The certificate key: KMS in the cloud, a key file locally, none when neither is configured. */
function certificateSigner(config: HttpConfig): CertificateSigner | undefined {
  if (config.CERTIFICATE_KEY_ARN) return new KmsCertificateSigner(new KMSClient({}), config.CERTIFICATE_KEY_ARN);
  if (config.CERTIFICATE_KEY_FILE) return new FileCertificateSigner(config.CERTIFICATE_KEY_FILE);
  return undefined;
}

export function composeInvoke(env: NodeJS.ProcessEnv, overrides: Overrides = {}): InvokeDeps {
  const { api, logger, metrics } = requestParts('invoke', env, overrides);
  return { api, logger, metrics };
}

/** What both request-taking functions stand on: the erasure API core over the service. */
function requestParts(fn: 'http' | 'invoke', env: NodeJS.ProcessEnv, overrides: Overrides) {
  const config = readConfig(fn, env);
  const secrets = overrides.secrets ?? secretsFromEnvironment(env);
  const subjectStore = overrides.subjects ?? new DynamoSubjectStore(dynamoClient(config, overrides), config.AUDIT_TABLE_NAME);
  const callbackQueue = overrides.callbackQueue ?? sqsCallbackQueue(config);
  if (config.CALLBACK_ALLOWED_HOSTS.length > 0 && !callbackQueue) {
    throw new ConfigurationError(`verifik-erasure (${fn}): CALLBACK_ALLOWED_HOSTS needs CALLBACK_QUEUE_URL`);
  }
  const retryQueue = overrides.retryQueue ?? sqsRetryQueue(config);
  const parts = serviceParts(config, secrets, { ...overrides, subjects: subjectStore, retryQueue, callbackQueue }, true);
  const api = createErasureApi({
    ...parts,
    inlineBudgetMs: config.INLINE_BUDGET_MS,
    reserveMs: config.RESERVE_MS,
    callbackUrls: new CallbackUrlPolicy(config.CALLBACK_ALLOWED_HOSTS),
  });
  return { api, service: parts.service, logger: parts.logger, metrics: parts.metrics, secrets, subjectStore };
}

export function composeWorker(env: NodeJS.ProcessEnv, overrides: Overrides = {}): RetryWorkerDeps {
  const config = readConfig('worker', env);
  const secrets = overrides.secrets ?? secretsFromEnvironment(env);
  const retryQueue = overrides.retryQueue ?? sqsRetryQueue(config, config.DEAD_LETTER_QUEUE_URL);
  const callbackQueue = overrides.callbackQueue ?? sqsCallbackQueue(config);
  const parts = serviceParts(config, secrets, { ...overrides, retryQueue, callbackQueue }, false);
  return { service: parts.service, logger: parts.logger, metrics: parts.metrics, reserveMs: config.RESERVE_MS };
}

/**
 * The callback delivery function: the audit table (read an erasure, record a delivery), the callback
 * queue and its dead-letter queue, the signing secret. No Verifik, no token.
 */
export function composeCallbacks(
  env: NodeJS.ProcessEnv,
  overrides: Overrides & { callbackStore?: CallbackStore; fetch?: typeof globalThis.fetch } = {},
): CallbackWorkerDeps {
  const config = readConfig('callbacks', env);
  const secrets = overrides.secrets ?? secretsFromEnvironment(env);
  const { logger, metrics } = observability(overrides);
  const queue = overrides.callbackQueue ?? sqsCallbackQueue(config, config.CALLBACK_DEAD_LETTER_QUEUE_URL);
  if (!queue) throw new ConfigurationError('verifik-erasure (callbacks): CALLBACK_QUEUE_URL must be set');
  const delivery = new CallbackDelivery({
    store: overrides.callbackStore ?? new DynamoAuditStore(dynamoClient(config, overrides), config.AUDIT_TABLE_NAME),
    queue,
    sender: new CallbackSender({
      secret: () => secrets.callbackSecret(),
      timeoutMs: config.CALLBACK_TIMEOUT_MS,
      fetch: overrides.fetch,
      now: overrides.now,
    }),
    policy: new CallbackUrlPolicy(config.CALLBACK_ALLOWED_HOSTS),
    retryPolicy: new RetryPolicy(config.CALLBACK_RETRY_SCHEDULE),
    count: (name) => metrics.addMetric(name, MetricUnit.Count, 1),
    now: overrides.now,
  });
  return { delivery, logger, metrics };
}

/** The hourly deadline check: the audit table and metrics, nothing else. */
export function composeDeadlines(env: NodeJS.ProcessEnv, overrides: Overrides = {}): DeadlineCheckDeps {
  const config = readConfig('deadlines', env);
  const { logger, metrics } = observability(overrides);
  const store = overrides.store ?? new DynamoAuditStore(dynamoClient(config, overrides), config.AUDIT_TABLE_NAME);
  const retryQueue = overrides.retryQueue ?? new SqsRetryQueue(new SQSClient({}), config.RETRY_QUEUE_URL);
  return { store, retryQueue, logger, metrics, overdueLookbackDays: config.OVERDUE_LOOKBACK_DAYS, now: overrides.now };
}

const observability = (overrides: Overrides) => ({
  logger: overrides.logger ?? new Logger({ serviceName: SERVICE_NAME }),
  metrics: overrides.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
});
const dynamoClient = (config: { DYNAMODB_ENDPOINT?: string }, overrides: Overrides) =>
  overrides.dynamodb ?? new DynamoDBClient(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {});

/** The token rotation: Verifik's session calls over the token secret's versions. */
export function composeRotation(env: NodeJS.ProcessEnv, overrides: RotationOverrides = {}): RotationDeps {
  const config = readConfig('rotation', env);
  const tokenSecretId = env[SECRET_ARN_VARIABLE.VERIFIK_TOKEN] ?? '';
  if (!overrides.tokenStore && !tokenSecretId) {
    throw new ConfigurationError(`verifik-erasure (rotation): ${SECRET_ARN_VARIABLE.VERIFIK_TOKEN} must name the token secret`);
  }
  const logger = overrides.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const metrics = overrides.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const session = new VerifikSession({
    baseUrl: config.VERIFIK_BASE_URL,
    timeoutMs: config.VERIFIK_TIMEOUT_MS,
    fetch: overrides.fetch,
  });
  let secretsManager = overrides.secretsManager;
  const tokenMetrics: TokenMetrics = {
    daysLeft: (days) => metrics.addMetric(TOKEN_DAYS_LEFT_METRIC, MetricUnit.NoUnit, days),
    rotationFailed: () => metrics.addMetric(TOKEN_ROTATION_FAILED_METRIC, MetricUnit.Count, 1),
  };
  const rotationFor = (secretId: string) =>
    new TokenRotation({
      store: overrides.tokenStore ?? new SecretsManagerTokenStore((secretsManager ??= new SecretsManagerClient({})), secretId),
      session,
      logger,
      metrics: tokenMetrics,
      now: overrides.now,
    });
  return { tokenSecretId, rotationFor, logger, metrics };
}

/** The erasure service and what it stands on. `submits`: the function records requests (and so hashes subjectRef). */
function serviceParts(
  config: ServiceConfig,
  secrets: Secrets,
  overrides: Overrides & { retryQueue: RetryQueue; callbackQueue?: CallbackQueue },
  submits: boolean,
) {
  const { logger, metrics } = observability(overrides);
  const store = overrides.store ?? new DynamoAuditStore(dynamoClient(config, overrides), config.AUDIT_TABLE_NAME);
  const verifik =
    overrides.verifik ??
    new VerifikClient({
      baseUrl: config.VERIFIK_BASE_URL,
      token: (options) => secrets.verifikToken(options),
      timeoutMs: config.VERIFIK_TIMEOUT_MS,
      retryLimit: config.VERIFIK_RETRY_LIMIT,
      backoffBaseMs: config.VERIFIK_BACKOFF_BASE_MS,
      backoffLimitMs: config.VERIFIK_BACKOFF_LIMIT_MS,
      pace: processPace(config),
    });
  const service = new ErasureService({
    store,
    verifik,
    retryQueue: overrides.retryQueue,
    callbacks: overrides.callbackQueue,
    retryPolicy: new RetryPolicy(config.RETRY_SCHEDULE),
    metrics: countIn(metrics),
    hashSubjectRef: submits ? async (subjectRef) => hashSubjectRef(await secrets.pepper(), subjectRef) : undefined,
    subjects: submits ? overrides.subjects : undefined,
    retentionDays: config.RETENTION_DAYS,
    concurrency: config.PERSON_CONCURRENCY,
    leaseMarginMs: config.LEASE_MARGIN_MS,
    // Twice what one call may make: a redelivery can finish an interrupted first delivery, no more.
    redeliveryAttemptCap: 2 * (config.VERIFIK_RETRY_LIMIT + 1),
    verifyAfterDelete: config.VERIFY_AFTER_DELETE,
    now: overrides.now,
  });
  return { logger, metrics, store, service };
}

let paces: { byKey: Map<string, VerifikPace>; ending: AbortController } | undefined;

/**
 * One pace per process for each setting: the local stack runs the HTTP handlers and the worker in
 * one process, and they share its rate as Lambda instances each have their own.
 */
function processPace({ VERIFIK_RATE_LIMIT: rate, VERIFIK_BURST: burst }: ServiceConfig): VerifikPace | undefined {
  if (rate === undefined) return undefined;
  const options = { ratePerSecond: rate, burst: burst ?? defaultBurst(rate) };
  const key = `${options.ratePerSecond}/${options.burst}`;
  paces ??= { byKey: new Map(), ending: new AbortController() };
  let pace = paces.byKey.get(key);
  if (!pace) paces.byKey.set(key, (pace = verifikPace({ ...options, signal: paces.ending.signal })));
  return pace;
}

/** Ends this process's paces (the local stack's shutdown, a test's teardown): calls still waiting get no slot. */
export function endVerifikPaces(): void {
  paces?.ending.abort();
  paces = undefined;
}

/** The retry path on SQS; only the worker is given the dead-letter queue (it is the one that gives up). */
function sqsRetryQueue(config: ServiceConfig, deadLetterQueueUrl?: string): RetryQueue {
  if (!config.RETRY_QUEUE_URL) throw new ConfigurationError('verifik-erasure: RETRY_QUEUE_URL must be set');
  return new SqsRetryQueue(new SQSClient({}), config.RETRY_QUEUE_URL, deadLetterQueueUrl);
}

/** The callback queue on SQS when one is configured; only the delivery function is given its dead-letter queue. */
function sqsCallbackQueue(config: { CALLBACK_QUEUE_URL?: string }, deadLetterQueueUrl?: string): CallbackQueue | undefined {
  return config.CALLBACK_QUEUE_URL
    ? new SqsCallbackQueue(new SQSClient({}), config.CALLBACK_QUEUE_URL, deadLetterQueueUrl)
    : undefined;
}

/** Our counters as CloudWatch embedded-metric-format metrics, published once per invocation. */
const countIn = (metrics: Metrics): ErasureMetrics => ({
  count: (name, value = 1) => {
    if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
  },
  pendingAge: (seconds) => metrics.addMetric(PENDING_AGE_METRIC, MetricUnit.Seconds, seconds),
});
