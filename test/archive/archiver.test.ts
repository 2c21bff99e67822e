import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Archiver } from '../../lambda/archive/archiver';
import { digestPayloadOf, sha256Hex, type ArchiveBatch, type DigestObject } from '../../lambda/archive/archive-format';
import { FolderArchiveStorage } from '../../lambda/archive/folder-archive-storage';
import { KeyFileSigner } from '../../lambda/archive/key-file-signer';
import type { ArchiveMetricName } from '../../lambda/archive/ports';
import { tamperSignals } from '../../lambda/archive/tamper-signals';
import { silentLog } from '../support/scripted-verifik';
import { erasedPerson, personItem, requestItem, streamRecord } from '../support/stream-records';

class CountingMetrics {
  readonly counts: Partial<Record<ArchiveMetricName, number>> = {};
  count(name: ArchiveMetricName, value: number) {
    this.counts[name] = (this.counts[name] ?? 0) + value;
  }
}

let root: string;
let storage: FolderArchiveStorage;
let metrics: CountingMetrics;
let archiver: Archiver;
let keyFile: string;
let clock: Date;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'archiver-test-'));
  storage = new FolderArchiveStorage(path.join(root, 'archive'));
  metrics = new CountingMetrics();
  keyFile = path.join(root, 'archive-key.pem');
  const { signer } = await KeyFileSigner.open(keyFile);
  clock = new Date('2026-11-29T10:00:00.000Z');
  archiver = new Archiver({ storage, signer, metrics, logger: silentLog, now: () => clock });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const batch = async (sequence: number) =>
  JSON.parse(
    (await readFile(path.join(storage.root, `batches/${String(sequence).padStart(12, '0')}.json`), 'utf8')) as string,
  ) as ArchiveBatch;

