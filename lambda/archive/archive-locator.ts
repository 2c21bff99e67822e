import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import pMap from 'p-map';
import { ArchiveChain } from './archive-chain';
import {
  BATCH_PREFIX,
  DIGEST_PREFIX,
  decodeJson,
  digestPayloadOf,
  indexPrefix,
  objectKey,
  sequenceOf,
  sha256Hex,
  type ArchiveBatch,
} from './archive-format';
import type { ArchiveStorage } from './ports';
import { erasureIdOf } from './tamper-signals';

/** An archive object a certificate names: where it is and the SHA-256 (hex) of its exact bytes. */
export interface ArchiveObjectRef {
  sequence: number;
  key: string;
  sha256: string;
}

/** A signed digest: `signedAt` is the end of the period it covers (its payload's `to`). */
export interface ArchiveDigestRef extends ArchiveObjectRef {
  signedAt: string;
}

/** An audit item as the archive holds it (unmarshalled: plain values). */
export type ArchivedItem = Record<string, unknown>;

export type ArchiveCoverage =
  /** `batch` holds the erasure as it stands, and `digest` (signed) covers the chain up to it or later. */
  | { state: 'covered'; batch: ArchiveObjectRef; digest: ArchiveDigestRef }
  /** `batch` holds it, but no digest covers that batch yet (one is signed every hour). */
  | { state: 'awaiting-digest'; batch: ArchiveObjectRef }
  /** The archive does not (yet) hold the erasure as it stands: the archiver trails the table. */
  | { state: 'not-archived' };

/** How many batches of one erasure are read at once. */
const READ_CONCURRENCY = 4;

/**
 * Finds where the archive holds an erasure: the batches the index lists for it, read in chain order
 * to rebuild each of its items' latest archived image, and the first signed digest whose chain
 * reaches the last of those batches. Whether those images state what the table does is the caller's
 * question (`holds`): only then is the erasure covered. Read-only; never trusts the index beyond
 * where to look (the batch's own bytes are what is hashed and named).
 */
export class ArchiveLocator {
  private readonly digests: ArchiveChain;

  constructor(private readonly storage: ArchiveStorage) {
    this.digests = new ArchiveChain(storage, DIGEST_PREFIX);
  }

  async locate(erasureId: string, holds: (items: ArchivedItem[]) => boolean): Promise<ArchiveCoverage> {
    const { items, last } = await this.archivedItems(erasureId);
    if (!last || !holds(items)) return { state: 'not-archived' };
    const digest = await this.firstDigestCovering(last.sequence);
    return digest ? { state: 'covered', batch: last, digest } : { state: 'awaiting-digest', batch: last };
  }

  /**
   * The latest archived image of each of the erasure's items (removed ones left out), from the
   * batches the index lists for it up to `upTo`, and the last of those batches.
   */
  async archivedItems(erasureId: string, upTo = Infinity): Promise<{ items: ArchivedItem[]; last?: ArchiveObjectRef }> {
    const prefix = indexPrefix(erasureId);
    const sequences = (await this.storage.list(prefix))
      .map((key) => sequenceOf(prefix, key))
      .filter((sequence) => sequence !== undefined && sequence <= upTo)
      .sort((a, b) => a! - b!) as number[];
    const batches = await pMap(
      sequences,
      async (sequence) => {
        const key = objectKey(BATCH_PREFIX, sequence);
        const bytes = await this.storage.read(key);
        return bytes && { ref: { sequence, key, sha256: sha256Hex(bytes) }, batch: decodeJson<ArchiveBatch>(bytes) };
      },
      { concurrency: READ_CONCURRENCY },
    );
    const latest = new Map<string, ArchivedItem | undefined>();
    let last: ArchiveObjectRef | undefined;
    for (const read of batches) {
      if (!read) continue;
      for (const record of read.batch.records) {
        if (erasureIdOf(record) !== erasureId) continue;
        const image = record.eventName === 'REMOVE' ? undefined : record.dynamodb?.NewImage;
        latest.set(JSON.stringify(record.dynamodb?.Keys), image && unmarshall(image as Record<string, AttributeValue>));
      }
      last = read.ref;
    }
    return { items: [...latest.values()].filter((item) => item !== undefined), last };
  }

  /** The first digest whose chain reaches `batch` (digests cover ever longer chains: a binary search). */
  private async firstDigestCovering(batch: number): Promise<ArchiveDigestRef | undefined> {
    const head = await this.digests.head();
    if (!head || digestPayloadOf(head.bytes).lastBatch < batch) return undefined;
    let found = { sequence: head.sequence, bytes: head.bytes };
    let low = 1;
    let high = head.sequence - 1;
    while (low <= high) {
      const middle = Math.floor((low + high) / 2);
      const bytes = await this.storage.read(this.digests.key(middle));
      // A digest removed by the lifecycle (past the retention) covered older batches only.
      if (bytes && digestPayloadOf(bytes).lastBatch >= batch) {
        found = { sequence: middle, bytes };
        high = middle - 1;
      } else low = middle + 1;
    }
    return {
      sequence: found.sequence,
      key: this.digests.key(found.sequence),
      sha256: sha256Hex(found.bytes),
      signedAt: digestPayloadOf(found.bytes).to,
    };
  }
}
