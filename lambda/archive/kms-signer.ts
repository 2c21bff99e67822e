import { createHash } from 'node:crypto';
import { SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { SIGNING_ALGORITHM } from './archive-format';
import type { ArchiveSigner } from './ports';

/**
 * The archive key in KMS (ECC_NIST_P256, SIGN_VERIFY): only the archiver's role may sign with it
 * (its key policy). The message is hashed here and sent as a digest, so a digest of any size can be
 * signed; the signature verifies against the message itself (ECDSA with SHA-256, DER).
 */
export class KmsSigner implements ArchiveSigner {
  constructor(
    private readonly kms: KMSClient,
    readonly keyId: string,
  ) {}

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const { Signature } = await this.kms.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: createHash('sha256').update(message).digest(),
        MessageType: 'DIGEST',
        SigningAlgorithm: SIGNING_ALGORITHM,
      }),
    );
    if (!Signature) throw new Error('KMS returned no signature');
    return Signature;
  }
}
