import { createHash } from 'node:crypto';
import { SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { SIGNING_ALGORITHM } from './archive-format';
import type { ArchiveSigner } from './ports';

/** KMS signs a message of up to 4 KiB as it is; a longer one is hashed here and sent as a digest. */
export const KMS_RAW_MESSAGE_LIMIT = 4096;

/**
 * The archive key in KMS (ECC_NIST_P256, SIGN_VERIFY): only the archiver's role may sign with it
 * (its key policy). Either way the signature (ECDSA with SHA-256, DER) verifies against the message
 * itself with the public key, as a key file's does.
 */
export class KmsSigner implements ArchiveSigner {
  constructor(
    private readonly kms: KMSClient,
    readonly keyId: string,
  ) {}

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const raw = message.length <= KMS_RAW_MESSAGE_LIMIT;
    const { Signature } = await this.kms.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: raw ? message : createHash('sha256').update(message).digest(),
        MessageType: raw ? 'RAW' : 'DIGEST',
        SigningAlgorithm: SIGNING_ALGORITHM,
      }),
    );
    if (!Signature) throw new Error('KMS returned no signature');
    return Signature;
  }
}
