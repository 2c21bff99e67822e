import { verify, type KeyObject } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { DynamoDBRecord } from 'aws-lambda';
import {
  BATCH_PREFIX,
  DIGEST_PREFIX,
  INDEX_PREFIX,
  decodeJson,
  digestPayloadOf,
  objectKey,
  sequenceOf,
  indexKey,
  sha256Hex,
  type ArchiveBatch,
  type ArchiveIndexEntry,
  type DigestObject,
  type DigestPayload,
} from './archive-format';
import type { ArchiveStorage } from './ports';
import { erasureIdOf, tamperSignals } from './tamper-signals';

export type FindingKind =
  | 'missing-batch'
  | 'broken-link'
  | 'unreadable-object'
  | 'missing-digest'
  | 'bad-signature'
  | 'digest-mismatch'
  | 'changed-item'
  | 'missing-item'
  | 'unseen-item'
  | 'suspicious-change'
  | 'bad-index';

export interface Finding {
  kind: FindingKind;
  /** What and where, for a person to act on. */
  detail: string;
}

/** An item as DynamoDB returns it (attribute values, `{S: "…"}`), as Scan gives it. */
export type TableItem = Record<string, unknown>;

export interface VerifyInput {
  storage: ArchiveStorage;
  /** The archive key's public half (PEM or DER SubjectPublicKeyInfo, as KMS's GetPublicKey returns). */
  publicKey: KeyObject;
  /** The audit table's items, to compare with the archive; omitted: the archive alone is checked. */
  tableItems?: Iterable<TableItem> | AsyncIterable<TableItem>;
  /**
   * The first batch to expect: after the retention, S3's lifecycle removes the oldest batches and
   * digests (as TTL removes the items they describe). Earlier batches, and the digests that cover
   * only them, are then not looked for. @default 1
   */
  fromBatch?: number;
  /** The table's key attributes. @default ['pk', 'sk'] */
  keyAttributes?: readonly string[];
}

export interface VerifyReport {
  findings: Finding[];
  /** Facts that are not faults (batches newer than the last digest). */
  notes: string[];
  batches: number;
  records: number;
  digests: number;
  items?: number;
}

/**
 * Checks an archive offline: the batch chain (no gap, each batch naming the hash of the one before),
 * the digests (no gap, each naming the one before, each signature valid with the public key, each
 * covering the chain's batches with the right hash and counts), and, given the table's items, that
 * every item's current content is its latest archived image, that nothing the archive holds vanished
 * without a removal record, and that no item escaped the archive. The archived changes the service
 * never makes (the alarms' signals) are findings too. Returns every finding; it never stops at the first.
 */
