import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RetryMessage, RetryQueue } from '../erasure/ports';
import { StorageUnavailableError } from '../errors';
import { encodeRetryMessage } from './retry-message';

/** SQS caps a message's delay at 15 minutes; later times are reached by hops (the worker defers again). */
export const MAX_SQS_DELAY_S = 900;

export const delaySecondsUntil = (notBefore: number, now: number) =>
  Math.min(MAX_SQS_DELAY_S, Math.max(0, Math.ceil((notBefore - now) / 1000)));

/** The retry path on SQS, with the dead-letter queue the worker sends to when it gives up (only it is given one). */
export class SqsRetryQueue implements RetryQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl?: string,
  ) {}

  schedule(message: RetryMessage): Promise<void> {
    return this.send(this.queueUrl, message, delaySecondsUntil(message.notBefore, Date.now()));
  }

  deadLetter(message: RetryMessage): Promise<void> {
    if (!this.deadLetterQueueUrl) throw new TypeError('SqsRetryQueue: this function was given no dead-letter queue');
    return this.send(this.deadLetterQueueUrl, message, 0);
  }

  private async send(queueUrl: string, message: RetryMessage, delaySeconds: number): Promise<void> {
    try {
      await this.sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: encodeRetryMessage(message), DelaySeconds: delaySeconds }),
      );
    } catch (error) {
      throw new StorageUnavailableError(error);
    }
  }
}
