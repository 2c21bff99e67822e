import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { CallbackMessage, CallbackQueue, RetryMessage, RetryQueue } from '../../lambda/erasure/ports';
import { MAX_SQS_DELAY_S } from '../../lambda/queue/sqs-retry-queue';
import { decodeRetryMessage, encodeRetryMessage } from '../../lambda/queue/retry-message';
import { decodeCallbackMessage, encodeCallbackMessage } from '../../lambda/callbacks/callback-message';
import { PendingWork } from './pending-work';

export type QueueConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface LocalRetryQueueOptions {
  /** Redeliveries of a failed message before SQS's redrive policy moves it to the dead-letter queue. */
  maxReceiveCount?: number;
  visibilityTimeoutMs?: number;
  /**
   * The worker function's timeout. A worker is taken for dead only once both it and the visibility
   * timeout have passed: Lambda ends an invocation at its timeout, and the stack's visibility timeout
   * is longer than that, so SQS never hands a message to a second worker while the first still runs.
   */
  invocationTimeoutMs?: number;
}

interface Queued {
  id: string;
  body: string;
  receiveCount: number;
}

/** How a queue's messages travel as SQS bodies, and the queue's name in its records. */
interface QueueCodec<M> {
  name: string;
  encode(message: M): string;
  decode(body: string): M;
}

/**
 * An in-process stand-in for an SQS queue of timed messages with the same semantics as the cloud's: delays
 * capped at 15 minutes (later times are reached by the consumer deferring again), at-least-once delivery to the same handler as SQS events,
 * partial batch failures redelivered after the visibility timeout, and a dead-letter queue (filled
 * by the consumer, or by the redrive policy after maxReceiveCount) that can be redriven.
 */
export class LocalQueue<M extends { notBefore: number }> {
  readonly deadLetters: M[] = [];
  consumer: QueueConsumer | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly invocations = new PendingWork();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private readonly options: Required<LocalRetryQueueOptions>;
  sent = 0;
  redeliveries = 0;

  constructor(
    private readonly codec: QueueCodec<M>,
    options: LocalRetryQueueOptions = {},
  ) {
    this.options = { maxReceiveCount: 5, visibilityTimeoutMs: 60_000, invocationTimeoutMs: 0, ...options };
  }

  async schedule(message: M): Promise<void> {
    this.sent += 1;
    // Millisecond precision (so tests can compress the schedule), capped like SQS at 15 minutes.
    this.enqueue({ id: randomUUID(), body: this.codec.encode(message), receiveCount: 0 }, message.notBefore - Date.now());
  }

  async deadLetter(message: M): Promise<void> {
    this.deadLetters.push(message);
  }

  /** Moves every dead letter back to the queue, as SQS's redrive to source does. */
  redriveDeadLetters(): number {
    const messages = this.deadLetters.splice(0);
    for (const message of messages) this.enqueue({ id: randomUUID(), body: this.codec.encode(message), receiveCount: 0 }, 0);
    return messages.length;
  }

  /** Messages waiting or being handled. */
  get depth(): number {
    return this.timers.size + this.inFlight;
  }

  /** Resolves when nothing is waiting or in flight. */
  idle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops delivering, drops what waits, and resolves once every invocation it started has ended. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.notifyIfIdle();
    await this.invocations.settled();
  }

  private enqueue(item: Queued, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        void this.deliver(item);
      },
      Math.max(0, Math.min(delayMs, MAX_SQS_DELAY_S * 1000)),
    );
    this.timers.add(timer);
  }

  private async deliver(item: Queued): Promise<void> {
    if (!this.consumer || this.closed) return;
    this.inFlight += 1;
    item.receiveCount += 1;
    // A worker that has not answered within the visibility timeout is taken for dead, as SQS does: the
    // message becomes visible again at once. Lambda would have ended that invocation; here it may run
    // on, so it is tracked, and close() waits for it.
    let expire: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      expire = setTimeout(() => resolve('expired'), Math.max(this.options.visibilityTimeoutMs, this.options.invocationTimeoutMs));
    });
    const invocation = this.invocations.track(this.consumer({ Records: [toRecord(item, this.codec.name)] }));
    let visibleAgainIn: number | undefined;
    try {
      const response = await Promise.race([invocation, expired]);
      if (response === 'expired') visibleAgainIn = 0;
      else if ((response?.batchItemFailures ?? []).some((f) => f.itemIdentifier === item.id))
        visibleAgainIn = this.options.visibilityTimeoutMs;
    } catch {
      visibleAgainIn = this.options.visibilityTimeoutMs;
    } finally {
      clearTimeout(expire);
      this.inFlight -= 1;
    }
    if (visibleAgainIn !== undefined) {
      this.redeliveries += 1;
      if (item.receiveCount >= this.options.maxReceiveCount) this.deadLetters.push(this.codec.decode(item.body));
      else this.enqueue(item, visibleAgainIn);
    }
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (this.depth !== 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/** The retry queue of the local stack, consumed by the retry worker. */
export class LocalRetryQueue extends LocalQueue<RetryMessage> implements RetryQueue {
  constructor(options: LocalRetryQueueOptions = {}) {
    super({ name: 'verifik-erasure-retry', encode: encodeRetryMessage, decode: decodeRetryMessage }, options);
  }
}

/** The callback queue of the local stack, consumed by the callback delivery function. */
export class LocalCallbackQueue extends LocalQueue<CallbackMessage> implements CallbackQueue {
  constructor(options: LocalRetryQueueOptions = {}) {
    super({ name: 'verifik-erasure-callbacks', encode: encodeCallbackMessage, decode: decodeCallbackMessage }, options);
  }
}

function toRecord(item: Queued, queueName: string): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: item.id,
    receiptHandle: item.id,
    body: item.body,
    attributes: {
      ApproximateReceiveCount: String(item.receiveCount),
      SentTimestamp: now,
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:local:000000000000:${queueName}`,
    awsRegion: 'local',
  };
}