export async function verifyArchive(input: VerifyInput): Promise<VerifyReport> {
  const findings: Finding[] = [];
  const notes: string[] = [];
  const find = (kind: FindingKind, detail: string) => findings.push({ kind, detail });

  const fromBatch = input.fromBatch ?? 1;
  const batches = await readChain(input.storage, BATCH_PREFIX, 'missing-batch', find, fromBatch);
  const lastBatch = batches.at(-1)?.sequence ?? 0;
  const hashes = new Map<number, string>();
  const latest = new Map<string, DynamoDBRecord>();
  const keyAttributes = input.keyAttributes ?? ['pk', 'sk'];
  const keyOf = (keys: Record<string, unknown> | undefined) => JSON.stringify(keyAttributes.map((name) => keys?.[name] ?? null));
  let records = 0;
  const eventCounts = new Map<number, { records: number; INSERT: number; MODIFY: number; REMOVE: number }>();
  const erasuresIn = new Map<number, Set<string | undefined>>();
  for (const { sequence, key, bytes } of batches) {
    hashes.set(sequence, sha256Hex(bytes));
    let batch: ArchiveBatch;
    try {
      batch = decodeJson<ArchiveBatch>(bytes);
    } catch {
      find('unreadable-object', `${key} is not JSON`);
      continue;
    }
    const previousHash = hashes.get(sequence - 1);
    if (batch.sequence !== sequence) find('broken-link', `${key} says it is batch ${batch.sequence}`);
    if (sequence === 1 && batch.previousHash !== null) find('broken-link', `${key} names a batch before the first`);
    if (previousHash !== undefined && batch.previousHash !== previousHash) {
      find('broken-link', `${key} names ${batch.previousHash} as the batch before, whose hash is ${previousHash}`);
    }
    const counts = { records: 0, INSERT: 0, MODIFY: 0, REMOVE: 0 };
    erasuresIn.set(sequence, new Set((batch.records ?? []).map(erasureIdOf)));
    for (const record of batch.records ?? []) {
      records += 1;
      counts.records += 1;
      if (record.eventName) counts[record.eventName] += 1;
      latest.set(keyOf(record.dynamodb?.Keys), record);
      for (const signal of tamperSignals(record)) {
        find('suspicious-change', `${key}: ${signal} on ${describe(keyOf(record.dynamodb?.Keys))} (record ${record.eventID})`);
      }
    }
    eventCounts.set(sequence, counts);
  }

  // With expired batches, the digests that covered them may have expired too: the chain starts at the first one kept.
  const digests = await readChain(input.storage, DIGEST_PREFIX, 'missing-digest', find, fromBatch > 1 ? undefined : 1);
  let previousDigestHash: string | undefined;
  let previousLastBatch: number | undefined;
  let coveredUpTo = 0;
  for (const { sequence, key, bytes } of digests) {
    const hash = sha256Hex(bytes);
    let payload: DigestPayload;
    try {
      if (!digestSignatureHolds(bytes, input.publicKey)) {
        find('bad-signature', `${key}: the signature does not match its payload and the public key`);
      }
      payload = digestPayloadOf(bytes);
    } catch {
      find('unreadable-object', `${key} is not a digest`);
      previousDigestHash = hash;
      continue;
    }
    if (payload.sequence !== sequence) find('broken-link', `${key} says it is digest ${payload.sequence}`);
    if (previousDigestHash !== undefined && payload.previousDigestHash !== previousDigestHash) {
      find('broken-link', `${key} names ${payload.previousDigestHash} as the digest before, whose hash is ${previousDigestHash}`);
    }
    if (previousLastBatch !== undefined && payload.firstBatch !== previousLastBatch + 1) {
      find('digest-mismatch', `${key} starts at batch ${payload.firstBatch}, the digest before ended at ${previousLastBatch}`);
    }
    const headHash = payload.lastBatch === 0 ? null : hashes.get(payload.lastBatch);
    if (payload.lastBatch < fromBatch) {
      // It covers expired batches only.
    } else if (headHash === undefined) {
      // Reported as a missing batch already.
    } else if (payload.lastBatchHash !== headHash) {
      find('digest-mismatch', `${key} signed ${payload.lastBatchHash} for batch ${payload.lastBatch}, whose hash is ${headHash}`);
    } else {
      const counted = { batches: 0, records: 0, INSERT: 0, MODIFY: 0, REMOVE: 0 };
      for (let batch = payload.firstBatch; batch <= payload.lastBatch; batch++) {
        const counts = eventCounts.get(batch);
        if (!counts) continue;
        counted.batches += 1;
        for (const name of ['records', 'INSERT', 'MODIFY', 'REMOVE'] as const) counted[name] += counts[name];
      }
      if (payload.firstBatch >= fromBatch && !isDeepStrictEqual(counted, payload.counts)) {
        find(
          'digest-mismatch',
          `${key} counted ${JSON.stringify(payload.counts)}; batches ${payload.firstBatch}-${payload.lastBatch} hold ${JSON.stringify(counted)}`,
        );
      }
    }
    coveredUpTo = Math.max(coveredUpTo, payload.lastBatch);
    previousDigestHash = hash;
    previousLastBatch = payload.lastBatch;
  }
  if (lastBatch > coveredUpTo) {
    notes.push(`batches ${coveredUpTo + 1}-${lastBatch} are not yet covered by a signed digest (one is signed every hour)`);
  }

  // The index only says where to look, but an entry must be borne out by the batch it names.
  for (const key of await input.storage.list(INDEX_PREFIX)) {
    const bytes = await input.storage.read(key);
    let entry: ArchiveIndexEntry | undefined;
    try {
      entry = bytes && decodeJson<ArchiveIndexEntry>(bytes);
    } catch {
      // Reported below: it names no batch.
    }
    if (!entry || typeof entry.erasureId !== 'string' || indexKey(entry.erasureId, entry.batch) !== key) {
      find('bad-index', `${key} is not an index entry the archiver writes`);
    } else if (entry.batch < fromBatch || (!hashes.has(entry.batch) && entry.batch <= lastBatch)) {
      // Its batch expired, or is missing (reported as such).
    } else if (hashes.get(entry.batch) !== entry.batchHash) {
      find('bad-index', `${key} names batch ${entry.batch} with a hash that batch does not have`);
    } else if (!erasuresIn.get(entry.batch)?.has(entry.erasureId)) {
      find('bad-index', `${key}: batch ${entry.batch} holds no change to erasure ${entry.erasureId}`);
    }
  }

  let items: number | undefined;
  if (input.tableItems) {
    items = 0;
    const seen = new Set<string>();
    for await (const item of input.tableItems) {
      items += 1;
      const key = keyOf(item);
      seen.add(key);
      const record = latest.get(key);
      if (!record) find('unseen-item', `${describe(key)} is in the table but the archive never saw it`);
      else if (record.eventName === 'REMOVE')
        find('changed-item', `${describe(key)} is in the table, but its last archived record removed it`);
      else if (!isDeepStrictEqual(record.dynamodb?.NewImage, item)) {
        find('changed-item', `${describe(key)} differs from its last archived image (record ${record.eventID})`);
      }
    }
    for (const [key, record] of latest) {
      if (!seen.has(key) && record.eventName !== 'REMOVE') {
        find('missing-item', `${describe(key)} is gone from the table without an archived removal`);
      }
    }
  }
  return { findings, notes, batches: batches.length, records, digests: digests.length, items };
}

