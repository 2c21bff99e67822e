import { objectKey, sha256Hex } from './archive-format';
import type { ArchiveStorage } from './ports';

export interface ChainLink {
  sequence: number;
  hash: string;
  bytes: Uint8Array;
}

/** Another writer kept taking the next place in the chain. */
export class ChainContentionError extends Error {
  constructor(prefix: string, attempts: number) {
    super(`archive chain ${prefix}: the next object was taken by another writer ${attempts} times in a row`);
    this.name = 'ChainContentionError';
  }
}

const MAX_ATTEMPTS = 10;

/**
 * A chain of write-once objects numbered 1, 2, 3... under one prefix. The head is found in the
 * storage itself, never trusted from memory: objects are only ever created in order (object n + 1
 * after n exists), so the numbers in use are exactly 1..head, and a galloping search finds the head
 * in about 2·log2(head) existence checks. The last head seen is kept as a hint: a conditional create
 * that fails (another invocation took that number) drops it and searches again, so concurrent
 * writers (one per stream shard, the hourly digest) can never fork the chain.
 */
export class ArchiveChain {
  private hint: ChainLink | undefined;

  constructor(
    private readonly storage: ArchiveStorage,
    readonly prefix: string,
  ) {}

  key(sequence: number): string {
    return objectKey(this.prefix, sequence);
  }

  /** The last object of the chain, or undefined when the chain is empty. */
  async head(): Promise<ChainLink | undefined> {
    let known = this.hint?.sequence ?? 0;
    let step = 1;
    while (await this.storage.exists(this.key(known + step))) {
      known += step;
      step *= 2;
    }
    // known exists (or is 0), known + step does not: bisect between them.
    let absent = known + step;
    while (absent - known > 1) {
      const middle = Math.floor((known + absent) / 2);
      if (await this.storage.exists(this.key(middle))) known = middle;
      else absent = middle;
    }
    if (known === 0) return undefined;
    if (this.hint?.sequence === known) return this.hint;
    const bytes = await this.storage.read(this.key(known));
    if (!bytes) throw new Error(`archive chain ${this.prefix}: ${this.key(known)} vanished while reading the head`);
    return this.remember({ sequence: known, hash: sha256Hex(bytes), bytes });
  }

  /**
   * Appends the object `build` makes from the current head (undefined: the chain is empty); builds
   * again on a newer head when another writer got there first.
   */
  async append(build: (previous: ChainLink | undefined) => Promise<Uint8Array> | Uint8Array): Promise<ChainLink> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const previous = await this.head();
      const sequence = (previous?.sequence ?? 0) + 1;
      const bytes = await build(previous);
      const hash = sha256Hex(bytes);
      if (await this.storage.create(this.key(sequence), bytes, hash)) return this.remember({ sequence, hash, bytes });
      this.hint = undefined;
    }
    throw new ChainContentionError(this.prefix, MAX_ATTEMPTS);
  }

  private remember(link: ChainLink): ChainLink {
    this.hint = link;
    return link;
  }
}
