import type {
  DeleteOptions,
  PresenceAnswer,
  RetryMessage,
  RetryQueue,
  VendorAnswer,
  VerifikPort,
} from '../../lambda/erasure/ports';

/** A VerifikPort that answers from a script, for domain unit tests. `calls` are the DELETEs, `gets` the GETs. */
export class ScriptedVerifik implements VerifikPort {
  readonly calls: string[] = [];
  readonly gets: string[] = [];
  /** How the GET after a delete is answered (call: the how-manieth GET for this person); absent by default. */
  presence: (personId: string, call: number) => PresenceAnswer = () => absent();
  inFlight = 0;
  maxInFlight = 0;
  onCall: ((personId: string) => void | Promise<void>) | undefined;

  constructor(private readonly answer: (personId: string, call: number) => VendorAnswer = () => deleted()) {}

  async deletePerson(personId: string, _options: DeleteOptions): Promise<VendorAnswer> {
    this.calls.push(personId);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.onCall?.(personId);
      await new Promise((resolve) => setImmediate(resolve));
      return this.answer(personId, this.calls.filter((id) => id === personId).length);
    } finally {
      this.inFlight -= 1;
    }
  }

  async getPerson(personId: string, _options: DeleteOptions): Promise<PresenceAnswer> {
    this.gets.push(personId);
    await new Promise((resolve) => setImmediate(resolve));
    return this.presence(personId, this.gets.filter((id) => id === personId).length);
  }
}

export const absent = (): PresenceAnswer => ({ kind: 'absent', status: 404, attempts: 1 });
export const present = (): PresenceAnswer => ({ kind: 'present', status: 200, attempts: 1 });
export const unclear = (status = 503): PresenceAnswer => ({
  kind: 'unclear',
  status,
  attempts: 2,
  message: `Verifik answered ${status}`,
});

export const deleted = (): VendorAnswer => ({
  kind: 'deleted',
  status: 200,
  attempts: 1,
  evidence: { signature: 'Certified by Verifik.co' },
});
export const notFound = (uncertain = false): VendorAnswer => ({ kind: 'not_found', status: 404, attempts: 1, uncertain });
export const unauthorized = (): VendorAnswer => ({
  kind: 'unauthorized',
  status: 401,
  attempts: 1,
  message: 'Verifik answered 401',
});
export const transient = (retryAfterMs?: number): VendorAnswer => ({
  kind: 'transient',
  status: 503,
  attempts: 3,
  message: 'Verifik answered 503',
  retryAfterMs,
  uncertain: true,
});
export const rejected = (): VendorAnswer => ({ kind: 'rejected', status: 400, attempts: 1, message: 'Verifik answered 400' });

export const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

/** A RetryQueue that only records, for domain unit tests. */
export class RecordingRetryQueue implements RetryQueue {
  readonly scheduled: RetryMessage[] = [];
  readonly deadLetters: RetryMessage[] = [];
  failing = false;
  async schedule(message: RetryMessage) {
    if (this.failing) throw new Error('queue down');
    this.scheduled.push(message);
  }
  async deadLetter(message: RetryMessage) {
    this.deadLetters.push(message);
  }
}

/** Counts metrics by name. */
export class RecordingMetrics {
  readonly counts: Record<string, number> = {};
  readonly pendingAges: number[] = [];
  pendingAge(seconds: number) {
    this.pendingAges.push(seconds);
  }
  count(name: string, value = 1) {
    this.counts[name] = (this.counts[name] ?? 0) + value;
  }
}
