import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CallbackMessage, CallbackQueue, RetryMessage, RetryQueue } from '../erasure/ports';
import { StorageUnavailableError } from '../errors';
import { encodeCallbackMessage } from '../callbacks/callback-message';
import { encodeRetryMessage } from './retry-message';

/** SQS caps a message's delay at 15 minutes; later times are reached by hops (the worker defers again). */
export const MAX_SQS_DELAY_S = 900;

export const delaySecondsUntil = (notBefore: number, now: number) =>
  Math.min(MAX_SQS_DELAY_S, Math.max(0, Math.ceil((notBefore - now) / 1000)));

/**
 * A queue of timed messages on SQS, with the dead-letter queue its consumer sends to when it gives up
 * (only that consumer is given one).
 */
class SqsTimedQueue<M extends { notBefore: number }> {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string | undefined,
    private readonly encode: (message: M) => string,
  ) {}

  schedule(message: M): Promise<void> {
    return this.send(this.queueUrl, message, delaySecondsUntil(message.notBefore, Date.now()));
  }

  deadLetter(message: M): Promise<void> {
    if (!this.deadLetterQueueUrl) throw new TypeError(`${this.constructor.name}: this function was given no dead-letter queue`);
    return this.send(this.deadLetterQueueUrl, message, 0);
  }

  private async send(queueUrl: string, message: M, delaySeconds: number): Promise<void> {
    try {
      await this.sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: this.encode(message), DelaySeconds: delaySeconds }),
      );
    } catch (error) {
      throw new StorageUnavailableError(error);
    }
  }
}

/** The retry path on SQS, with the dead-letter queue the worker sends to when it gives up (only it is given one). */
export class SqsRetryQueue extends SqsTimedQueue<RetryMessage> implements RetryQueue {
  constructor(sqs: SQSClient, queueUrl: string, deadLetterQueueUrl?: string) {
    super(sqs, queueUrl, deadLetterQueueUrl, encodeRetryMessage);
  }
}

/** The callback queue on SQS; only the delivery function is given its dead-letter queue. */
export class SqsCallbackQueue extends SqsTimedQueue<CallbackMessage> implements CallbackQueue {
  constructor(sqs: SQSClient, queueUrl: string, deadLetterQueueUrl?: string) {
    super(sqs, queueUrl, deadLetterQueueUrl, encodeCallbackMessage);
  }
}
