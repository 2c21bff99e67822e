/** Where the archive's write-once objects live: an S3 bucket with Object Lock, or a local folder. */
export interface ArchiveStorage {
  /** Writes `body` at `key` unless an object is there already; false when one is (nothing is overwritten). */
  create(key: string, body: Uint8Array, sha256Hex: string): Promise<boolean>;
  /** The object's bytes, or undefined when there is none. */
  read(key: string): Promise<Uint8Array | undefined>;
  exists(key: string): Promise<boolean>;
  /** Every key under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
}

/** The archive key: ECDSA P-256 with SHA-256, DER signatures (KMS in the cloud, a key file locally). */
export interface ArchiveSigner {
  readonly keyId: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export const ARCHIVE_METRIC_NAMES = [
  'ArchivedRecords',
  'ArchiveBatches',
  'DigestsSigned',
  'TerminalOutcomeChanged',
  'RequestChanged',
  'RetentionShortened',
  'NonTtlRemoval',
] as const;
export type ArchiveMetricName = (typeof ARCHIVE_METRIC_NAMES)[number];

export interface ArchiveMetrics {
  count(name: ArchiveMetricName, value: number): void;
}
