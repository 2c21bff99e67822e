import type { LogSink } from '../log';
import type { CallbackMessage, CallbackMetricName, CallbackQueue, CallbackStore } from '../erasure/ports';
import { buildRecord } from '../erasure/record';
import type { RetryPolicy } from '../erasure/retry-policy';
import type { CallbackDelivery as DeliveryState } from '../erasure/types';
import { callbackEventIdOf, callbackEventOf, isTerminalRecord } from './callback-event';
import type { CallbackSender, SendResult } from './callback-sender';
import type { CallbackUrlPolicy } from './callback-url';

export interface CallbackDeliveryDeps {
  store: CallbackStore;
  queue: CallbackQueue;
  sender: CallbackSender;
  /** The allowlist, checked again before every call. */
  policy: CallbackUrlPolicy;
  /** The delay before each retry; its length is the number of retries after the first attempt. */
  retryPolicy: RetryPolicy;
  count?(name: CallbackMetricName): void;
  now?: () => Date;
}

/** What the delivery function did with one callback message. */
export type DeliveryResult =
  | { kind: 'delivered'; status: number }
  /** Not yet its time (a wait past SQS's 15-minute delay cap): sent on again. */
  | { kind: 'deferred'; until: number }
  | { kind: 'rescheduled'; attempt: number; notBefore: number }
  | { kind: 'dead_lettered' }
  /** Delivered before (a repeated message): nothing sent. */
  | { kind: 'already_delivered' }
  /** The erasure no longer stands where the message says (unknown, pending again, or a newer event): dropped. */
  | { kind: 'stale' };

/** A message this close to its time is delivered, not deferred again. */
const DEFER_TOLERANCE_MS = 1_000;

/**
 * Delivers one callback event: reads the erasure, POSTs its record (signed) to the recorded URL if
 * the allowlist still admits it, records the attempt on the request item, and schedules the next
 * attempt with backoff or, after the last, sends the message to the dead-letter queue. Every step
 * that can fail throws before the message is acknowledged, so SQS brings it back: at least once.
 */
export class CallbackDelivery {
  private readonly now: () => Date;

  constructor(private readonly deps: CallbackDeliveryDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  get maxAttempts(): number {
    return this.deps.retryPolicy.maxAttempts + 1;
  }

  async deliver(given: CallbackMessage, log: LogSink): Promise<DeliveryResult> {
    const { store, queue } = this.deps;
    if (given.notBefore > this.now().getTime() + DEFER_TOLERANCE_MS) {
      await queue.schedule(given);
      return { kind: 'deferred', until: given.notBefore };
    }
    // A redrive from the dead-letter queue starts the schedule again.
    const message = given.deadLettered ? { ...given, attempt: 0, deadLettered: undefined } : given;
    const stored = await store.getErasure(message.erasureId);
    const url = stored?.request.callbackUrl;
    const record = stored && buildRecord(stored.request, stored.persons);
    if (!url || !record || !isTerminalRecord(record) || callbackEventIdOf(record) !== message.eventId) {
      log.info('callback dropped: the erasure is not in the state the event announces');
      return { kind: 'stale' };
    }
    const previous = stored.request.callbackDelivery;
    const earlier = previous?.eventId === message.eventId ? previous : undefined;
    if (earlier?.deliveredAt) return { kind: 'already_delivered' };

    const host = new URL(url).host;
    const attempts = (earlier?.attempts ?? 0) + 1;
    const result: SendResult = this.deps.policy.allows(url)
      ? await this.deps.sender.send(url, message.eventId, callbackEventOf(record))
      : { delivered: false, error: 'host_not_allowed' };
    const state: DeliveryState = {
      eventId: message.eventId,
      attempts,
      deliveredAt: result.delivered ? this.now().toISOString() : undefined,
      lastStatus: result.status,
      lastError: result.delivered ? undefined : result.error,
    };
    await store.recordCallbackDelivery(message.erasureId, omitUndefined(state));
    if (result.delivered) {
      this.deps.count?.('CallbacksDelivered');
      log.info('callback delivered', { host, status: result.status, attempts });
      return { kind: 'delivered', status: result.status };
    }
    this.deps.count?.('CallbackFailures');
    log.warn('callback not delivered', { host, status: result.status, reason: result.error, attempts });

    const next = message.attempt + 1;
    // No retry can help a host the allowlist no longer admits: straight to the dead letters (a redrive resumes it).
    if (next < this.maxAttempts && result.error !== 'host_not_allowed') {
      const notBefore = this.now().getTime() + this.deps.retryPolicy.delayBefore(next - 1);
      await queue.schedule({ ...message, attempt: next, notBefore });
      return { kind: 'rescheduled', attempt: next, notBefore };
    }
    await queue.deadLetter({ ...message, attempt: next, deadLettered: true });
    this.deps.count?.('CallbacksDeadLettered');
    log.error('callback dead-lettered: its retries ran out', { host, attempts });
    return { kind: 'dead_lettered' };
  }
}

function omitUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
