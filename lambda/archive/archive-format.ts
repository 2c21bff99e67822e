import { createHash } from 'node:crypto';
import type { DynamoDBRecord } from 'aws-lambda';

/**
 * The archive's objects, all write-once: `batches/000000000001.json`, `batches/000000000002.json`...
 * (stream records, each batch naming the SHA-256 of the one before) and `digests/000000000001.json`...
 * (each hour's signed summary of the chain, each naming the SHA-256 of the digest before). A hash is
 * always the SHA-256 of the object's exact bytes, so nothing depends on how JSON is re-serialized.
 */
export const BATCH_PREFIX = 'batches/';
export const DIGEST_PREFIX = 'digests/';
/**
 * `index/<erasure id>/000000000007.json`: batch 7 holds a change to that erasure. Written by the
 * archiver after the batch, write-once like the rest; it lets a certificate find the batches (and so
 * the digest) that hold an erasure without reading the whole archive. Not evidence itself: the
 * batch it names is, and `verify` checks that every entry is borne out by its batch.
 */
export const INDEX_PREFIX = 'index/';
const SEQUENCE_DIGITS = 12;
const SEQUENCE_FILE = new RegExp(`^(\\d{${SEQUENCE_DIGITS}})\\.json$`);

export const BATCH_FORMAT = 'verifik-erasure-archive-batch/1';
export const INDEX_FORMAT = 'verifik-erasure-archive-index/1';
export const DIGEST_FORMAT = 'verifik-erasure-archive-digest/1';
/** KMS's name for ECDSA on P-256 with SHA-256; signatures are DER-encoded, as KMS returns them. */
export const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

export const objectKey = (prefix: string, sequence: number) => `${prefix}${String(sequence).padStart(SEQUENCE_DIGITS, '0')}.json`;

/**
 * Where the index lists the batches holding changes to one erasure: its id percent-encoded, dots
 * included, so that no id (`.`, `..` are valid ones) can name another folder.
 */
export const indexPrefix = (erasureId: string) => `${INDEX_PREFIX}${encodeURIComponent(erasureId).replaceAll('.', '%2E')}/`;
export const indexKey = (erasureId: string, batch: number) => objectKey(indexPrefix(erasureId), batch);

/** The sequence a key names under `prefix`, or undefined for any other object. */
export function sequenceOf(prefix: string, key: string): number | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const match = SEQUENCE_FILE.exec(key.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

export const sha256Hex = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** One batch: the stream records of one archiver invocation, as DynamoDB Streams delivered them. */
export interface ArchiveBatch {
  format: typeof BATCH_FORMAT;
  sequence: number;
  /** SHA-256 (hex) of the previous batch's bytes; null for the first. */
  previousHash: string | null;
  archivedAt: string;
  records: DynamoDBRecord[];
}

/** One index entry: `batch` (whose bytes hash to `batchHash`) holds a change to `erasureId`. */
export interface ArchiveIndexEntry {
  format: typeof INDEX_FORMAT;
  erasureId: string;
  batch: number;
  batchHash: string;
}

/** What the archive key signs every hour. */
export interface DigestPayload {
  format: typeof DIGEST_FORMAT;
  sequence: number;
  /** SHA-256 (hex) of the previous digest object's bytes; null for the first. */
  previousDigestHash: string | null;
  /** The period it covers: from the previous digest's `to` (or the first batch) to its signing. */
  from: string;
  to: string;
  /** Batches first archived in the period (none: `firstBatch` > `lastBatch`). */
  firstBatch: number;
  /** The chain's head when signed, and its hash: everything up to it is covered. */
  lastBatch: number;
  lastBatchHash: string | null;
  counts: { batches: number; records: number; INSERT: number; MODIFY: number; REMOVE: number };
  keyId: string;
  algorithm: typeof SIGNING_ALGORITHM;
}

/** The digest object: the payload's exact text and its signature (base64 DER) over those UTF-8 bytes. */
export interface DigestObject {
  payload: string;
  signature: string;
}

export const encodeJson = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value)}\n`);
export const decodeJson = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;

/** The signed payload of a digest object's bytes (not checked here: the verifier checks the signature). */
export const digestPayloadOf = (bytes: Uint8Array): DigestPayload =>
  JSON.parse(decodeJson<DigestObject>(bytes).payload) as DigestPayload;
