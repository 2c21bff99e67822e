import { isDeepStrictEqual } from 'node:util';
import type { ArchiveCoverage, ArchiveLocator, ArchivedItem } from '../archive/archive-locator';
import type { ErasureRecord } from '../erasure/types';
import { CertificateUnavailableError, ErasurePendingError, NotFoundError } from '../errors';
import { erasureFromItems } from '../audit/dynamo-audit-store';
import { buildRecord } from '../erasure/record';
import { canonicalBytes } from './canonical-json';
import { certificateArchive, certificateModel, certifiedFacts, type CertifiableRecord } from './certificate-model';
import type { CertificateSigner } from './certificate-signer';
import type { SignedCertificate } from './verify-certificate';

export interface CertificateIssuerDeps {
  read(erasureId: string): Promise<ErasureRecord | undefined>;
  /** Absent: no certificate key configured (CERTIFICATE_KEY_ARN or CERTIFICATE_KEY_FILE). */
  signer?: CertificateSigner;
  /** The controller named on certificates (ORGANIZATION_NAME). */
  organizationName?: string;
  /** The tamper-evident archive, to name the batch and digest that hold the erasure; absent: none configured. */
  archive?: ArchiveLocator;
  now?: () => Date;
}

/** Issues the signed certificate of a terminal erasure: 404 for an unknown one, 409 while it is pending. */
export function createCertificateIssuer({
  read,
  signer,
  organizationName,
  archive,
  now = () => new Date(),
}: CertificateIssuerDeps) {
  return {
    async issue(erasureId: string): Promise<SignedCertificate> {
      const record = await read(erasureId);
      if (!record) throw new NotFoundError();
      if (record.status === 'pending') throw new ErasurePendingError(erasureId);
      if (!signer)
        throw new CertificateUnavailableError('no certificate key is configured (CERTIFICATE_KEY_ARN or CERTIFICATE_KEY_FILE).');
      if (!organizationName) throw new CertificateUnavailableError('ORGANIZATION_NAME (the controller) is not configured.');
      const model = certificateModel(record as CertifiableRecord, { organizationName, issuedAt: now() });
      const stated = certifiedFacts(model);
      // Covered only where the archive's latest images of the erasure's items state exactly this.
      const holds = (items: ArchivedItem[]) => isDeepStrictEqual(archivedFacts(items), stated);
      let coverage: ArchiveCoverage | undefined;
      try {
        coverage = await archive?.locate(erasureId, holds);
      } catch (error) {
        throw new CertificateUnavailableError('the audit archive could not be read; retry later.', error);
      }
      const certificate = { ...model, archive: certificateArchive(coverage) };
      let signature;
      try {
        signature = await signer.sign(canonicalBytes(certificate));
      } catch (error) {
        throw new CertificateUnavailableError('the certificate key could not sign; retry later.', error);
      }
      return { certificate, jws: `${signature.protected}..${signature.signature}` };
    },
  };
}

export type CertificateIssuer = ReturnType<typeof createCertificateIssuer>;

/** What a certificate would state of an erasure whose items are these archived images (undefined: no request item). */
export function archivedFacts(items: ArchivedItem[]): ReturnType<typeof certifiedFacts> | undefined {
  const archived = erasureFromItems(items);
  if (!archived) return undefined;
  const record = buildRecord(archived.request, archived.persons) as CertifiableRecord;
  // The controller and the time of issue are not facts of the erasure: any value will do here.
  return certifiedFacts(certificateModel(record, { organizationName: '-', issuedAt: new Date(0) }));
}
