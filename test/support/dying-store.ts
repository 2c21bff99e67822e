import type { AuditStore } from '../../lambda/erasure/ports';

/**
 * Wraps an AuditStore so that the invocation using it "dies" at chosen points: the call never
 * completes, as when a Lambda is killed. Nothing after it in that invocation runs.
 */
export class DyingStore implements AuditStore {
  deaths = { afterRecording: 0, beforeOutcomeRecorded: 0 };
  private readonly graves: ((error: Error) => void)[] = [];
  private buried = false;

  constructor(
    private readonly inner: AuditStore,
    private readonly rates: { afterRecording: number; beforeOutcomeRecorded: number },
    private readonly random: () => number,
  ) {}

  async createRequest(...args: Parameters<AuditStore['createRequest']>): ReturnType<AuditStore['createRequest']> {
    const result = await this.inner.createRequest(...args);
    if (this.random() < this.rates.afterRecording) {
      this.deaths.afterRecording += 1;
      return this.die();
    }
    return result;
  }

  claimPerson(...args: Parameters<AuditStore['claimPerson']>) {
    return this.inner.claimPerson(...args);
  }
  releaseHold(...args: Parameters<AuditStore['releaseHold']>) {
    return this.inner.releaseHold(...args);
  }

  settlePerson(...args: Parameters<AuditStore['settlePerson']>): ReturnType<AuditStore['settlePerson']> {
    // Verifik has answered; the process dies before the answer reaches the audit trail.
    if (this.random() < this.rates.beforeOutcomeRecorded) {
      this.deaths.beforeOutcomeRecorded += 1;
      return this.die();
    }
    return this.inner.settlePerson(...args);
  }

  /**
   * Ends the dead invocations for teardown: their calls reject, so what awaits them settles (the
   * queue and the stack are closed by then, so nothing new is started).
   */
  bury(): void {
    this.buried = true;
    for (const reject of this.graves.splice(0)) reject(new Error('the invocation died'));
  }

  private die<T>(): Promise<T> {
    if (this.buried) return Promise.reject(new Error('the invocation died'));
    return new Promise<T>((_resolve, reject) => this.graves.push(reject));
  }

  advanceRetryStep(...args: Parameters<AuditStore['advanceRetryStep']>) {
    return this.inner.advanceRetryStep(...args);
  }
  reopenPerson(...args: Parameters<AuditStore['reopenPerson']>) {
    return this.inner.reopenPerson(...args);
  }
  getErasure(...args: Parameters<AuditStore['getErasure']>) {
    return this.inner.getErasure(...args);
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
}

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
