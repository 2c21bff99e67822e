import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoAuditStore } from '../../lambda/audit/dynamo-audit-store';
import { composeCallbacks, composeHttp, composeInvoke, composeWorker } from '../../lambda/compose';
import { createCallbackWorker } from '../../lambda/callbacks/callback-worker';
import { parseAllowedHosts } from '../../lambda/callbacks/callback-url';
import { readConfig } from '../../lambda/config';
import type { AuditStore } from '../../lambda/erasure/ports';
import { createHttpApp } from '../../lambda/http/http-app';
import { createInvokeHandler } from '../../lambda/invoke/invoke-handler';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/names';
import { secretsFromEnvironment, type Secrets } from '../../lambda/secrets/secrets';
import { createRetryWorker } from '../../lambda/worker/retry-worker';
import { lambdaContext } from './api-gateway';
import { LocalCallbackQueue, LocalRetryQueue } from './local-retry-queue';
import type { MemoryTokenStore } from './local-token-secret';

/** The worker Lambda's timeout in the stack. */
export const WORKER_TIMEOUT_MS = 60_000;
/** The callback delivery Lambda's timeout in the stack. */
export const CALLBACKS_TIMEOUT_MS = 30_000;

export interface LocalOverrides {
  /** The DynamoDB-compatible engine (dynalite locally). */
  dynamodb: DynamoDBClient;
  /** Wraps or replaces the audit store (the fault run's dying and slow stores). */
  store?: (store: DynamoAuditStore) => AuditStore;
  retryQueue?: LocalRetryQueue;
  callbackQueue?: LocalCallbackQueue;
  logger?: Logger;
  metrics?: Metrics;
  workerTimeoutMs?: number;
  /**
   * Where the functions read the Verifik token and the rotation renews it (`npm start`). Without it
   * the token is read as in the cloud: VERIFIK_TOKEN_SECRET_ARN or VERIFIK_TOKEN, at each use.
   */
  tokenStore?: MemoryTokenStore;
}

/**
 * The functions as one process runs them: the same compositions the Lambda entries use, each
 * from the same environment, sharing one audit store, one logger, one in-process retry queue
 * whose consumer is the retry worker and one in-process callback queue whose consumer is the
 * callback delivery (composed when CALLBACK_ALLOWED_HOSTS admits any host: else no callback can be
 * recorded). Used by `npm start`, the tests and the benchmarks.
 */
export function composeLocal(env: NodeJS.ProcessEnv, overrides: LocalOverrides) {
  const workerTimeoutMs = overrides.workerTimeoutMs ?? WORKER_TIMEOUT_MS;
  const logger = overrides.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const metrics = overrides.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const dynamoStore = new DynamoAuditStore(overrides.dynamodb, readConfig('worker', env).AUDIT_TABLE_NAME);
  const store = overrides.store ? overrides.store(dynamoStore) : dynamoStore;
  const retryQueue = overrides.retryQueue ?? new LocalRetryQueue({ invocationTimeoutMs: workerTimeoutMs });
  const callbackQueue = overrides.callbackQueue ?? new LocalCallbackQueue({ invocationTimeoutMs: CALLBACKS_TIMEOUT_MS });
  const secrets = overrides.tokenStore ? localSecrets(env, overrides.tokenStore) : secretsFromEnvironment(env);
  const shared = { dynamodb: overrides.dynamodb, store, retryQueue, callbackQueue, logger, metrics, secrets };

  const http = createHttpApp(composeHttp(env, shared));
  const invoke = createInvokeHandler(composeInvoke(env, shared));
  const worker = createRetryWorker(composeWorker(env, shared));
  retryQueue.consumer = (event) => worker(event, lambdaContext(workerTimeoutMs, 'verifik-erasure-worker-local'));
  if (parseAllowedHosts(env.CALLBACK_ALLOWED_HOSTS ?? '').length > 0) {
    const callbacks = createCallbackWorker(composeCallbacks(env, { ...shared, callbackStore: dynamoStore }));
    callbackQueue.consumer = (event) => callbacks(event, lambdaContext(CALLBACKS_TIMEOUT_MS, 'verifik-erasure-callbacks-local'));
  }
  return { http, invoke, worker, retryQueue, callbackQueue, store: dynamoStore, logger, metrics };
}

/** The secrets from the environment, except the Verifik token: the current version of the local token secret, which rotation renews. */
function localSecrets(env: NodeJS.ProcessEnv, tokenStore: MemoryTokenStore): Secrets {
  const fromEnvironment = secretsFromEnvironment(env);
  return {
    verifikToken: async () => tokenStore.current(),
    webhookSecrets: () => fromEnvironment.webhookSecrets(),
    pepper: () => fromEnvironment.pepper(),
    hubspotClientSecret: () => fromEnvironment.hubspotClientSecret(),
    callbackSecret: () => fromEnvironment.callbackSecret(),
  };
}
