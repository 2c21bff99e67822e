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
const SEQUENCE_DIGITS = 12;

export const BATCH_FORMAT = 'verifik-erasure-archive-batch/1';
export const DIGEST_FORMAT = 'verifik-erasure-archive-digest/1';
/** KMS's name for ECDSA on P-256 with SHA-256; signatures are DER-encoded, as KMS returns them. */
export const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

export const objectKey = (prefix: string, sequence: number) => `${prefix}${String(sequence).padStart(SEQUENCE_DIGITS, '0')}.json`;

/** The sequence a key names under `prefix`, or undefined for any other object. */
export function sequenceOf(prefix: string, key: string): number | undefined {
  const match = new RegExp(`^${prefix}(\\d{${SEQUENCE_DIGITS}})\\.json$`).exec(key);
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
