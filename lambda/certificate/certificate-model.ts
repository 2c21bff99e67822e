import type { ArchiveCoverage, ArchiveDigestRef, ArchiveObjectRef } from '../archive/archive-locator';
import type { ErasureRecord, Evidence, PersonState } from '../erasure/types';
import { SOFTWARE } from './software';

/**
 * Fields the statutory clock, verified absence and subjects add to the record. Read as optional,
 * under these exact names, so a record written before them still certifies.
 */
export interface LaterRecordFields {
  dueAt?: string;
  extendedDueAt?: string;
  extension?: { months: number; reason: string; requestedAt: string };
  /** Why an erasure by subject has no person (none was linked): evidence too. */
  note?: string;
}
export type CertifiableRecord = Omit<ErasureRecord, 'persons'> &
  LaterRecordFields & { persons: (PersonState & { verifiedAbsentAt?: string })[] };

export const CERTIFICATE_TYPE = 'verifik-erasure/certificate-of-erasure';

export const ERASURE_METHOD = Object.freeze({
  system: 'Verifik face-recognition',
  operation: 'DELETE /v2/face-recognition/persons/{id}',
  verification: 'GET /v2/face-recognition/persons/{id} after the delete: 404 (person absent) is recorded as verifiedAbsentAt',
  meaning:
    'Deletes the person, its face encodings and enrolment data in every collection of the Verifik account. A 404 with PERSON_NOT_FOUND is recorded as already_erased.',
});

/**
 * Where the tamper-evident archive holds this erasure. `covered`: `batch` holds every item of the
 * erasure exactly as this certificate states it, and `digest`, signed with the archive key, covers
 * the hash chain up to that batch. The other states say why neither is named yet.
 */
export interface CertificateArchive {
  state: ArchiveCoverage['state'] | 'no-archive';
  batch: ArchiveObjectRef | null;
  digest: ArchiveDigestRef | null;
  note: string;
}

const CHECK =
  'npm run verify-archive checks the chain, every digest signature and the table offline; npm run verify-certificate -- certificate.json <certificate key> --archive <archive folder> checks that the batch and the digest named here hold what this certificate states.';

/** What a certificate says of the archive, from where the archive holds the erasure (undefined: no archive). */
export function certificateArchive(coverage: ArchiveCoverage | undefined): CertificateArchive {
  switch (coverage?.state) {
    case 'covered':
      return {
        state: 'covered',
        batch: coverage.batch,
        digest: coverage.digest,
        note: `Batch ${coverage.batch.sequence} of the audit archive holds this erasure as certified here; digest ${coverage.digest.sequence}, signed with the archive key at ${coverage.digest.signedAt}, covers it. ${CHECK}`,
      };
    case 'awaiting-digest':
      return {
        state: 'awaiting-digest',
        batch: coverage.batch,
        digest: null,
        note: `Batch ${coverage.batch.sequence} of the audit archive holds this erasure as certified here; no signed digest covers it yet (one is signed every hour). Ask for the certificate again after the next full hour for one that names the digest.`,
      };
    case 'not-archived':
      return {
        state: 'not-archived',
        batch: null,
        digest: null,
        note: 'The audit archive does not hold this erasure as certified here yet: the archiver follows the audit table within moments, so ask for the certificate again shortly. If this persists, the archive has a gap: see the ArchiverGap, ArchiverErrors and ArchiverBehind alarms.',
      };
    default:
      return {
        state: 'no-archive',
        batch: null,
        digest: null,
        note: 'This deployment has no tamper-evident archive configured: the certificate rests on the audit table and this signature alone.',
      };
  }
}

/** A person's line on the certificate: null where the record holds nothing, so every certificate has the same shape. */
export interface CertificatePerson {
  personId: string;
  outcome: PersonState['outcome'];
  vendorStatus: number | null;
  attempts: number;
  completedAt: string | null;
  verifiedAbsentAt: string | null;
  evidence: Evidence | null;
  lastError: string | null;
  note: string | null;
}

/** What a certificate states. Its canonical JSON (RFC 8785) is what the signature covers. */
export interface CertificateModel {
  type: typeof CERTIFICATE_TYPE;
  certificateVersion: 1;
  issuedAt: string;
  controller: { name: string };
  method: typeof ERASURE_METHOD;
  erasure: {
    erasureId: string;
    status: ErasureRecord['status'];
    requestedBy: string | null;
    reason: string | null;
    receivedAt: string;
    dueAt: string | null;
    extendedDueAt: string | null;
    extension: LaterRecordFields['extension'] | null;
    completedAt: string | null;
    note: string | null;
  };
  persons: CertificatePerson[];
  software: { name: string; version: string };
  archive: CertificateArchive;
}

/** What the certificate states of the erasure itself: the part the archive must hold the same way. */
export const certifiedFacts = ({ erasure, persons }: CertificateModel) => ({ erasure, persons });

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

/** The certificate of a terminal erasure (the caller refuses a pending one), from the record callers see. */
export function certificateModel(
  record: CertifiableRecord,
  { organizationName, issuedAt, archive }: { organizationName: string; issuedAt: Date; archive?: ArchiveCoverage },
): CertificateModel {
  return {
    type: CERTIFICATE_TYPE,
    certificateVersion: 1,
    issuedAt: issuedAt.toISOString(),
    controller: { name: organizationName },
    method: ERASURE_METHOD,
    erasure: {
      erasureId: record.erasureId,
      status: record.status,
      requestedBy: orNull(record.requestedBy),
      reason: orNull(record.reason),
      receivedAt: record.receivedAt,
      dueAt: orNull(record.dueAt),
      extendedDueAt: orNull(record.extendedDueAt),
      extension: record.extension
        ? { months: record.extension.months, reason: record.extension.reason, requestedAt: record.extension.requestedAt }
        : null,
      completedAt: orNull(record.completedAt),
      note: orNull(record.note),
    },
    persons: record.persons.map((person) => ({
      personId: person.personId,
      outcome: person.outcome,
      vendorStatus: orNull(person.vendorStatus),
      attempts: person.attempts,
      completedAt: orNull(person.completedAt),
      verifiedAbsentAt: orNull(person.verifiedAbsentAt),
      evidence: person.evidence ? { ...person.evidence } : null,
      lastError: orNull(person.lastError),
      note: orNull(person.note),
    })),
    software: { name: SOFTWARE.name, version: SOFTWARE.version },
    archive: certificateArchive(archive),
  };
}
