import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ArchiveSigner } from './ports';

/**
 * The local archive key: an ECDSA P-256 key in a PEM file (node:crypto signs with SHA-256 and DER
 * signatures, exactly what KMS's ECDSA_SHA_256 returns), so `verify` treats both archives alike.
 */
export class KeyFileSigner implements ArchiveSigner {
  readonly keyId: string;

  constructor(
    private readonly privateKey: KeyObject,
    keyFile: string,
  ) {
    this.keyId = `file:${path.basename(keyFile)}`;
  }

  /** The signer for `keyFile`; creates the key (mode 600) and its public half (`<name>.pub.pem`) when the file does not exist. */
  static async open(keyFile: string): Promise<{ signer: KeyFileSigner; publicKeyFile: string; created: boolean }> {
    const publicKeyFile = keyFile.replace(/(\.pem)?$/, '.pub.pem');
    let pem: string;
    let created = false;
    try {
      pem = await readFile(keyFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await mkdir(path.dirname(keyFile), { recursive: true });
      await writeFile(keyFile, pem, { flag: 'wx', mode: 0o600 });
      created = true;
    }
    const privateKey = createPrivateKey(pem);
    await writeFile(publicKeyFile, createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString());
    return { signer: new KeyFileSigner(privateKey, keyFile), publicKeyFile, created };
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return sign('sha256', message, this.privateKey);
  }
}
