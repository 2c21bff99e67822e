import { Duration, Names } from 'aws-cdk-lib';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { EventSourceMapping, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BindTarget } from './erasure-function';

/** How the worker reads the retry queue. */
export interface RetryConsumerOptions {
  readonly batchSize: number;
  readonly maxConcurrency: number;
}

/**
 * What the Lambda service needs to poll a queue for a function (the actions of AWS's
 * AWSLambdaSQSQueueExecutionRole). `SqsEventSource` would also grant ChangeMessageVisibility and
 * GetQueueUrl, which neither the poller (partial batch failures leave a message to its visibility
 * timeout) nor our code calls.
 */
export const QUEUE_CONSUMER_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'] as const;

export interface RetryQueuesProps {
  /** The worker's timeout: the retry queue's visibility timeout is derived from it. */
  readonly workerTimeout: Duration;
  /** Receives before SQS itself moves a message aside (a backstop: the worker counts attempts). */
  readonly maxReceiveCount?: number;
}

/**
 * The durable retry path: the retry queue the worker consumes and its dead-letter queue. Both are
 * encrypted (SQS-managed keys: the messages hold only an erasure id and counters) and refuse
 * requests that are not over TLS. Both keep messages 14 days, SQS's maximum, so a stopped worker
 * or an unattended dead letter loses nothing for two weeks.
 */
export class RetryQueues extends Construct {
  readonly retryQueue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: RetryQueuesProps) {
    super(scope, id);
    const common = {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', common);
    this.retryQueue = new Queue(this, 'RetryQueue', {
      ...common,
      // AWS asks for at least six times the function timeout, so a batch that is retried by the
      // Lambda service is not redelivered to another worker meanwhile; 30 s more keeps it strictly above.
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() * 6 + 30),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
  }

  /** Names the retry queue to `fn` (RETRY_QUEUE_URL) and lets it schedule retries. */
  bindRetryQueue(fn: BindTarget): void {
    fn.addEnvironment('RETRY_QUEUE_URL', this.retryQueue.queueUrl);
    this.grantSchedule(fn.role);
  }

  /** Names the dead-letter queue to `fn` (DEAD_LETTER_QUEUE_URL) and lets it send dead letters: the worker alone. */
  bindDeadLetterQueue(fn: BindTarget): void {
    fn.addEnvironment('DEAD_LETTER_QUEUE_URL', this.deadLetterQueue.queueUrl);
    this.grantDeadLetter(fn.role);
  }

  /**
   * SendMessage on the retry queue, what `SqsRetryQueue.schedule` calls. Only that action: the queue
   * is addressed by its URL (no GetQueueUrl) and nothing reads its attributes.
   */
  grantSchedule(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.retryQueue.queueArn] }),
    );
  }

  /** SendMessage on the dead-letter queue, what `SqsRetryQueue.deadLetter` calls (the worker gives up). */
  grantDeadLetter(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
  }

  /**
   * Feeds `fn` from the retry queue with partial batch failures, and grants its role QUEUE_CONSUMER_ACTIONS
   * on that queue only. The mapping keeps the construct id `SqsEventSource` gave it, so a stack
   * deployed before keeps its mapping (updated in place, not replaced).
   */
  addConsumer(fn: IFunction, options: RetryConsumerOptions): EventSourceMapping {
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...QUEUE_CONSUMER_ACTIONS], resources: [this.retryQueue.queueArn] }),
    );
    return fn.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(this.retryQueue.node)}`, {
      eventSourceArn: this.retryQueue.queueArn,
      batchSize: options.batchSize,
      maxConcurrency: options.maxConcurrency,
      reportBatchItemFailures: true,
    });
  }
}
