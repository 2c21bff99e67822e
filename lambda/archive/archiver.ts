import type { DynamoDBRecord } from 'aws-lambda';
import pMap from 'p-map';
import type { LogSink } from '../log';
import { ArchiveChain, type ChainLink } from './archive-chain';
import {
  BATCH_FORMAT,
  BATCH_PREFIX,
  DIGEST_FORMAT,
  DIGEST_PREFIX,
  INDEX_FORMAT,
  SIGNING_ALGORITHM,
  decodeJson,
  encodeJson,
  type ArchiveBatch,
  type ArchiveIndexEntry,
  type DigestObject,
  type DigestPayload,
  digestPayloadOf,
  indexKey,
  sha256Hex,
} from './archive-format';
import type { ArchiveMetrics, ArchiveSigner, ArchiveStorage } from './ports';
import { erasureIdOf, tamperSignals } from './tamper-signals';

export interface ArchiverDeps {
  storage: ArchiveStorage;
  signer: ArchiveSigner;
  metrics: ArchiveMetrics;
  logger: LogSink;
  now?: () => Date;
}

/**
 * Appends the audit table's changes to the archive as hash-chained batches, raises the tamper
 * signals, and signs the hourly digest. The same code runs on DynamoDB Streams and S3 with KMS in
 * the cloud, and on the local stack's adapter with a folder and a key file.
 */
export class Archiver {
  private readonly batches: ArchiveChain;
  private readonly digests: ArchiveChain;
  private readonly now: () => Date;

  constructor(private readonly deps: ArchiverDeps) {
    this.batches = new ArchiveChain(deps.storage, BATCH_PREFIX);
    this.digests = new ArchiveChain(deps.storage, DIGEST_PREFIX);
    this.now = deps.now ?? (() => new Date());
  }

  /** Archives `records` (in stream order) as one batch; nothing for an empty list. */
  async archive(records: DynamoDBRecord[]): Promise<ChainLink | undefined> {
    if (records.length === 0) return undefined;
    const archivedAt = this.now().toISOString();
    const link = await this.batches.append((previous) =>
      encodeJson({
        format: BATCH_FORMAT,
        sequence: (previous?.sequence ?? 0) + 1,
        previousHash: previous?.hash ?? null,
        archivedAt,
        records,
      } satisfies ArchiveBatch),
    );
    const { logger, metrics } = this.deps;
    const erasureIds = [...new Set(records.map(erasureIdOf).filter((id) => id !== undefined))];
    await this.index(erasureIds, link);
    metrics.count('ArchiveBatches', 1);
    metrics.count('ArchivedRecords', records.length);
    // Raised once the records are safe in the archive: an alarm always has its evidence there.
    for (const record of records) {
      for (const signal of tamperSignals(record)) {
        metrics.count(signal, 1);
        logger.warn('audit trail changed in a way the service never does', {
          signal,
          erasureId: erasureIdOf(record),
          eventName: record.eventName,
          keys: record.dynamodb?.Keys,
          eventID: record.eventID,
          batch: link.sequence,
        });
      }
    }
    logger.info('archived stream records', {
      batch: link.sequence,
      hash: link.hash,
      records: records.length,
      erasureIds,
    });
    return link;
  }

  /**
   * One index entry per erasure the batch touches. Written after the batch, so an entry always names
   * a batch that exists; an invocation that dies in between is retried by the stream and archives
   * its records (and their entries) in a later batch. An entry already there is left as it is.
   */
  private async index(erasureIds: string[], link: ChainLink): Promise<void> {
    await pMap(
      erasureIds,
      async (erasureId) => {
        const bytes = encodeJson({
          format: INDEX_FORMAT,
          erasureId,
          batch: link.sequence,
          batchHash: link.hash,
        } satisfies ArchiveIndexEntry);
        await this.deps.storage.create(indexKey(erasureId, link.sequence), bytes, sha256Hex(bytes));
      },
      { concurrency: 8 },
    );
  }

  /** Signs a digest of the chain as it stands, covering the batches since the previous digest. */
  async digest(): Promise<{ link: ChainLink; payload: DigestPayload }> {
    let payload: DigestPayload | undefined;
    const link = await this.digests.append(async (previous) => {
      // Read after the previous digest: a digest signed meanwhile may cover batches newer than an earlier look.
      const to = this.now().toISOString();
      const head = await this.batches.head();
      const before = previous ? digestPayloadOf(previous.bytes) : undefined;
      const firstBatch = (before?.lastBatch ?? 0) + 1;
      const lastBatch = head?.sequence ?? 0;
      const counts = { batches: 0, records: 0, INSERT: 0, MODIFY: 0, REMOVE: 0 };
      let from = before?.to;
      for (let sequence = firstBatch; sequence <= lastBatch; sequence++) {
        const bytes = await this.deps.storage.read(this.batches.key(sequence));
        if (!bytes) throw new Error(`archive: batch ${sequence} is missing while signing a digest`);
        const batch = decodeJson<ArchiveBatch>(bytes);
        from ??= batch.archivedAt;
        counts.batches += 1;
        counts.records += batch.records.length;
        for (const record of batch.records) if (record.eventName) counts[record.eventName] += 1;
      }
      payload = {
        format: DIGEST_FORMAT,
        sequence: (previous?.sequence ?? 0) + 1,
        previousDigestHash: previous?.hash ?? null,
        from: from ?? to,
        to,
        firstBatch,
        lastBatch,
        lastBatchHash: head?.hash ?? null,
        counts,
        keyId: this.deps.signer.keyId,
        algorithm: SIGNING_ALGORITHM,
      };
      const text = JSON.stringify(payload);
      const signature = await this.deps.signer.sign(new TextEncoder().encode(text));
      return encodeJson({ payload: text, signature: Buffer.from(signature).toString('base64') } satisfies DigestObject);
    });
    this.deps.metrics.count('DigestsSigned', 1);
    this.deps.logger.info('signed archive digest', { digest: link.sequence, lastBatch: payload!.lastBatch, hash: link.hash });
    return { link, payload: payload! };
  }
}
