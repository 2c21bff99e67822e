import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { createArchiveHandler } from '../../lambda/archive/archive-handler';
import { composeArchiver } from '../../lambda/archive/compose-archiver';
import { FolderArchiveStorage } from '../../lambda/archive/folder-archive-storage';
import { KMS_RAW_MESSAGE_LIMIT, KmsSigner } from '../../lambda/archive/kms-signer';
import { verifyArchive } from '../../lambda/archive/verify-archive';
import { ConfigurationError } from '../../lambda/errors';
import { readPublicKey } from '../../infra/local/verify-archive';
import { memoryBucket, type MemoryBucket } from '../support/memory-bucket';
import { erasedPerson, personItem, requestItem, streamRecord } from '../support/stream-records';

// No S3 or KMS runs here: their SDK clients are mocked (an in-memory bucket that honours
// If-None-Match, and a P-256 key signing as KMS does); everything else is the archiver's real code.
const s3 = mockClient(S3Client);
const kms = mockClient(KMSClient);
const BUCKET = 'verifik-erasure-archive-bucket';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/00000000-1111-2222-3333-444444444444';
const ENV = { ARCHIVE_BUCKET_NAME: BUCKET, ARCHIVE_KEY_ID: KEY_ARN };
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

let bucket: MemoryBucket;
let objects: Map<string, Uint8Array>;

beforeEach(() => {
  bucket = memoryBucket(s3, BUCKET);
  objects = bucket.objects;
  kms.reset();
  // KMS with MessageType RAW hashes the message with SHA-256 and signs it (DER).
  kms.on(SignCommand).callsFake(({ Message, MessageType, SigningAlgorithm }) => {
    if (MessageType !== 'RAW' || SigningAlgorithm !== 'ECDSA_SHA_256') throw new Error('unexpected Sign request');
    return { Signature: sign('sha256', Message as Uint8Array, privateKey), KeyId: KEY_ARN, SigningAlgorithm };
  });
});

const silent = () => new Logger({ logLevel: 'SILENT' });
const compose = () => {
  const metrics = new Metrics({ namespace: 'VerifikErasure', serviceName: 'verifik-erasure' });
  const added: [string, number][] = [];
  jest.spyOn(metrics, 'addMetric').mockImplementation((name, _unit, value) => {
    added.push([name, value]);
    return metrics;
  });
  const deps = composeArchiver(ENV, { s3: new S3Client({}), kms: new KMSClient({}), logger: silent(), metrics });
  return { handler: createArchiveHandler(deps), added };
};

