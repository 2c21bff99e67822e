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

export const ARCHIVE_DIGEST_PENDING =
  'Not linked yet: every change to the audit trail is archived as hash-chained batches whose digest is signed hourly with a separate key (npm run verify-archive checks the archive against the table), but this certificate does not yet name the digest that covers this erasure. Until it does, it rests on the audit table, the archive as a whole and this signature.';

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
  archiveDigest: string | null;
  archiveDigestNote: string | null;
}

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

/** The certificate of a terminal erasure (the caller refuses a pending one), from the record callers see. */
export function certificateModel(
  record: CertifiableRecord,
  { organizationName, issuedAt }: { organizationName: string; issuedAt: Date },
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
    archiveDigest: null,
    archiveDigestNote: ARCHIVE_DIGEST_PENDING,
  };
}
