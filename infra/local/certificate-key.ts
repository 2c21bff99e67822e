import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type JWK } from 'jose';
import { CERTIFICATE_ALG, certificateKeyId } from '../../lambda/certificate/certificate-signer';

export interface LocalCertificateKey {
  /** The private key (PKCS8 PEM, mode 0600): CERTIFICATE_KEY_FILE. */
  privateKeyPath: string;
  /** Its public half (SPKI PEM), for `npm run verify-certificate`. */
  publicKeyPath: string;
  /** The public key as a JWK with its `kid`, as `/.well-known/certificate-key` serves it. */
  jwk: JWK;
  created: boolean;
}

/**
 * The local certificate key: made with jose at the first `npm start` and kept, so certificates
 * issued earlier still verify. The public half is written beside it as `<name>.pub.pem`.
 */
export async function ensureCertificateKey(privateKeyPath: string): Promise<LocalCertificateKey> {
  const publicKeyPath = privateKeyPath.replace(/(\.pem)?$/, '.pub.pem');
  let pem: string;
  let created = false;
  try {
    pem = await readFile(privateKeyPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const { privateKey } = await generateKeyPair(CERTIFICATE_ALG, { extractable: true });
    pem = await exportPKCS8(privateKey);
    await mkdir(dirname(privateKeyPath), { recursive: true, mode: 0o700 });
    // `wx`: two stacks starting at once never overwrite each other's key.
    await writeFile(privateKeyPath, pem, { mode: 0o600, flag: 'wx' });
    created = true;
  }
  const publicKey = createPublicKey(createPrivateKey(pem));
  await writeFile(publicKeyPath, await exportSPKI(publicKey), { mode: 0o644 });
  const jwk = { ...(await exportJWK(publicKey)), kid: await certificateKeyId(publicKey), alg: CERTIFICATE_ALG, use: 'sig' };
  return { privateKeyPath, publicKeyPath, jwk, created };
}
