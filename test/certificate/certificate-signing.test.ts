import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { KMSClient, SignCommand, type SignCommandInput } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { base64url } from 'jose';
import { canonicalJson } from '../../lambda/certificate/canonical-json';
import { createCertificateIssuer } from '../../lambda/certificate/certificate-issuer';
import type { CertifiableRecord } from '../../lambda/certificate/certificate-model';
import {
  FileCertificateSigner,
  KMS_RAW_MESSAGE_LIMIT,
  KmsCertificateSigner,
  type CertificateSigner,
} from '../../lambda/certificate/certificate-signer';
import { readPublicKey, verifyCertificate, type SignedCertificate } from '../../lambda/certificate/verify-certificate';
import type { ErasureRecord } from '../../lambda/erasure/types';
import { testCertificateKey } from '../support/certificate-key';

const KEY_ARN = 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const record = (overrides: Partial<CertifiableRecord> = {}): ErasureRecord =>
  ({
    erasureId: 'msg_2KWP',
    status: 'completed',
    receivedAt: '2026-11-28T10:00:00.000Z',
    completedAt: '2026-11-28T10:00:00.412Z',
    requestedBy: 'crm',
    reason: 'gdpr-art-17',
    dueAt: '2026-12-28T10:00:00.000Z',
    persons: [
      {
        personId: '65175da13e81e4fabc12345f',
        outcome: 'erased',
        vendorStatus: 200,
        attempts: 1,
        completedAt: '2026-11-28T10:00:00.412Z',
        verifiedAbsentAt: '2026-11-28T10:00:00.500Z',
        evidence: { signature: 'Certified by Verifik.co', dateTime: '2026-11-28T10:00:00Z' },
      },
      { personId: 'person_123456789', outcome: 'already_erased', vendorStatus: 404, attempts: 1 },
    ],
    ...overrides,
  }) as ErasureRecord;

const issue = (signer: CertificateSigner, value: ErasureRecord = record()) =>
  createCertificateIssuer({
    read: async (id) => (id === value.erasureId ? value : undefined),
    signer,
    organizationName: 'Beispiel GmbH',
    now: () => new Date('2026-11-29T09:00:00.000Z'),
  }).issue(value.erasureId);

/** Changes one byte (XOR with a non-zero value) of a base64url-encoded part. */
function flipByte(encoded: string, at: number, xor: number): string {
  const bytes = base64url.decode(encoded);
  bytes[at % bytes.length] = bytes[at % bytes.length]! ^ xor;
  return base64url.encode(bytes);
}

