import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DynamoAuditStore } from '../../lambda/audit/dynamo-audit-store';
import { SERVICE_NAME } from '../../lambda/names';
import { httpEvent, lambdaContext } from '../../infra/local/api-gateway';
import { composeLocal } from '../../infra/local/compose-local';
import { newMessageId, newWebhookSecret, signedContent, signedHeaders } from '../../infra/local/signed-client';
import { VerifikSandbox } from '../../infra/local/verifik-sandbox';
import { expectAnswerMatchesContract } from './openapi-contract';
import { LocalCallbackQueue, LocalRetryQueue } from '../../infra/local/local-retry-queue';
import type { createRetryWorker } from '../../lambda/worker/retry-worker';
import type { createHttpApp } from '../../lambda/http/http-app';
import type { InvokeResult } from '../../lambda/invoke/invoke-handler';
import { startTestDynamo, type TestDynamo } from './dynamo';
import { testCertificateKey } from './certificate-key';
import type { LocalCertificateKey } from '../../infra/local/certificate-key';
import { endVerifikPaces } from '../../lambda/compose';

const WORKER_TIMEOUT_MS = 10_000;

export const PORTAL_PRINCIPAL = 'arn:aws:sts::123456789012:assumed-role/privacy-portal/session';

/** Every answer the harness gets from the real handler must match openapi.json (the contract test). */
function checked(method: string, path: string, answer: Answer): Answer {
  expectAnswerMatchesContract(method, path, answer);
  return answer;
}

/** An answer as callers see it; the body must be JSON (a parse error fails the test). */
export function answerOf(result: { statusCode?: number; headers?: Record<string, unknown>; body?: string }): Answer {
  let body: unknown;
  if (result.body !== undefined && result.body !== '') {
    try {
      body = JSON.parse(result.body);
    } catch {
      throw new Error(`the answer is not JSON: ${JSON.stringify(result.body).slice(0, 200)}`);
    }
  }
  return { status: result.statusCode ?? 0, headers: (result.headers ?? {}) as Record<string, string>, body };
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: any;
}

export interface SendOptions {
  id?: string;
  secret?: string;
  timestamp?: Date;
  headers?: Record<string, string>;
  /** The exact body bytes to send (and sign); `body` is JSON-encoded otherwise. */
  rawBody?: string;
  /** Send without any signature headers. */
  unsigned?: boolean;
  /** Remaining Lambda time for this invocation. */
  remainingMs?: number;
}

export interface Harness {
  sandbox: VerifikSandbox;
  store: DynamoAuditStore;
  retryQueue: LocalRetryQueue;
  /** The callback queue; its consumer is the callback delivery when CALLBACK_ALLOWED_HOSTS admits a host. */
  callbackQueue: LocalCallbackQueue;
  /** The retry worker's SQS handler, as the queue calls it. */
  worker: ReturnType<typeof createRetryWorker>;
  /** The HTTP API's handler, for events built by hand. */
  http: ReturnType<typeof createHttpApp>;
  /** The metrics every handler publishes to. */
  metrics: Metrics;
  secrets: string[];
  env: Record<string, string>;
  /** The key that signs certificates (CERTIFICATE_KEY_FILE) and its public half. */
  certificateKey: LocalCertificateKey;
  post(body: unknown, options?: SendOptions): Promise<Answer>;
  get(erasureId: string, options?: SendOptions): Promise<Answer>;
  send(method: string, path: string, rawBody: string, options?: SendOptions): Promise<Answer>;
  /** A call on a portal route as API Gateway passes it after IAM authorization (`principal` null: none). */
  portal(
    method: string,
    path: string,
    body: unknown,
    options?: { principal?: string | null; headers?: Record<string, string>; requestId?: string },
  ): Promise<Answer>;
  /** A direct Lambda invocation of the invoke handler. */
  invoke(event: unknown): Promise<InvokeResult>;
  close(): Promise<void>;
}

/**
 * The real HTTP handler, wired as in production, on dynalite and the Verifik sandbox over loopback.
 * Only the clock-bound settings are shortened so transient failures resolve quickly.
 */