describe('the archiver', () => {
  it('chains batches: each names the SHA-256 of the bytes of the one before', async () => {
    const first = await archiver.archive([streamRecord('INSERT', { new: requestItem('e1') })]);
    const second = await archiver.archive([streamRecord('INSERT', { new: personItem('e1', 'p1') })]);

    expect([first!.sequence, second!.sequence]).toEqual([1, 2]);
    expect((await batch(1)).previousHash).toBeNull();
    expect((await batch(2)).previousHash).toBe(sha256Hex((await storage.read('batches/000000000001.json'))!));
    expect(second!.hash).toBe(sha256Hex((await storage.read('batches/000000000002.json'))!));
    expect(metrics.counts).toMatchObject({ ArchiveBatches: 2, ArchivedRecords: 2 });
  });

  it('finds the head in the storage, not in memory: a fresh archiver continues the chain', async () => {
    for (let i = 0; i < 5; i++) await archiver.archive([streamRecord('INSERT', { new: requestItem(`e${i}`) })]);
    const { signer } = await KeyFileSigner.open(keyFile);
    const fresh = new Archiver({ storage, signer, metrics, logger: silentLog });

    const next = await fresh.archive([streamRecord('INSERT', { new: requestItem('e9') })]);

    expect(next!.sequence).toBe(6);
    expect((await batch(6)).previousHash).toBe(sha256Hex((await storage.read('batches/000000000005.json'))!));
  });

  it('never forks the chain when two archivers append at once (one per stream shard)', async () => {
    const { signer } = await KeyFileSigner.open(keyFile);
    const other = new Archiver({ storage, signer, metrics, logger: silentLog });
    await archiver.archive([streamRecord('INSERT', { new: requestItem('e0') })]);
    await other.archive([streamRecord('INSERT', { new: requestItem('e1') })]);

    const links = await Promise.all([
      archiver.archive([streamRecord('INSERT', { new: requestItem('a') })]),
      other.archive([streamRecord('INSERT', { new: requestItem('b') })]),
      archiver.archive([streamRecord('INSERT', { new: requestItem('c') })]),
    ]);

    expect(links.map((link) => link!.sequence).sort()).toEqual([3, 4, 5]);
    for (let sequence = 2; sequence <= 5; sequence++) {
      expect((await batch(sequence)).previousHash).toBe(
        sha256Hex((await storage.read(`batches/${String(sequence - 1).padStart(12, '0')}.json`))!),
      );
    }
  });

  it('archives nothing for an empty batch', async () => {
    expect(await archiver.archive([])).toBeUndefined();
    expect(await storage.list('batches/')).toEqual([]);
  });

  it('keeps the stream records as delivered: event, keys, old and new images, who removed', async () => {
    const removal = streamRecord('REMOVE', { old: erasedPerson('e1', 'p1') }, { byTtl: true });
    await archiver.archive([removal]);

    expect((await batch(1)).records).toEqual([removal]);
  });

  it('signs an hourly digest of the chain: last hash, counts, time range, previous digest', async () => {
    await archiver.archive([
      streamRecord('INSERT', { new: requestItem('e1') }),
      streamRecord('INSERT', { new: personItem('e1', 'p1') }),
    ]);
    const head = await archiver.archive([streamRecord('MODIFY', { old: personItem('e1', 'p1'), new: erasedPerson('e1', 'p1') })]);
    clock = new Date('2026-11-29T11:00:00.000Z');
    const first = await archiver.digest();
    await archiver.archive([streamRecord('REMOVE', { old: erasedPerson('e1', 'p1') }, { byTtl: true })]);
    clock = new Date('2026-11-29T12:00:00.000Z');
    const second = await archiver.digest();

    expect(first.payload).toMatchObject({
      sequence: 1,
      previousDigestHash: null,
      from: '2026-11-29T10:00:00.000Z',
      to: '2026-11-29T11:00:00.000Z',
      firstBatch: 1,
      lastBatch: 2,
      lastBatchHash: head!.hash,
      counts: { batches: 2, records: 3, INSERT: 2, MODIFY: 1, REMOVE: 0 },
      algorithm: 'ECDSA_SHA_256',
    });
    expect(second.payload).toMatchObject({
      sequence: 2,
      previousDigestHash: first.link.hash,
      from: '2026-11-29T11:00:00.000Z',
      to: '2026-11-29T12:00:00.000Z',
      firstBatch: 3,
      lastBatch: 3,
      counts: { batches: 1, records: 1, INSERT: 0, MODIFY: 0, REMOVE: 1 },
    });
    const object = JSON.parse(new TextDecoder().decode((await storage.read('digests/000000000002.json'))!)) as DigestObject;
    const publicKey = createPublicKey(await readFile(keyFile.replace(/\.pem$/, '.pub.pem'), 'utf8'));
    expect(verify('sha256', Buffer.from(object.payload), publicKey, Buffer.from(object.signature, 'base64'))).toBe(true);
    expect(digestPayloadOf((await storage.read('digests/000000000002.json'))!)).toEqual(second.payload);
    expect(metrics.counts.DigestsSigned).toBe(2);
  });

  it('signs a digest even in an hour without changes, carrying the last hash forward', async () => {
    const head = await archiver.archive([streamRecord('INSERT', { new: requestItem('e1') })]);
    await archiver.digest();
    const quiet = await archiver.digest();

    expect(quiet.payload).toMatchObject({
      firstBatch: 2,
      lastBatch: 1,
      lastBatchHash: head!.hash,
      counts: { batches: 0, records: 0 },
    });
  });

  describe('raises the alarms, once the records are archived', () => {
    it.each([
      ['an INSERT', streamRecord('INSERT', { new: requestItem('e1') }), []],
      [
        'a person claimed and settled',
        streamRecord('MODIFY', { old: personItem('e1', 'p1'), new: erasedPerson('e1', 'p1') }),
        [],
      ],
      [
        'a retry step advanced',
        streamRecord('MODIFY', { old: requestItem('e1'), new: requestItem('e1', { retryStep: 's2' }) }),
        [],
      ],
      [
        'a redrive reopening a person whose retries ran out',
        streamRecord('MODIFY', {
          old: personItem('e1', 'p1', { outcome: 'failed', exhausted: true, completedAt: '2026-11-30T00:00:00.000Z' }),
          new: personItem('e1', 'p1', { outcome: 'pending', note: 'redriven' }),
        }),
        [],
      ],
      ['a removal by TTL', streamRecord('REMOVE', { old: erasedPerson('e1', 'p1') }, { byTtl: true }), []],
      [
        'an erased person turned failed',
        streamRecord('MODIFY', { old: erasedPerson('e1', 'p1'), new: erasedPerson('e1', 'p1', { outcome: 'failed' }) }),
        ['TerminalOutcomeChanged'],
      ],
      [
        "a terminal person's evidence rewritten",
        streamRecord('MODIFY', {
          old: erasedPerson('e1', 'p1'),
          new: erasedPerson('e1', 'p1', { evidence: { signature: 'forged' } }),
        }),
        ['TerminalOutcomeChanged'],
      ],
      [
        'a failed person turned erased without a redrive',
        streamRecord('MODIFY', {
          old: personItem('e1', 'p1', { outcome: 'failed', vendorStatus: 400 }),
          new: erasedPerson('e1', 'p1'),
        }),
        ['TerminalOutcomeChanged'],
      ],
      [
        'a request rewritten',
        streamRecord('MODIFY', { old: requestItem('e1'), new: requestItem('e1', { personIds: ['p2'] }) }),
        ['RequestChanged'],
      ],
      [
        'an expiresAt moved earlier',
        streamRecord('MODIFY', { old: erasedPerson('e1', 'p1'), new: erasedPerson('e1', 'p1', { expiresAt: 1_800_000_000 }) }),
        ['RetentionShortened'],
      ],
      ['a removal by a user', streamRecord('REMOVE', { old: erasedPerson('e1', 'p1') }), ['NonTtlRemoval']],
    ] as const)('%s', async (_, record, expected) => {
      expect(tamperSignals(record)).toEqual(expected);

      await archiver.archive([record]);

      for (const signal of ['TerminalOutcomeChanged', 'RequestChanged', 'RetentionShortened', 'NonTtlRemoval'] as const) {
        expect([signal, metrics.counts[signal] ?? 0]).toEqual([signal, (expected as readonly string[]).includes(signal) ? 1 : 0]);
      }
    });

    it('does not raise an alarm when the archive write fails (the batch is retried with its alarms)', async () => {
      const failing = new Archiver({
        storage: {
          ...storage,
          exists: async () => false,
          create: async () => Promise.reject(new Error('S3 down')),
          read: storage.read.bind(storage),
          list: storage.list.bind(storage),
        },
        signer: (await KeyFileSigner.open(keyFile)).signer,
        metrics,
        logger: silentLog,
      });

      await expect(failing.archive([streamRecord('REMOVE', { old: erasedPerson('e1', 'p1') })])).rejects.toThrow('S3 down');
      expect(metrics.counts.NonTtlRemoval).toBeUndefined();
    });
  });
});
