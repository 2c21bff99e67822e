import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateIssuer } from '../../lambda/certificate/certificate-issuer';
import { FileCertificateSigner } from '../../lambda/certificate/certificate-signer';
import type { ErasureRecord } from '../../lambda/erasure/types';
import { testCertificateKey } from '../support/certificate-key';
import { runScript } from '../support/run-script';

const run = (...args: string[]) => runScript('scripts/verify-certificate.ts', ...args);

describe('npm run verify-certificate', () => {
  let folder: string;
  const file = (name: string, content: string | Buffer) => {
    const path = join(folder, name);
    writeFileSync(path, content);
    return path;
  };
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'verify-certificate-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('accepts a certificate with the public key as JWK, PEM, raw DER or the base64 DER `aws kms get-public-key` prints, and refuses it changed', async () => {
    const key = await testCertificateKey();
    const record: ErasureRecord = {
      erasureId: 'msg_cli',
      status: 'completed',
      receivedAt: '2026-11-28T10:00:00.000Z',
      dueAt: '2026-12-28T10:00:00.000Z',
      completedAt: '2026-11-28T10:00:00.412Z',
      persons: [{ personId: 'p1', outcome: 'erased', attempts: 1, vendorStatus: 200 }],
    };
    const signed = await createCertificateIssuer({
      read: async () => record,
      signer: new FileCertificateSigner(key.privateKeyPath),
      organizationName: 'Example GmbH',
    }).issue('msg_cli');
    const certificate = file('certificate.json', JSON.stringify(signed, null, 2));
    const der = createPublicKey(readFileSync(key.publicKeyPath, 'utf8')).export({ format: 'der', type: 'spki' });
    const keys = [
      file('key.jwk', JSON.stringify(key.jwk)),
      key.publicKeyPath,
      file('key.der', der),
      file('key.der.b64', `${der.toString('base64')}\n`),
    ];

    for (const publicKey of keys) {
      const valid = await run(certificate, publicKey);
      expect([publicKey, valid.code]).toEqual([publicKey, 0]);
      expect(valid.stdout).toMatch(/^valid: certificate of erasure msg_cli \(completed, 1 person\(s\)\) for Example GmbH/);
    }

    const tampered = file('tampered.json', JSON.stringify(signed).replace('"erased"', '"failed"'));
    const invalid = await run(tampered, keys[0]!);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^INVALID: /);
    expect((await run()).code).toBe(2);
  }, 60_000);
});