export async function startHarness(dynamo: TestDynamo, env: Record<string, string> = {}): Promise<Harness> {
  const token = `token-${randomBytes(8).toString('hex')}`;
  const sandbox = await VerifikSandbox.start({ token });
  const { tableName } = await dynamo.newTable();
  const secrets = [newWebhookSecret(), newWebhookSecret()];
  const certificateKey = await testCertificateKey();
  const fullEnv: Record<string, string> = {
    VERIFIK_BASE_URL: sandbox.url,
    VERIFIK_TOKEN: token,
    WEBHOOK_SECRET: secrets.join(' '),
    SUBJECT_REF_PEPPER: randomBytes(32).toString('hex'),
    HUBSPOT_CLIENT_SECRET: randomUUID(),
    AUDIT_TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    VERIFIK_TIMEOUT_MS: '500',
    VERIFIK_BACKOFF_BASE_MS: '5',
    VERIFIK_BACKOFF_LIMIT_MS: '50',
    INLINE_BUDGET_MS: '2000',
    RESERVE_MS: '500',
    LEASE_MARGIN_MS: '1000',
    ORGANIZATION_NAME: 'Harness Controller GmbH',
    CERTIFICATE_KEY_FILE: certificateKey.privateKeyPath,
    CALLBACK_SECRET: newWebhookSecret(),
    ...env,
  };
  const logger = new Logger({
    serviceName: SERVICE_NAME,
    logLevel: (process.env.TEST_LOG_LEVEL as 'INFO' | undefined) ?? 'SILENT',
  });
  // A failed message comes back after 200 ms; a worker still running is never taken for dead before its timeout.
  const retryQueue = new LocalRetryQueue({ visibilityTimeoutMs: 200, invocationTimeoutMs: WORKER_TIMEOUT_MS });
  const callbackQueue = new LocalCallbackQueue({ visibilityTimeoutMs: 200, invocationTimeoutMs: WORKER_TIMEOUT_MS });
  const local = composeLocal(fullEnv, {
    dynamodb: dynamo.client,
    retryQueue,
    callbackQueue,
    logger,
    workerTimeoutMs: WORKER_TIMEOUT_MS,
  });
  const { http: handler, worker, invoke: invokeHandler } = local;

  const send: Harness['send'] = async (method, path, rawBody, options = {}) => {
    const signature = options.unsigned
      ? {}
      : signedHeaders(options.secret ?? secrets[0]!, {
          id: options.id ?? newMessageId(),
          body: signedContent(method, path, rawBody),
          timestamp: options.timestamp,
        });
    const event = httpEvent({
      method,
      url: path,
      headers: { ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...signature, ...options.headers },
      body: rawBody,
    });
    return checked(method, path, answerOf(await handler(event, lambdaContext(options.remainingMs ?? 29_000))));
  };

  const portal: Harness['portal'] = async (
    method,
    path,
    body,
    { principal = PORTAL_PRINCIPAL, headers = {}, requestId } = {},
  ) => {
    const event = httpEvent({
      method,
      url: path,
      headers: { ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body),
    });
    if (requestId !== undefined) event.requestContext.requestId = requestId;
    if (principal !== null) {
      Object.assign(event.requestContext, {
        authorizer: {
          iam: { accessKey: 'AKIA', accountId: '123456789012', callerId: 'AIDA', userArn: principal, userId: 'AIDA' },
        },
      });
    }
    return checked(method, path, answerOf(await handler(event, lambdaContext(29_000))));
  };

  return {
    sandbox,
    retryQueue,
    callbackQueue,
    worker,
    http: handler,
    metrics: local.metrics,
    store: local.store,
    secrets,
    env: fullEnv,
    certificateKey,
    send,
    portal,
    invoke: (event) => invokeHandler(event, lambdaContext(29_000)),
    post: (body, options) => send('POST', '/erasures', options?.rawBody ?? JSON.stringify(body), options),
    get: (erasureId, options) => send('GET', `/erasures/${encodeURIComponent(erasureId)}`, '', options),
    close: async () => {
      // Calls waiting for a slot of VERIFIK_RATE_LIMIT get none, then every worker invocation ends
      // before the sandbox and dynalite go away under it.
      endVerifikPaces();
      await retryQueue.close();
      await callbackQueue.close();
      await sandbox.close();
    },
  };
}

/** Registers jest hooks: one dynalite per file, a fresh harness (table, sandbox, secrets) per test. */
export function useHarness(env: Record<string, string> = {}) {
  const context = {} as { dynamo: TestDynamo; api: Harness };
  beforeAll(async () => {
    context.dynamo = await startTestDynamo();
  });
  afterAll(() => context.dynamo.close());
  beforeEach(async () => {
    context.api = await startHarness(context.dynamo, env);
  });
  afterEach(() => context.api.close());
  return context;
}
