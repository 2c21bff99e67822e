import { CfnOutput, CfnParameter, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { FUNCTION_CONFIG } from '../lambda/config';
import { defaultBurst } from '../lambda/verifik/verifik-pace';
import {
  AUDIT_RECEIVER_ACCESS,
  AUDIT_RETRIER_ACCESS,
  AuditTable,
  type AuditAccess,
  type AuditTableEncryption,
} from './constructs/audit-table';
import { AuditArchive } from './constructs/audit-archive';
import { PublicKeyOutputs } from './constructs/public-key-outputs';
import { Callbacks } from './constructs/callbacks';
import { CertificateSigning } from './constructs/certificate-signing';
import { ErasureApi, type ErasureApiProps } from './constructs/erasure-api';
import { ErasureFunction } from './constructs/erasure-function';
import { RetryQueues } from './constructs/retry-queues';
import { ServiceMonitoring } from './constructs/service-monitoring';
import { ServiceSecrets } from './constructs/service-secrets';
import { StatutoryClock } from './constructs/statutory-clock';
import { SubjectsAndHooks } from './constructs/subjects-and-hooks';
import { TokenRotation } from './constructs/token-rotation';

export interface VerifikErasureStackProps extends StackProps {
  /** @default 'aws-owned' */
  readonly auditTableEncryption?: AuditTableEncryption;
  /** API Gateway stage default, for a route without limits of its own. @default 25 requests per second, bursts of 50 */
  readonly apiRateLimit?: number;
  readonly apiBurstLimit?: number;
  /** Limits of single routes (each route has its own bucket). @default DEFAULT_ROUTE_THROTTLING */
  readonly apiRouteThrottling?: ErasureApiProps['routeThrottling'];
  /**
   * Verifik calls a second at most, across the deployment (context `verifikRateLimit`; set it from your
   * Verifik plan). Divided over the functions that call Verifik at their most concurrent: the http and
   * invoke functions then get reserved concurrency (`verifikCallerConcurrency`), the worker has its
   * queue's 2. @default none: no client-side pace, Verifik's 429s alone set it
   */
  readonly verifikRateLimit?: number;
  /** Reserved concurrency of the http and invoke functions when a rate is set. @default DEFAULT_VERIFIK_CALLER_CONCURRENCY */
  readonly verifikCallerConcurrency?: VerifikCallerConcurrency;
}

/** The most instances of each function that calls Verifik, when a client-side pace is divided over them. */
export interface VerifikCallerConcurrency {
  readonly http: number;
  readonly invoke: number;
}

export const DEFAULT_VERIFIK_CALLER_CONCURRENCY: VerifikCallerConcurrency = { http: 10, invoke: 5 };
/** The retry worker's most concurrent instances (its queue's event source). */
const WORKER_MAX_CONCURRENCY = 2;

/**
 * Each instance's share of the deployment's Verifik rate: the rate over every instance that may call
 * Verifik at once. Refuses a rate that is not a number above 0, or a concurrency below 1.
 */
export function verifikPacePerInstance(rate: number, concurrency: VerifikCallerConcurrency) {
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0)
    throw new Error(`verifikRateLimit must be a number of calls a second above 0, not ${JSON.stringify(rate)}`);
  for (const [fn, n] of Object.entries(concurrency))
    if (!Number.isInteger(n) || n < 1) throw new Error(`verifikCallerConcurrency.${fn} must be a whole number of at least 1`);
  const instances = concurrency.http + concurrency.invoke + WORKER_MAX_CONCURRENCY;
  // Rounded down to a thousandth: the sum of the shares never exceeds the rate.
  const perInstance = Math.floor((rate / instances) * 1000) / 1000;
  if (perInstance <= 0)
    throw new Error(`verifikRateLimit ${rate} leaves nothing for each of ${instances} instances: lower verifikCallerConcurrency`);
  return { instances, perInstance };
}

/**
 * Timeouts. A request spends at most INLINE_BUDGET_MS (10 s) calling Verifik and keeps RESERVE_MS
 * (3 s) to record and answer (lambda/config.ts); 15 s leaves 2 s for a cold start and stays under
 * API Gateway's 30 s integration limit. The worker's 60 s let a batch of slow persons progress; its
 * own deadline stops work before the timeout, and the retry queue's visibility follows from it.
 */
/**
 * A bare https origin: `https://host[:port]`, nothing after it. The Verifik client appends
 * `/v2/face-recognition/...` itself, so a base URL with a path (`https://api.verifik.co/v2`) would
 * reach a page that does not exist, and a query or fragment would mangle every request. Host: DNS
 * labels or an IPv4 address (no user info); port 1-65535. `http://` is for loopback runs only and
 * never deployed. CloudFormation evaluates it as a Java regular expression; it means the same in
 * JavaScript, which is how the tests evaluate it.
 */