describe('certificate signing with the local key file', () => {
  let signed: SignedCertificate;
  let publicKey: KeyObject;
  beforeAll(async () => {
    const key = await testCertificateKey();
    publicKey = readPublicKey(Buffer.from(JSON.stringify(key.jwk)));
    signed = await issue(new FileCertificateSigner(key.privateKeyPath));
  });

  it('verifies with the public key: the one in JWK form and the PEM file written beside the key', async () => {
    const key = await testCertificateKey();
    const { readFile } = await import('node:fs/promises');
    await expect(verifyCertificate(signed, readPublicKey(Buffer.from(JSON.stringify(key.jwk))))).resolves.toMatchObject({
      certificate: { erasure: { erasureId: 'msg_2KWP' } },
      kid: key.jwk.kid,
    });
    await expect(verifyCertificate(signed, readPublicKey(await readFile(key.publicKeyPath)))).resolves.toBeDefined();
  });

  it('states the controller, method, persons with verified absence, the software, and no archive where none is configured', () => {
    expect(signed.certificate).toMatchObject({
      controller: { name: 'Beispiel GmbH' },
      method: { system: 'Verifik face-recognition', operation: 'DELETE /v2/face-recognition/persons/{id}' },
      erasure: { dueAt: '2026-12-28T10:00:00.000Z', extendedDueAt: null, requestedBy: 'crm', reason: 'gdpr-art-17' },
      persons: [
        { outcome: 'erased', verifiedAbsentAt: '2026-11-28T10:00:00.500Z', evidence: { signature: 'Certified by Verifik.co' } },
        { outcome: 'already_erased', vendorStatus: 404, verifiedAbsentAt: null, evidence: null },
      ],
      software: { name: 'verifik-erasure' },
      archive: { state: 'no-archive', batch: null, digest: null },
    });
    expect(signed.certificate.archive.note).toMatch(/no tamper-evident archive configured/);
    expect(signed.jws).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]{86}$/);
  });

  it('fails after any byte of the signed payload changes', async () => {
    const payload = new TextEncoder().encode(canonicalJson(signed.certificate));
    await fc.assert(
      fc.asyncProperty(fc.nat(payload.length - 1), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const changed = Uint8Array.from(payload);
        changed[at] = changed[at]! ^ xor;
        let tampered: unknown;
        try {
          tampered = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(changed));
        } catch {
          return; // not JSON any more: nobody could present it as a certificate
        }
        await expect(verifyCertificate({ certificate: tampered, jws: signed.jws }, publicKey)).rejects.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('fails after any byte of the signature or the protected header changes', async () => {
    const [header, , signature] = signed.jws.split('.') as [string, string, string];
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (inHeader, at, xor) => {
        const jws = inHeader ? `${flipByte(header, at, xor)}..${signature}` : `${header}..${flipByte(signature, at, xor)}`;
        await expect(verifyCertificate({ certificate: signed.certificate, jws }, publicKey)).rejects.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('fails when any value of the certificate changes, at any depth', async () => {
    const paths: (string | number)[][] = [];
    const walk = (value: unknown, path: (string | number)[]) => {
      if (value !== null && typeof value === 'object')
        for (const [k, v] of Object.entries(value)) walk(v, [...path, Array.isArray(value) ? Number(k) : k]);
      else paths.push(path);
    };
    walk(signed.certificate, []);
    for (const path of paths) {
      const copy = structuredClone(signed.certificate) as unknown as Record<string | number, unknown>;
      const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as never, copy);
      const last = path.at(-1)!;
      parent[last] =
        parent[last] === null ? 'x' : typeof parent[last] === 'number' ? Number(parent[last]) + 1 : `${String(parent[last])}.`;
      await expect(verifyCertificate({ certificate: copy, jws: signed.jws }, publicKey)).rejects.toThrow();
    }
    expect(paths.length).toBeGreaterThan(30);
  });

  it('fails with another key', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    await expect(verifyCertificate(signed, other)).rejects.toThrow();
  });
});

describe('certificate signing with KMS', () => {
  const kms = mockClient(KMSClient);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  afterEach(() => kms.reset());

  /**
   * KMS as it answers: a DER ECDSA signature. RAW: over SHA-256 of the message. DIGEST: the fake can
   * only sign a message, so it signs the signing input the test expects and checks it got its digest.
   */
  function answerLikeKms(expectedSigningInput?: () => Uint8Array) {
    kms.on(SignCommand).callsFake((input: SignCommandInput) => {
      expect(input).toMatchObject({ KeyId: KEY_ARN, SigningAlgorithm: 'ECDSA_SHA_256' });
      const message = Buffer.from(input.Message!);
      if (input.MessageType === 'RAW') {
        expect(message.length).toBeLessThanOrEqual(KMS_RAW_MESSAGE_LIMIT);
        return { Signature: sign('sha256', message, { key: privateKey, dsaEncoding: 'der' }), KeyId: KEY_ARN };
      }
      expect(input.MessageType).toBe('DIGEST');
      const signingInput = expectedSigningInput!();
      expect(message).toEqual(createHash('sha256').update(signingInput).digest());
      return { Signature: sign('sha256', signingInput, { key: privateKey, dsaEncoding: 'der' }), KeyId: KEY_ARN };
    });
  }

  it('signs the JWS signing input with KMS (RAW) and yields a JWS that jose verifies, kid = the key ARN', async () => {
    answerLikeKms();
    const signed = await issue(new KmsCertificateSigner(new KMSClient({ region: 'eu-central-1' }), KEY_ARN));
    await expect(verifyCertificate(signed, publicKey)).resolves.toMatchObject({ kid: KEY_ARN });
    expect(kms.commandCalls(SignCommand)).toHaveLength(1);
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input.MessageType).toBe('RAW');
  });

  it('sends the SHA-256 digest (DIGEST) when the signing input is over KMS’s 4096-byte RAW limit', async () => {
    const persons = Array.from({ length: 60 }, (_, i) => ({
      personId: `person_${i}`.padEnd(40, 'x'),
      outcome: 'erased' as const,
      vendorStatus: 200,
      attempts: 1,
      completedAt: '2026-11-28T10:00:00.412Z',
      evidence: { signature: 'Certified by Verifik.co', dateTime: '2026-11-28T10:00:00Z' },
    }));
    const big = record({ persons });
    let signingInput: Uint8Array | undefined;
    answerLikeKms(() => signingInput!);
    const signer = new KmsCertificateSigner(new KMSClient({ region: 'eu-central-1' }), KEY_ARN);
    // The test derives the input KMS must have hashed: header and payload as jose encodes them.
    const original = signer.sign.bind(signer);
    signer.sign = async (payload) => {
      const header = base64url.encode(JSON.stringify({ alg: 'ES256', kid: KEY_ARN }));
      signingInput = new TextEncoder().encode(`${header}.${base64url.encode(payload)}`);
      expect(signingInput.length).toBeGreaterThan(KMS_RAW_MESSAGE_LIMIT);
      return original(payload);
    };
    const signed = await issue(signer, big);
    await expect(verifyCertificate(signed, publicKey)).resolves.toBeDefined();
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input.MessageType).toBe('DIGEST');
  });

  it('answers 503 certificate_unavailable when KMS fails or returns what is not a DER signature', async () => {
    kms
      .on(SignCommand)
      .rejectsOnce(new Error('AccessDeniedException'))
      .resolvesOnce({ Signature: Uint8Array.from([1, 2, 3]) });
    const signer = new KmsCertificateSigner(new KMSClient({ region: 'eu-central-1' }), KEY_ARN);
    await expect(issue(signer)).rejects.toMatchObject({ statusCode: 503, code: 'certificate_unavailable' });
    await expect(issue(signer)).rejects.toMatchObject({ statusCode: 503, code: 'certificate_unavailable' });
  });
});

describe('createCertificateIssuer', () => {
  const signer: CertificateSigner = { sign: async () => ({ protected: 'e30', signature: 'AA' }) };

  it('refuses a pending erasure with 409 erasure_pending, an unknown one with 404', async () => {
    await expect(issue(signer, record({ status: 'pending', completedAt: undefined }))).rejects.toMatchObject({
      statusCode: 409,
      code: 'erasure_pending',
    });
    const issuer = createCertificateIssuer({ read: async () => undefined, signer, organizationName: 'X' });
    await expect(issuer.issue('nope')).rejects.toMatchObject({ statusCode: 404, code: 'not_found' });
  });

  it('answers 503 certificate_unavailable without a key or a controller name', async () => {
    const read = async () => record();
    await expect(createCertificateIssuer({ read, organizationName: 'X' }).issue('msg_2KWP')).rejects.toMatchObject({
      statusCode: 503,
      code: 'certificate_unavailable',
    });
    await expect(createCertificateIssuer({ read, signer }).issue('msg_2KWP')).rejects.toMatchObject({
      statusCode: 503,
      code: 'certificate_unavailable',
    });
  });
});
