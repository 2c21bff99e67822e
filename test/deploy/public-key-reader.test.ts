import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { CdkCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createCertificateIssuer } from '../../lambda/certificate/certificate-issuer';
import { FileCertificateSigner, type CertificateSigner } from '../../lambda/certificate/certificate-signer';
import { readPublicKey, verifyCertificate } from '../../lambda/certificate/verify-certificate';
import { createPublicKeyReader, customResourceHandler } from '../../lambda/deploy/public-key-reader';
import { testCertificateKey } from '../support/certificate-key';

// KMS cannot run here: its client is mocked to answer GetPublicKey as KMS does (DER SubjectPublicKeyInfo).
const kms = mockClient(KMSClient);
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/00000000-1111-2222-3333-444444444444';
const event = (RequestType: 'Create' | 'Update' | 'Delete', KeyId: unknown = KEY_ARN) =>
  ({
    RequestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/VerifikErasure/1',
    RequestId: 'r1',
    LogicalResourceId: 'PublicKeysCertificatePublicKey',
    ResourceType: 'Custom::PublicKey',
    PhysicalResourceId: KEY_ARN,
    ResourceProperties: { ServiceToken: 'x', KeyId },
    OldResourceProperties: {},
  }) as unknown as CdkCustomResourceEvent;

beforeEach(() => kms.reset());

describe('the deploy-time public key reader', () => {
  it('outputs the key as base64 DER, with which a certificate it signed verifies offline', async () => {
    const key = await testCertificateKey();
    const { createPublicKey } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const der = createPublicKey(readFileSync(key.publicKeyPath, 'utf8')).export({ type: 'spki', format: 'der' });
    kms.on(GetPublicKeyCommand, { KeyId: KEY_ARN }).resolves({ PublicKey: der, KeySpec: 'ECC_NIST_P256' });

    const answer = await createPublicKeyReader(new KMSClient({}))(event('Create'));

    expect(answer).toEqual({ PhysicalResourceId: KEY_ARN, Data: { PublicKeyDer: der.toString('base64') } });
    const signer: CertificateSigner = new FileCertificateSigner(key.privateKeyPath);
    const signed = await createCertificateIssuer({
      read: async () => ({
        erasureId: 'msg_output',
        status: 'completed',
        receivedAt: '2026-11-28T10:00:00.000Z',
        dueAt: '2026-12-28T10:00:00.000Z',
        completedAt: '2026-11-28T10:00:01.000Z',
        persons: [{ personId: 'p1', outcome: 'erased', attempts: 1, vendorStatus: 200 }],
      }),
      signer,
      organizationName: 'Example GmbH',
    }).issue('msg_output');
    // What an auditor pastes from the stack's outputs into a file.
    const fromOutput = readPublicKey(Buffer.from(`${answer.Data!.PublicKeyDer}\n`));
    await expect(verifyCertificate(signed, fromOutput)).resolves.toMatchObject({
      certificate: { erasure: { erasureId: 'msg_output' } },
    });
  });

  it('reads the key again on an update, and calls nothing on a delete', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: der, KeySpec: 'ECC_NIST_P256' });
    const read = createPublicKeyReader(new KMSClient({}));

    await expect(read(event('Update'))).resolves.toMatchObject({ Data: { PublicKeyDer: der.toString('base64') } });
    await expect(read(event('Delete'))).resolves.toEqual({ PhysicalResourceId: KEY_ARN });
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });

  it('fails the deployment on a key that is not P-256, or without a key id', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: publicKey.export({ type: 'spki', format: 'der' }), KeySpec: 'RSA_2048' });
    const read = createPublicKeyReader(new KMSClient({}));

    await expect(read(event('Create'))).rejects.toThrow('is not an ECC P-256 key');
    await expect(read(event('Create', ''))).rejects.toThrow('KeyId is required');
  });
});

describe('the custom resource function', () => {
  /** A loopback server standing in for the pre-signed S3 URL CloudFormation waits on. */
  async function responseUrl(status = 200) {
    const received: { method?: string; contentType?: string; body: unknown }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          method: req.method,
          contentType: req.headers['content-type'],
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?X-Amz-Signature=abc`;
    return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it('answers CloudFormation with SUCCESS and the key, or FAILED with the reason: never leaves the stack waiting', async () => {
    const target = await responseUrl();
    try {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const der = publicKey.export({ type: 'spki', format: 'der' });
      kms.on(GetPublicKeyCommand).resolvesOnce({ PublicKey: der, KeySpec: 'ECC_NIST_P256' }).rejects(new Error('AccessDenied'));
      const handler = customResourceHandler(createPublicKeyReader(new KMSClient({})));

      await handler({ ...event('Create'), ResponseURL: target.url } as CdkCustomResourceEvent);
      await handler({ ...event('Update'), ResponseURL: target.url } as CdkCustomResourceEvent);

      const common = { StackId: event('Create').StackId, RequestId: 'r1', LogicalResourceId: 'PublicKeysCertificatePublicKey' };
      expect(target.received).toEqual([
        {
          method: 'PUT',
          contentType: '',
          body: { ...common, Status: 'SUCCESS', PhysicalResourceId: KEY_ARN, Data: { PublicKeyDer: der.toString('base64') } },
        },
        {
          method: 'PUT',
          contentType: '',
          body: { ...common, Status: 'FAILED', Reason: 'AccessDenied', PhysicalResourceId: KEY_ARN },
        },
      ]);
    } finally {
      await target.close();
    }
  });

  it('fails loudly when CloudFormation does not take the response', async () => {
    const target = await responseUrl(403);
    try {
      const handler = customResourceHandler(createPublicKeyReader(new KMSClient({})));
      await expect(handler({ ...event('Delete'), ResponseURL: target.url } as CdkCustomResourceEvent)).rejects.toThrow(
        'CloudFormation did not take the response: HTTP 403',
      );
      expect(target.received).toHaveLength(1);
    } finally {
      await target.close();
    }
  });
});
