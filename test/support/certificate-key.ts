import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCertificateKey, type LocalCertificateKey } from '../../infra/local/certificate-key';

let key: Promise<LocalCertificateKey> | undefined;

/** One local certificate key per test process, in a temporary folder removed when the process ends. */
export function testCertificateKey(): Promise<LocalCertificateKey> {
  if (!key) {
    const folder = mkdtempSync(join(tmpdir(), 'verifik-erasure-cert-'));
    process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
    key = ensureCertificateKey(join(folder, 'certificate-key.pem'));
  }
  return key;
}
