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
    const stored = await store.getErasure(given.erasureId);
    const url = stored?.request.callbackUrl;
    const record = stored && buildRecord(stored.request, stored.persons);
    if (!url || !record || !isTerminalRecord(record) || callbackEventIdOf(record) !== given.eventId) {
      log.info('callback dropped: the erasure is not in the state the event announces');
      return { kind: 'stale' };
    }
    const previous = stored.request.callbackDelivery;
    const earlier = previous?.eventId === given.eventId ? previous : undefined;
    if (earlier?.deliveredAt) return { kind: 'already_delivered' };
    const made = earlier?.attempts ?? 0;
    // A redrive from the dead-letter queue starts the schedule again from what is recorded.
    const message = given.deadLettered ? { ...given, attempt: made, since: made, deadLettered: undefined } : given;
    // The next message is sent before its sender records the attempt, so it may find that attempt not
    // recorded yet (or never: the sender died): it goes on all the same. Any other count means another
    // message of the event (a second announcement, or a copy) has moved on: this one is dropped.
    if (message.attempt !== made && message.attempt !== made + 1) {
      log.info('callback dropped: another delivery of the event has moved on', { attempt: message.attempt, recorded: made });
      return { kind: 'stale' };
    }

    const host = new URL(url).host;
    const result: SendResult = this.deps.policy.allows(url)
      ? await this.deps.sender.send(url, message.eventId, callbackEventOf(record))
      : { delivered: false, error: 'host_not_allowed' };
    const state: DeliveryState = omitUndefined({
      eventId: message.eventId,
      attempts: message.attempt + 1,
      deliveredAt: result.delivered ? this.now().toISOString() : undefined,
      lastStatus: result.status,
      lastError: result.delivered ? undefined : result.error,
    });
    const recordAttempt = async () => {
      const recorded = await store.recordCallbackDelivery(message.erasureId, state, [made, message.attempt]);
      if (!recorded) log.info('another delivery of the event was recorded first', { attempts: state.attempts });
    };
    if (result.delivered) {
      await recordAttempt();
      this.deps.count?.('CallbacksDelivered');
      log.info('callback delivered', { host, status: result.status, attempts: state.attempts });
      return { kind: 'delivered', status: result.status };
    }
    this.deps.count?.('CallbackFailures');
    log.warn('callback not delivered', { host, status: result.status, reason: result.error, attempts: state.attempts });

    // The next message is sent before the attempt is recorded: a death in between brings this message
    // back (it makes the attempt again), never a message that finds nothing to do.
    const inSchedule = message.attempt - (message.since ?? 0) + 1;
    const next: CallbackMessage = { ...message, attempt: message.attempt + 1 };
    let outcome: DeliveryResult;
    // No retry can help a host the allowlist no longer admits: straight to the dead letters (a redrive resumes it).
    if (inSchedule < this.maxAttempts && result.error !== 'host_not_allowed') {
      const notBefore = this.now().getTime() + this.deps.retryPolicy.delayBefore(inSchedule - 1);
      await queue.schedule({ ...next, notBefore });
      outcome = { kind: 'rescheduled', attempt: next.attempt, notBefore };
    } else {
      await queue.deadLetter({ ...next, deadLettered: true });
      this.deps.count?.('CallbacksDeadLettered');
      log.error('callback dead-lettered: its retries ran out', { host, attempts: state.attempts });
      outcome = { kind: 'dead_lettered' };
    }
    await recordAttempt();
    return outcome;
  }
}

function omitUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
