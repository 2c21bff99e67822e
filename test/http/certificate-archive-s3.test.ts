import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Archiver } from '../../lambda/archive/archiver';
import { KeyFileSigner } from '../../lambda/archive/key-file-signer';
import { S3ArchiveStorage } from '../../lambda/archive/s3-archive-storage';
import { useHarness } from '../support/http-harness';
import { memoryBucket, type MemoryBucket } from '../support/memory-bucket';
import { silentLog } from '../support/scripted-verifik';

/**
 * The cloud wiring: with ARCHIVE_BUCKET_NAME set (as the stack sets it on the http function), the
 * certificate reads the archive through the AWS SDK's S3 client. S3 cannot run here, so a mocked
 * client keeps the bucket in memory; the archiver writes it through the same client.
 */
const BUCKET = 'verifik-erasure-archive';
const s3 = mockClient(S3Client);
let bucket: MemoryBucket;

const t = useHarness({ ARCHIVE_BUCKET_NAME: BUCKET });
let root: string;

beforeEach(async () => {
  bucket = memoryBucket(s3, BUCKET);
  root = await mkdtemp(path.join(tmpdir(), 'certificate-s3-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** What DynamoDB Streams would hand the archiver for the erasure's items: one INSERT each, as they stand. */
async function archiveErasure(erasureId: string) {
  const { Items = [] } = await t.dynamo.client.send(
    new QueryCommand({
      TableName: t.api.env.AUDIT_TABLE_NAME,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `ERASURE#${erasureId}` } },
    }),
  );
  const { signer } = await KeyFileSigner.open(path.join(root, 'archive-key.pem'));
  const archiver = new Archiver({
    storage: new S3ArchiveStorage(new S3Client({}), BUCKET),
    signer,
    metrics: { count: () => undefined },
    logger: silentLog,
  });
  await archiver.archive(
    Items.map((item, i) => ({
      eventID: `e${i}`,
      eventName: 'INSERT' as const,
      dynamodb: { Keys: { pk: item.pk!, sk: item.sk! } as never, NewImage: item as never, SequenceNumber: String(i) },
    })),
  );
  return archiver;
}

describe('a deployed stack’s certificate and its archive bucket', () => {
  it('names the batch and the digest read from the bucket', async () => {
    const person = t.api.sandbox.createPerson();
    expect((await t.api.post({ personIds: [person] }, { id: 'cert_s3' })).status).toBe(200);
    const archiver = await archiveErasure('cert_s3');

    const before = await t.api.send('GET', '/erasures/cert_s3/certificate', '');
    expect(before.body.certificate.archive).toMatchObject({ state: 'awaiting-digest', batch: { sequence: 1 } });

    await archiver.digest();
    const after = await t.api.send('GET', '/erasures/cert_s3/certificate', '');
    expect(after.status).toBe(200);
    expect(after.body.certificate.archive).toMatchObject({
      state: 'covered',
      batch: { sequence: 1, key: 'batches/000000000001.json' },
      digest: { sequence: 1, key: 'digests/000000000001.json' },
    });
    expect(s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key)).toEqual([
      'batches/000000000001.json',
      'index/cert_s3/000000000001.json',
      'digests/000000000001.json',
    ]);
  });

  it('refuses the certificate with 503 while the bucket cannot be read, and answers the record as ever', async () => {
    const person = t.api.sandbox.createPerson();
    expect((await t.api.post({ personIds: [person] }, { id: 'cert_s3_down' })).status).toBe(200);
    bucket.failing = 'all';

    const answer = await t.api.send('GET', '/erasures/cert_s3_down/certificate', '');

    expect(answer).toMatchObject({ status: 503, body: { error: 'certificate_unavailable' } });
    expect((await t.api.get('cert_s3_down')).status).toBe(200);
  });
});
