import { CfnParameter, Duration, Names, Stack, Validations } from 'aws-cdk-lib';
import { Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { erasureKey } from '../../lambda/audit/keys';
import { AUDIT_TABLE_SCHEMA } from '../../lambda/audit/table-definition';
import type { AuditAccess, AuditTable } from './audit-table';
import { ErasureFunction } from './erasure-function';
import { QUEUE_CONSUMER_ACTIONS } from './retry-queues';
import { serviceMetric, type ServiceMonitoring } from './service-monitoring';
import type { ServiceSecrets } from './service-secrets';

export const CALLBACKS_TIMEOUT = Duration.seconds(30);

/** An allowlist entry as the function reads it (lambda/callbacks/callback-url.ts), in CloudFormation's (Java) syntax. */
export const CALLBACK_ALLOWED_HOSTS_PATTERN =
  '^$|^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?)' +
  '(,([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?))*$';

/**
 * What the delivery function does with the audit table (lambda/audit/dynamo-audit-store.ts): read an
 * erasure's items (Query on `ERASURE#…`) and write the request item's `callbackDelivery`, nothing else:
 * IAM refuses an UpdateItem that names any other attribute (the key attributes must be listed).
 */
export const AUDIT_CALLBACK_READ: AuditAccess = {
  actions: ['dynamodb:Query'],
  conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [erasureKey('*')] } },
};
export const AUDIT_CALLBACK_WRITE: AuditAccess = {
  actions: ['dynamodb:UpdateItem'],
  conditions: {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [erasureKey('*')] },
    'ForAllValues:StringEquals': {
      'dynamodb:Attributes': [AUDIT_TABLE_SCHEMA.partitionKey, AUDIT_TABLE_SCHEMA.sortKey, 'callbackDelivery'],
    },
    StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
  },
};

export interface CallbacksProps {
  readonly audit: AuditTable;
  readonly secrets: ServiceSecrets;
  readonly monitoring: ServiceMonitoring;
  /** The functions that take requests: they check callbackUrl against the allowlist and enqueue callbacks. */
  readonly receivers: readonly ErasureFunction[];
  /** The retry worker: it enqueues the callbacks of erasures that end on the retry path. */
  readonly worker: ErasureFunction;
}

/**
 * Callbacks to the caller (docs/callbacks.md): the CallbackAllowedHosts parameter, the callback queue
 * and its dead-letter queue (encrypted, TLS only, 14 days), the delivery function with a role of its
 * own (no Verifik token, no other table write than the delivery state), its signing secret, and the
 * alarms on dead letters and failed deliveries.
 */
export class Callbacks extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly delivery: ErasureFunction;
  readonly secretArn: string;

  constructor(scope: Construct, id: string, props: CallbacksProps) {
    super(scope, id);
    const allowedHosts = new CfnParameter(Stack.of(this), 'CallbackAllowedHosts', {
      type: 'String',
      default: '',
      allowedPattern: CALLBACK_ALLOWED_HOSTS_PATTERN,
      constraintDescription: 'comma-separated host names or host:port, no spaces, or empty',
      description:
        'Hosts a request\'s callbackUrl may name (https only), comma-separated, e.g. "portal.example.com,hooks.example.org:8443". Empty: callbacks are refused (400).',
    });
    const common = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', common);
    this.queue = new Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: Duration.seconds(CALLBACKS_TIMEOUT.toSeconds() * 6 + 30),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    const send = (queue: Queue, fn: ErasureFunction, variable: string) => {
      fn.addEnvironment(variable, queue.queueUrl);
      fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    };
    for (const fn of props.receivers) {
      send(this.queue, fn, 'CALLBACK_QUEUE_URL');
      fn.addEnvironment('CALLBACK_ALLOWED_HOSTS', allowedHosts.valueAsString);
    }
    send(this.queue, props.worker, 'CALLBACK_QUEUE_URL');

    this.delivery = new ErasureFunction(this, 'Delivery', {
      entry: 'lambda/handlers/callbacks.ts',
      description: 'Delivers signed callbacks of terminal erasures',
      timeout: CALLBACKS_TIMEOUT,
      environment: { CALLBACK_ALLOWED_HOSTS: allowedHosts.valueAsString },
    });
    props.audit.bindTo(this.delivery, AUDIT_CALLBACK_READ);
    props.audit.grantItemAccess(this.delivery.role, AUDIT_CALLBACK_WRITE);
    send(this.queue, this.delivery, 'CALLBACK_QUEUE_URL');
    send(this.deadLetterQueue, this.delivery, 'CALLBACK_DEAD_LETTER_QUEUE_URL');
    const { secret, reference } = props.secrets.createSecret(
      this,
      'SigningSecret',
      'verifik-erasure: Standard Webhooks key that signs callbacks, base64 without the whsec_ prefix',
    );
    props.secrets.bindTo(this.delivery, reference, 'CALLBACK_SECRET');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Every receiver verifies callbacks with this key and one key signs at a time: operators rotate it by hand together with the receivers (docs/callbacks.md), which a rotation Lambda cannot coordinate.',
    });
    this.secretArn = secret.secretArn;

    this.delivery.function.role!.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...QUEUE_CONSUMER_ACTIONS], resources: [this.queue.queueArn] }),
    );
    this.delivery.function.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(this.queue.node)}`, {
      eventSourceArn: this.queue.queueArn,
      batchSize: 10,
      maxConcurrency: 2,
      reportBatchItemFailures: true,
    });

    const { monitoring } = props;
    monitoring.alarm('CallbackDeadLetters', {
      description:
        'Callbacks ran out of retries (the receiver failed or was unreachable for about a day, or its host left the allowlist). The erasures are unaffected; fix the receiver, then redrive the callback dead-letter queue (docs/callbacks.md).',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      threshold: 0,
    });
    monitoring.alarm('CallbackFailures', {
      description:
        "Callback deliveries have failed for 30 minutes (the receiver answers non-2xx or not at all); they are retried with backoff. The delivery function's log names the host and status.",
      metric: serviceMetric('CallbackFailures'),
      threshold: 0,
      evaluationPeriods: 6,
    });
    monitoring.alarm('CallbackDeliveryErrors', {
      description:
        'The callback delivery function failed whole invocations (the audit table or the signing secret could not be read); its messages come back.',
      metric: this.delivery.function.metricErrors({ period: Duration.minutes(5) }),
      threshold: 0,
    });
  }
}
