import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { FlattenedSign, base64url, calculateJwkThumbprint, exportJWK } from 'jose';
import { derToJoseSignature } from './der-signature';

/** The detached JWS of a payload (RFC 7515 appendix F): the payload itself travels beside it. */
export interface DetachedSignature {
  /** base64url of the protected header: `{"alg":"ES256","kid":…}`. */
  protected: string;
  /** base64url of the raw R || S signature. */
  signature: string;
}

/** Signs a certificate's canonical bytes with the certificate key (ES256). */
export interface CertificateSigner {
  sign(payload: Uint8Array): Promise<DetachedSignature>;
}

export const CERTIFICATE_ALG = 'ES256';
/** KMS signs a RAW message of at most 4096 bytes; a longer signing input is hashed here and sent as its digest. */
export const KMS_RAW_MESSAGE_LIMIT = 4096;

/**
 * The certificate key in AWS: an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) whose private half
 * never leaves KMS. jose has no KMS signer, so the JWS signing input is built here with jose's own
 * base64url and the header jose would write, KMS signs it (ECDSA_SHA_256), and its DER signature is
 * turned into JOSE's R || S. `kid` is the key's ARN: `aws kms get-public-key` fetches its public half.
 */
export class KmsCertificateSigner implements CertificateSigner {
  constructor(
    private readonly kms: KMSClient,
    private readonly keyArn: string,
  ) {}

  async sign(payload: Uint8Array): Promise<DetachedSignature> {
    const header = base64url.encode(JSON.stringify({ alg: CERTIFICATE_ALG, kid: this.keyArn }));
    const signingInput = new TextEncoder().encode(`${header}.${base64url.encode(payload)}`);
    const raw = signingInput.length <= KMS_RAW_MESSAGE_LIMIT;
    const { Signature } = await this.kms.send(
      new SignCommand({
        KeyId: this.keyArn,
        SigningAlgorithm: 'ECDSA_SHA_256',
        MessageType: raw ? 'RAW' : 'DIGEST',
        Message: raw ? signingInput : createHash('sha256').update(signingInput).digest(),
      }),
    );
    if (!Signature) throw new Error('KMS Sign returned no signature');
    return { protected: header, signature: base64url.encode(derToJoseSignature(Signature)) };
  }
}

/**
 * The certificate key on a laptop: a P-256 private key in a PKCS8 PEM file (the local stack makes
 * one at first start), signed with jose. `kid` is the RFC 7638 thumbprint of its public key.
 */
export class FileCertificateSigner implements CertificateSigner {
  private key?: Promise<{ privateKey: KeyObject; kid: string }>;

  constructor(private readonly path: string) {}

  async sign(payload: Uint8Array): Promise<DetachedSignature> {
    const { privateKey, kid } = await (this.key ??= this.load());
    const jws = await new FlattenedSign(payload).setProtectedHeader({ alg: CERTIFICATE_ALG, kid }).sign(privateKey);
    return { protected: jws.protected!, signature: jws.signature };
  }

  private async load() {
    const privateKey = createPrivateKey(await readFile(this.path, 'utf8'));
    return { privateKey, kid: await certificateKeyId(createPublicKey(privateKey)) };
  }
}

/** A local key's id: the RFC 7638 thumbprint of its public JWK. */
export const certificateKeyId = async (publicKey: KeyObject) => calculateJwkThumbprint(await exportJWK(publicKey));