describe('the archiver function on S3 and KMS', () => {
  it('archives stream batches and signs the scheduled digest; the copied bucket verifies with the KMS public key', async () => {
    const { handler, added } = compose();

    await handler({
      Records: [streamRecord('INSERT', { new: requestItem('e1') }), streamRecord('INSERT', { new: personItem('e1', 'p1') })],
    });
    await handler({ Records: [streamRecord('MODIFY', { old: personItem('e1', 'p1'), new: erasedPerson('e1', 'p1') })] });
    await handler({ action: 'digest' });

    const puts = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    // Each batch, then the index entry of the erasure it holds (written after it), then the digest.
    expect(puts.map((input) => input.Key)).toEqual([
      'batches/000000000001.json',
      'index/e1/000000000001.json',
      'batches/000000000002.json',
      'index/e1/000000000002.json',
      'digests/000000000001.json',
    ]);
    for (const input of puts) {
      expect(input).toMatchObject({ Bucket: BUCKET, IfNoneMatch: '*', ContentType: 'application/json' });
      expect(input.ChecksumSHA256).toBe(
        createHash('sha256')
          .update(input.Body as Uint8Array)
          .digest('base64'),
      );
    }
    expect(kms.commandCalls(SignCommand).map((call) => call.args[0].input.KeyId)).toEqual([KEY_ARN]);
    expect(added).toEqual(
      expect.arrayContaining([
        ['ArchiveBatches', 1],
        ['ArchivedRecords', 2],
        ['ArchivedRecords', 1],
        ['DigestsSigned', 1],
      ]),
    );

    // What an operator does: aws s3 sync the bucket, aws kms get-public-key (DER), verify.
    const root = await mkdtemp(path.join(tmpdir(), 'cloud-archive-'));
    try {
      for (const [key, bytes] of objects) {
        await mkdir(path.dirname(path.join(root, 'archive', key)), { recursive: true });
        await writeFile(path.join(root, 'archive', key), bytes);
      }
      const der = publicKey.export({ type: 'spki', format: 'der' });
      await writeFile(path.join(root, 'public-key.der'), der);
      // The ArchivePublicKey stack output: the same DER, base64, as text.
      await writeFile(path.join(root, 'public-key.der.b64'), `${der.toString('base64')}\n`);
      for (const file of ['public-key.der', 'public-key.der.b64']) {
        const report = await verifyArchive({
          storage: new FolderArchiveStorage(path.join(root, 'archive')),
          publicKey: await readPublicKey(path.join(root, file)),
        });
        expect(report).toMatchObject({ findings: [], batches: 2, records: 3, digests: 1 });
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('raises each alarm metric from the stream it archives', async () => {
    const { handler, added } = compose();

    await handler({
      Records: [
        streamRecord('MODIFY', { old: erasedPerson('e1', 'p1'), new: erasedPerson('e1', 'p1', { outcome: 'failed' }) }),
        streamRecord('MODIFY', { old: requestItem('e1'), new: requestItem('e1', { reason: 'other' }) }),
        streamRecord('MODIFY', { old: erasedPerson('e1', 'p2'), new: erasedPerson('e1', 'p2', { expiresAt: 1 }) }),
        streamRecord('REMOVE', { old: erasedPerson('e1', 'p3') }),
        streamRecord('REMOVE', { old: erasedPerson('e1', 'p4') }, { byTtl: true }),
      ],
    });

    expect(added.filter(([name]) => !name.startsWith('Archive')).sort()).toEqual([
      ['NonTtlRemoval', 1],
      ['RequestChanged', 1],
      ['RetentionShortened', 1],
      ['TerminalOutcomeChanged', 1],
    ]);
  });

  it('never forks or overwrites the chain when invocations append at once (If-None-Match)', async () => {
    const [first, second] = [compose(), compose()];
    await first.handler({ Records: [streamRecord('INSERT', { new: requestItem('e1') })] });

    await Promise.all([
      first.handler({ Records: [streamRecord('INSERT', { new: requestItem('e2') })] }),
      second.handler({ Records: [streamRecord('INSERT', { new: requestItem('e3') })] }),
      first.handler({ Records: [streamRecord('INSERT', { new: requestItem('e4') })] }),
    ]);

    expect([...objects.keys()].filter((key) => key.startsWith('batches/')).sort()).toEqual(
      [1, 2, 3, 4].map((n) => `batches/00000000000${n}.json`),
    );
    const links = [1, 2, 3, 4].map((n) => JSON.parse(new TextDecoder().decode(objects.get(`batches/00000000000${n}.json`))));
    for (let n = 1; n < 4; n++) {
      expect(links[n].previousHash).toBe(
        createHash('sha256')
          .update(objects.get(`batches/00000000000${n}.json`)!)
          .digest('hex'),
      );
    }
    expect(
      links
        .flatMap((batch) => batch.records.map((r: { dynamodb: { Keys: { pk: { S: string } } } }) => r.dynamodb.Keys.pk.S))
        .sort(),
    ).toEqual(['ERASURE#e1', 'ERASURE#e2', 'ERASURE#e3', 'ERASURE#e4']);
    // One index entry per erasure, naming the batch that holds it (with that batch's hash), whoever won the race.
    const index = [...objects.keys()].filter((key) => key.startsWith('index/'));
    expect(index).toHaveLength(4);
    for (const key of index) {
      const entry = JSON.parse(new TextDecoder().decode(objects.get(key)));
      const batchKey = `batches/${key.split('/')[2]}`;
      expect(key).toBe(`index/${entry.erasureId}/${batchKey.slice('batches/'.length)}`);
      expect(entry.batchHash).toBe(createHash('sha256').update(objects.get(batchKey)!).digest('hex'));
      expect(JSON.stringify(links[entry.batch - 1].records)).toContain(`ERASURE#${entry.erasureId}`);
    }
  });

  it('fails the invocation when S3 fails, so Lambda retries the same records in order', async () => {
    const { handler, added } = compose();
    bucket.failing = 'put';

    await expect(handler({ Records: [streamRecord('REMOVE', { old: erasedPerson('e1', 'p1') })] })).rejects.toThrow('S3 is down');
    expect(added).toEqual([]);
  });

  it('sends a message over 4 KiB to KMS as its SHA-256 digest', async () => {
    kms.on(SignCommand).resolves({ Signature: new Uint8Array([1, 2, 3]) });
    const message = new Uint8Array(KMS_RAW_MESSAGE_LIMIT + 1).fill(7);

    await new KmsSigner(new KMSClient({}), KEY_ARN).sign(message);

    expect(kms.commandCalls(SignCommand)[0]!.args[0].input).toMatchObject({
      KeyId: KEY_ARN,
      MessageType: 'DIGEST',
      SigningAlgorithm: 'ECDSA_SHA_256',
      Message: createHash('sha256').update(message).digest(),
    });
  });

  it('refuses to start without its bucket or key', () => {
    expect(() => composeArchiver({ ARCHIVE_KEY_ID: KEY_ARN })).toThrow(ConfigurationError);
    expect(() => composeArchiver({ ARCHIVE_BUCKET_NAME: BUCKET })).toThrow(/ARCHIVE_KEY_ID/);
  });
});
