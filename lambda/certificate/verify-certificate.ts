import { createPublicKey, type KeyObject } from 'node:crypto';
import { base64url, flattenedVerify } from 'jose';
import * as z from 'zod';
import { canonicalBytes } from './canonical-json';
import { CERTIFICATE_ALG } from './certificate-signer';
import type { CertificateModel } from './certificate-model';

/** A signed certificate as the service hands it out: the model, and the detached JWS over its canonical JSON. */
export interface SignedCertificate {
  certificate: CertificateModel;
  /** Compact serialisation with the payload left out: `<protected>..<signature>`. */
  jws: string;
}

const signedDocument = z.object({
  certificate: z.record(z.string(), z.unknown()),
  jws: z.string().regex(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/, 'a detached compact JWS: <protected>..<signature>'),
});

/**
 * Checks a signed certificate offline against the certificate key's public half: the signature must
 * cover exactly the canonical JSON of `certificate`, made with ES256. Throws when anything differs.
 */
export async function verifyCertificate(
  document: unknown,
  publicKey: KeyObject,
): Promise<{ certificate: CertificateModel; kid?: string }> {
  const { certificate, jws } = signedDocument.parse(document);
  const [protectedHeader, , signature] = jws.split('.');
  const { protectedHeader: header } = await flattenedVerify(
    { protected: protectedHeader!, payload: base64url.encode(canonicalBytes(certificate)), signature: signature! },
    publicKey,
    { algorithms: [CERTIFICATE_ALG] },
  );
  return { certificate: certificate as unknown as CertificateModel, kid: header?.kid };
}

/**
 * A public key in any form an operator has at hand: a JWK (the local `/.well-known/certificate-key`),
 * a PEM (`certificate-key.pub.pem`), or the DER that `aws kms get-public-key` returns, raw or base64.
 */
export function readPublicKey(bytes: Buffer): KeyObject {
  const text = bytes.toString('utf8').trim();
  if (text.startsWith('{')) return createPublicKey({ key: JSON.parse(text) as Record<string, string>, format: 'jwk' });
  if (text.startsWith('-----BEGIN')) return createPublicKey(text);
  const der = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, 'base64') : bytes;
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}
