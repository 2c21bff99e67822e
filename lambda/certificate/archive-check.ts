import type { KeyObject } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ArchiveLocator } from '../archive/archive-locator';
import { BATCH_PREFIX, decodeJson, digestPayloadOf, objectKey, sha256Hex, type ArchiveBatch } from '../archive/archive-format';
import type { ArchiveStorage } from '../archive/ports';
import { digestSignatureHolds } from '../archive/verify-archive';
import { certifiedFacts, type CertificateModel } from './certificate-model';
import { archivedFacts } from './certificate-issuer';

export interface ArchiveCheckReport {
  /** What does not hold, one sentence each; empty: the certificate's archive link holds. */
  problems: string[];
  /** What was checked and held. */
  checked: string[];
}

/**
 * Checks, offline, the archive link of a certificate (whose own signature is checked elsewhere)
 * against a copy of the archive: the batch and the digest it names are there with the SHA-256 it
 * states, the batches after it link up to the one the digest signed, the digest's signature holds
 * (given the archive key's public half), and the archive up to that batch holds the erasure exactly
 * as the certificate states it.
 */
export async function checkCertificateArchive(
  certificate: CertificateModel,
  storage: ArchiveStorage,
  archiveKey?: KeyObject,
): Promise<ArchiveCheckReport> {
  const problems: string[] = [];
  const checked: string[] = [];
  const { archive } = certificate;
  const { batch, digest } = archive;
  if (archive.state !== 'covered' || !batch || !digest) {
    return { problems: [`the certificate names no archive digest (${archive.state}): ${archive.note}`], checked };
  }
  const read = async (what: string, key: string, sha256: string) => {
    const bytes = await storage.read(key);
    if (!bytes) problems.push(`${what} ${key} is not in the archive`);
    else if (sha256Hex(bytes) !== sha256) problems.push(`${what} ${key} has changed: its SHA-256 is not the one certified`);
    else {
      checked.push(`${what} ${key} is there with the certified SHA-256`);
      return bytes;
    }
    return undefined;
  };
  const batchBytes = await read('batch', batch.key, batch.sha256);
  const digestBytes = await read('digest', digest.key, digest.sha256);
  if (!batchBytes || !digestBytes) return { problems, checked };

  const payload = digestPayloadOf(digestBytes);
  if (archiveKey === undefined)
    checked.push('digest signature not checked here (no archive key given): npm run verify-archive checks it');
  else if (digestSignatureHolds(digestBytes, archiveKey)) checked.push(`digest ${digest.sequence} is signed by the archive key`);
  else problems.push(`digest ${digest.key}: its signature does not hold with the archive key given`);

  // The chain from the certified batch to the one the digest signed: each batch names the one before.
  let previousHash = batch.sha256;
  let linked = payload.lastBatch >= batch.sequence;
  if (!linked)
    problems.push(`digest ${digest.sequence} covers batches up to ${payload.lastBatch} only, not batch ${batch.sequence}`);
  for (let sequence = batch.sequence + 1; linked && sequence <= payload.lastBatch; sequence++) {
    const key = objectKey(BATCH_PREFIX, sequence);
    const bytes = await storage.read(key);
    if (!bytes || decodeJson<ArchiveBatch>(bytes).previousHash !== previousHash) {
      problems.push(
        `${key} ${bytes ? 'does not name the batch before it' : 'is missing'}: the chain from batch ${batch.sequence} to the digest is broken`,
      );
      linked = false;
    } else previousHash = sha256Hex(bytes);
  }
  if (linked && previousHash !== payload.lastBatchHash) {
    problems.push(`digest ${digest.sequence} signed another hash for batch ${payload.lastBatch} than the chain has`);
  } else if (linked)
    checked.push(`batches ${batch.sequence}-${payload.lastBatch} link up to the hash digest ${digest.sequence} signed`);

  const { items } = await new ArchiveLocator(storage).archivedItems(certificate.erasure.erasureId, batch.sequence);
  const archived = archivedFacts(items);
  // Compared as JSON: the certificate was read from a file.
  if (archived && isDeepStrictEqual(JSON.parse(JSON.stringify(archived)), certifiedFacts(certificate))) {
    checked.push(
      `the archive up to batch ${batch.sequence} holds the erasure and its ${certificate.persons.length} person(s) as certified`,
    );
  } else {
    problems.push(
      `the archive up to batch ${batch.sequence} does not hold erasure ${certificate.erasure.erasureId} as the certificate states it`,
    );
  }
  return { problems, checked };
}
