import { isDeepStrictEqual } from 'node:util';
import type { ArchiveCoverage, ArchiveLocator, ArchivedItem } from '../archive/archive-locator';
import type { ErasureRecord } from '../erasure/types';
import { CertificateUnavailableError, ErasurePendingError, NotFoundError } from '../errors';
import { archivedFacts } from './archive-check';
import { canonicalBytes } from './canonical-json';
import { certificateModel, certifiedFacts, type CertifiableRecord } from './certificate-model';
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
      const issuedAt = now();
      const stated = certifiedFacts(certificateModel(record as CertifiableRecord, { organizationName, issuedAt }));
      // Covered only where the archive's latest images of the erasure's items state exactly this.
      const holds = (items: ArchivedItem[]) => isDeepStrictEqual(archivedFacts(items), stated);
      let coverage: ArchiveCoverage | undefined;
      try {
        coverage = await archive?.locate(erasureId, holds);
      } catch (error) {
        throw new CertificateUnavailableError('the audit archive could not be read; retry later.', error);
      }
      const certificate = certificateModel(record as CertifiableRecord, { organizationName, issuedAt, archive: coverage });
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