export const VERIFIK_BASE_URL_PATTERN =
  '^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*' +
  '(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?$';

/**
 * One entry of SecretAdminRoleArns: a role or user ARN with a 12-digit account id (no wildcard
 * there), wildcards allowed in the path and name (IAM Identity Center roles carry a random suffix).
 */
export const SECRET_ADMIN_ARN_PATTERN = '^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=.@_/*?-]+$';

export const HTTP_TIMEOUT = Duration.seconds(15);
export const WORKER_TIMEOUT = Duration.seconds(60);

/** The whole service of docs/api.md: API, functions, audit table, retry queues, secrets, alarms. */
export class VerifikErasureStack extends Stack {
  constructor(scope: Construct, id: string, props: VerifikErasureStackProps = {}) {
    super(scope, id, {
      description: 'verifik-erasure: GDPR right-to-be-forgotten erasures at Verifik with a DynamoDB audit trail',
      ...props,
    });

    const verifikBaseUrl = new CfnParameter(this, 'VerifikBaseUrl', {
      type: 'String',
      default: 'https://api.verifik.co',
      allowedPattern: VERIFIK_BASE_URL_PATTERN,
      constraintDescription:
        'a bare https origin, https://host or https://host:port, without a path (not even /), query or fragment: the client adds /v2/... itself',
      description: 'Origin of the Verifik API (https://host[:port], no path).',
    });
    const verifikTokenSecret = new CfnParameter(this, 'VerifikTokenSecret', {
      type: 'String',
      default: '',
      allowedPattern: '^[A-Za-z0-9/_+=.@:-]*$',
      description:
        'Name or ARN of an existing Secrets Manager secret (this account and region) whose SecretString is the Verifik token. Empty: the stack creates an empty secret for you to fill.',
    });
    const secretAdmins = new CfnParameter(this, 'SecretAdminRoleArns', {
      type: 'CommaDelimitedList',
      // Each ARN of the list: an IAM role or user of one account; * and ? only in the name or path.
      allowedPattern: SECRET_ADMIN_ARN_PATTERN,
      constraintDescription:
        'comma-separated IAM role or user ARNs with the account id, e.g. arn:aws:iam::123456789012:role/PrivacyOps or arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_AdministratorAccess_*',
      description:
        'Who may manage the secrets (put a renewed Verifik token or webhook key, read the webhook key, change or delete a secret): IAM role or user ARNs, * allowed in the name. The secrets deny everyone else but the functions (read only), the account root and the CloudFormation execution role.',
    });
    const alarmEmail = new CfnParameter(this, 'AlarmEmail', {
      type: 'String',
      default: '',
      allowedPattern: '^$|^[^@\\s]+@[^@\\s]+$',
      constraintDescription: 'an e-mail address, or empty',
      description: 'E-mail address subscribed to the alarm topic (confirm the mail AWS sends). Empty: no subscription.',
    });
    const retentionDays = new CfnParameter(this, 'RetentionDays', {
      type: 'Number',
      default: 2192,
      minValue: 17,
      maxValue: 36500,
      description: 'Days an audit item is kept before DynamoDB TTL removes it (default 6 years).',
    });
    const pendingAlarmHours = new CfnParameter(this, 'PendingAlarmHours', {
      type: 'Number',
      default: 6,
      minValue: 1,
      maxValue: 48,
      description: 'Hours an erasure may stay pending (Verifik failing or token expired) before the alarm fires.',
    });

    const tokenRotationDays = new CfnParameter(this, 'TokenRotationDays', {
      type: 'Number',
      default: 7,
      minValue: 1,
      maxValue: 20,
      description:
        'Days between renewals of the Verifik token (valid 30 days; renewable only while valid). At most 20 leaves time for failed renewals to be retried.',
    });

    const audit = new AuditTable(this, 'Audit', { encryption: props.auditTableEncryption ?? 'aws-owned' });
    const queues = new RetryQueues(this, 'Retries', { workerTimeout: WORKER_TIMEOUT });
    const secrets = new ServiceSecrets(this, 'Secrets', {
      existingVerifikTokenSecret: verifikTokenSecret.valueAsString,
      adminPrincipalArns: secretAdmins.valueAsList,
    });

    /**
     * Each function gets what its code calls and nothing else (checked on the template by
     * test/infra/stack.test.ts): its log group (EMF metrics travel in the logs: no PutMetricData),
     * and, bound one resource at a time (the variable and the grant in one call), the audit items it
     * reads and writes, the queues it sends to and the secrets it reads (lambda/config.ts lists them
     * per function). Every function calls Verifik, so every one reads the token.
     */
    const secretOf = {
      VERIFIK_TOKEN: secrets.verifikToken,
      WEBHOOK_SECRET: secrets.webhook,
      SUBJECT_REF_PEPPER: secrets.pepper,
      HUBSPOT_CLIENT_SECRET: secrets.hubspot,
    };
    /** The functions that run the erasure service (each calls Verifik). */
    type ServiceFunctionName = 'http' | 'invoke' | 'worker';
    // The client-side pace (VERIFIK_RATE_LIMIT): the deployment's rate divided over every instance that may call Verifik.
    const callerConcurrency = props.verifikCallerConcurrency ?? DEFAULT_VERIFIK_CALLER_CONCURRENCY;
    const pace =
      props.verifikRateLimit === undefined ? undefined : verifikPacePerInstance(props.verifikRateLimit, callerConcurrency);
    const paceOf = (fn: ServiceFunctionName) =>
      pace && {
        reservedConcurrency: fn === 'worker' ? undefined : callerConcurrency[fn],
        environment: {
          VERIFIK_RATE_LIMIT: String(pace.perInstance),
          VERIFIK_BURST: String(defaultBurst(pace.perInstance)),
        },
      };
    const serviceFunction = (
      id: string,
      fn: ServiceFunctionName,
      description: string,
      timeout: Duration,
      auditAccess: AuditAccess,
    ) => {
      const paced = paceOf(fn);
      const erasureFunction = new ErasureFunction(this, id, {
        entry: `lambda/handlers/${fn}.ts`,
        description,
        timeout,
        reservedConcurrency: paced?.reservedConcurrency,
        environment: {
          VERIFIK_BASE_URL: verifikBaseUrl.valueAsString,
          RETENTION_DAYS: retentionDays.valueAsString,
          ...paced?.environment,
        },
      });
      audit.bindTo(erasureFunction, auditAccess);
      queues.bindRetryQueue(erasureFunction);
      // The secrets lambda/config.ts says this function reads, and no other.
      for (const name of FUNCTION_CONFIG[fn].secrets as readonly (keyof typeof secretOf)[]) {
        secrets.bindTo(erasureFunction, secretOf[name], name);
      }
      return erasureFunction;
    };

    // http and invoke: ErasureService.submit (records the request: PutItem; hashes subjectRef with the
    // pepper) and get. The worker: ErasureService.retry only; it never records a request (no PutItem)
    // nor hashes a subjectRef, and it alone gives up, so it alone is given the dead-letter queue.
    const http = serviceFunction('Http', 'http', 'HTTP API: webhook and portal routes', HTTP_TIMEOUT, AUDIT_RECEIVER_ACCESS);
    const invoke = serviceFunction(
      'Invoke',
      'invoke',
      'Direct invocation by a privacy portal',
      HTTP_TIMEOUT,
      AUDIT_RECEIVER_ACCESS,
    );
    const worker = serviceFunction('Worker', 'worker', 'Retry worker on the retry queue', WORKER_TIMEOUT, AUDIT_RETRIER_ACCESS);
    queues.bindDeadLetterQueue(worker);
    // Certificates of erasure are issued by the HTTP API only (GET …/certificate): it alone may sign.
    const certificates = new CertificateSigning(this, 'Certificates', { issuers: [http] });
    queues.addConsumer(worker.function, {
      batchSize: 10,
      // Two concurrent workers (the minimum) drain a backlog after a Verifik outage without
      // hammering Verifik the moment it comes back.
      maxConcurrency: WORKER_MAX_CONCURRENCY,
    });

    const api = new ErasureApi(this, 'Api', {
      handler: http.function,
      rateLimit: props.apiRateLimit,
      burstLimit: props.apiBurstLimit,
      routeThrottling: props.apiRouteThrottling,
    });

    new SubjectsAndHooks(this, 'Subjects', { api, http, audit, secrets });

    const tokenRotation = new TokenRotation(this, 'TokenRotation', {
      secrets,
      verifikBaseUrl: verifikBaseUrl.valueAsString,
      rotationDays: tokenRotationDays.valueAsNumber,
    });

    const monitoring = new ServiceMonitoring(this, 'Monitoring', {
      httpFunction: http.function,
      workerFunction: worker.function,
      invokeFunction: invoke.function,
      api: api.api,
      retryQueue: queues.retryQueue,
      deadLetterQueue: queues.deadLetterQueue,
      alarmEmail: alarmEmail.valueAsString,
      pendingAlarmHours: pendingAlarmHours.valueAsNumber,
    });
    new StatutoryClock(this, 'Clock', { audit, monitoring, verifikCallers: [http, invoke, worker], retryQueues: queues });

    // Callbacks to the caller: their queue, delivery function, secret and alarms; its own outputs.
    const callbacks = new Callbacks(this, 'Callbacks', { audit, secrets, monitoring, receivers: [http, invoke], worker });

    // Tamper evidence: the table's stream archived under Object Lock, digests signed hourly; its own outputs and alarms.
    const archive = new AuditArchive(this, 'Archive', {
      table: audit.table,
      tableKey: audit.key,
      retentionDays: retentionDays.valueAsNumber,
      alarmTopic: monitoring.topic,
      dashboard: monitoring.dashboard,
      // Certificates name the batch and digest that hold their erasure: the HTTP API reads the archive.
      certificateIssuers: [http],
    });
    // Both signing keys' public halves as outputs: anyone holding the outputs verifies offline.
    new PublicKeyOutputs(this, 'PublicKeys', {
      keys: [
        {
          outputId: 'CertificatePublicKey',
          key: certificates.key,
          description:
            'Public key that verifies certificates of erasure (base64 DER): npm run verify-certificate -- certificate.json <a file holding it>',
        },
        {
          outputId: 'ArchivePublicKey',
          key: archive.key,
          description:
            'Public key that verifies the archive digests (base64 DER): npm run verify-archive -- --public-key <a file holding it>',
        },
      ],
    });

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('ApiUrl', api.url, 'Base URL of the HTTP API (POST {ApiUrl}erasures).');
    output('PortalExecuteApiArn', api.portalExecuteArn, 'Grant portal principals execute-api:Invoke on this ARN.');
    output('InvokeFunctionArn', invoke.function.functionArn, 'Grant portal principals lambda:InvokeFunction on this ARN.');
    output(
      'HttpFunctionArn',
      http.function.functionArn,
      'Only API Gateway may invoke it (it trusts the IAM identity in the request context): grant nobody lambda:InvokeFunction on it (SECURITY.md).',
    );
    output('InvokeFunctionName', invoke.function.functionName, 'Function a privacy portal invokes directly.');
    output('WebhookSecretArn', secrets.webhookSecret.secretArn, 'Webhook signing key(s); senders use whsec_ + the value.');
    output('SubjectRefPepperSecretArn', secrets.pepperSecret.secretArn, 'Pepper of the subjectRef hashes; never change it.');
    output('VerifikTokenSecretId', secrets.verifikToken.secretId, 'Secret holding the Verifik token (put the token here).');
    output(
      'VerifikTokenReaderRoleArns',
      secrets.readerRoleArns(secrets.verifikToken),
      'Roles that read the Verifik token: admit them (GetSecretValue only) in the policy of a token secret you passed in.',
    );
    output(
      'VerifikTokenRotationRoleArn',
      secrets.rotationRoleArn,
      'Role of the token rotation: admit it (GetSecretValue, DescribeSecret, PutSecretValue, UpdateSecretVersionStage) in the policy of a token secret you passed in.',
    );
    output(
      'TokenRotationFunctionName',
      tokenRotation.rotationFunction.function.functionName,
      'Rotates the Verifik token; invoke it with {"action":"check-token"} to check the token now.',
    );
    output('AuditTableName', audit.table.tableName, 'DynamoDB audit table (retained when the stack is deleted).');
    output('RetryQueueUrl', queues.retryQueue.queueUrl, 'Retry queue the worker consumes.');
    output('RetryQueueArn', queues.retryQueue.queueArn, 'Destination ARN for a redrive from the dead-letter queue.');
    output('DeadLetterQueueUrl', queues.deadLetterQueue.queueUrl, 'Dead-letter queue; redrive it to resume failed erasures.');
    output('DeadLetterQueueArn', queues.deadLetterQueue.queueArn, 'Source ARN for `aws sqs start-message-move-task` (redrive).');
    output('CallbackSecretArn', callbacks.secretArn, 'Callback signing key; receivers verify with whsec_ + the value.');
    output(
      'CallbackDeadLetterQueueArn',
      callbacks.deadLetterQueue.queueArn,
      'Callbacks that ran out of retries; redrive to resume them (`aws sqs start-message-move-task`).',
    );
    output('AlarmTopicArn', monitoring.topic.topicArn, 'SNS topic of all alarms.');
    output('DashboardName', monitoring.dashboard.dashboardName, 'CloudWatch dashboard.');

    // CDK's built-in template checks (cfn-lint rules), two false positives:
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W1001',
      reason: 'VerifikTokenSecretId refers to the created token secret only inside Fn::If on the very condition that creates it.',
    });
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W2509',
      reason:
        'VerifikTokenSecret holds the name or ARN of a secret, not a secret; NoEcho would hide which secret the stack uses.',
    });
  }
}
