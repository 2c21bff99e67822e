import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

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
}
