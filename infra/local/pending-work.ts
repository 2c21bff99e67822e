/**
 * Work the local stack started and nobody awaits any more (a request whose client went away, a
 * worker invocation past its visibility timeout). In Lambda such work dies with its sandbox; here it
 * runs on, so it has to end before the engine it writes to is closed.
 */
export class PendingWork {
  private readonly running = new Set<Promise<unknown>>();

  /** Remembers `work` until it settles, and returns it. */
  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return work;
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves once everything tracked so far, and anything it started meanwhile, has settled. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
