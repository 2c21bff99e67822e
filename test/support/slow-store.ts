import type { AuditStore } from '../../lambda/erasure/ports';

/**
 * Wraps an AuditStore so that a share of its calls answer late, as a throttled or distant DynamoDB
 * does. The call still happens: only its answer is delayed.
 */
export class SlowStore implements AuditStore {
  slowCalls = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly inner: AuditStore,
    private readonly fault: { rate: number; minMs: number; maxMs: number },
    private readonly random: () => number,
  ) {}

  createRequest(...args: Parameters<AuditStore['createRequest']>) {
    return this.maybeSlow(() => this.inner.createRequest(...args));
  }
  claimPerson(...args: Parameters<AuditStore['claimPerson']>) {
    return this.maybeSlow(() => this.inner.claimPerson(...args));
  }
  releaseHold(...args: Parameters<AuditStore['releaseHold']>) {
    return this.maybeSlow(() => this.inner.releaseHold(...args));
  }
  settlePerson(...args: Parameters<AuditStore['settlePerson']>) {
    return this.maybeSlow(() => this.inner.settlePerson(...args));
  }
  advanceRetryStep(...args: Parameters<AuditStore['advanceRetryStep']>) {
    return this.maybeSlow(() => this.inner.advanceRetryStep(...args));
  }
  reopenPerson(...args: Parameters<AuditStore['reopenPerson']>) {
    return this.maybeSlow(() => this.inner.reopenPerson(...args));
  }
  getErasure(...args: Parameters<AuditStore['getErasure']>) {
    return this.maybeSlow(() => this.inner.getErasure(...args));
  }
  erasuresForPerson(...args: Parameters<AuditStore['erasuresForPerson']>) {
    return this.inner.erasuresForPerson(...args);
  }
  requestPagesReceivedBetween(...args: Parameters<AuditStore['requestPagesReceivedBetween']>) {
    return this.inner.requestPagesReceivedBetween(...args);
  }

  requestsReceivedBetween(...args: Parameters<AuditStore['requestsReceivedBetween']>) {
    return this.inner.requestsReceivedBetween(...args);
  }
  markCallbackEnqueued(...args: Parameters<AuditStore['markCallbackEnqueued']>) {
    return this.inner.markCallbackEnqueued(...args);
  }

  extendDueDate(...args: Parameters<AuditStore['extendDueDate']>) {
    return this.inner.extendDueDate(...args);
  }

  private async maybeSlow<T>(call: () => Promise<T>): Promise<T> {
    if (this.random() >= this.fault.rate) return call();
    this.slowCalls += 1;
    const result = await call();
    const delay = this.fault.minMs + this.random() * (this.fault.maxMs - this.fault.minMs);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, delay);
      this.timers.add(timer);
    });
    return result;
  }
}