/** Whether a digest object's signature (base64 DER) holds for its payload's exact text and the archive's public key. */
export function digestSignatureHolds(bytes: Uint8Array, publicKey: KeyObject): boolean {
  const object = decodeJson<DigestObject>(bytes);
  return verify('sha256', Buffer.from(object.payload, 'utf8'), publicKey, Buffer.from(object.signature, 'base64'));
}

/** The objects of one chain in order, each gap and each stray object reported. */
async function readChain(
  storage: ArchiveStorage,
  prefix: string,
  missing: FindingKind,
  find: (kind: FindingKind, detail: string) => void,
  /** The first number expected; undefined: whichever comes first. */
  first: number | undefined,
): Promise<{ sequence: number; key: string; bytes: Uint8Array }[]> {
  const chain: { sequence: number; key: string; bytes: Uint8Array }[] = [];
  let expected = first;
  for (const key of await storage.list(prefix)) {
    const sequence = sequenceOf(prefix, key);
    if (sequence === undefined) {
      find('unreadable-object', `${key} is not an object the archiver writes`);
      continue;
    }
    if (first !== undefined && sequence < first) continue;
    expected ??= sequence;
    for (; expected < sequence; expected++) find(missing, `${objectKey(prefix, expected)} is missing`);
    expected = sequence + 1;
    const bytes = await storage.read(key);
    if (bytes) chain.push({ sequence, key, bytes });
  }
  return chain;
}

/** `["ERASURE#x","PERSON#y"]` → `item ERASURE#x / PERSON#y`. */
function describe(key: string): string {
  const parts = (JSON.parse(key) as ({ S?: string } | null)[]).map((value) => value?.S ?? JSON.stringify(value));
  return `item ${parts.join(' / ')}`;
}
