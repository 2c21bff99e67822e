import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3ServiceException,
  type S3ClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import type { AwsStub } from 'aws-sdk-client-mock';

/** What the in-memory bucket holds, and which calls fail: `put` (writes only) or `all`. */
export interface MemoryBucket {
  objects: Map<string, Uint8Array>;
  failing: 'put' | 'all' | undefined;
}

const serverError = (name: string, message: string) =>
  new S3ServiceException({ name, $fault: 'server', $metadata: { httpStatusCode: 503 }, message });

/**
 * S3 cannot run here: a mocked S3 client (aws-sdk-client-mock) answers as one bucket in memory
 * would: writes honour `If-None-Match: *` (412 on an existing key), a missing object is 404
 * (NotFound, NoSuchKey), a listing is sorted under its prefix. Call it in `beforeEach`.
 */
export function memoryBucket(
  s3: AwsStub<ServiceInputTypes, ServiceOutputTypes, S3ClientResolvedConfig>,
  bucket: string,
): MemoryBucket {
  const state: MemoryBucket = { objects: new Map(), failing: undefined };
  const check = (name: string | undefined, write = false) => {
    if (state.failing === 'all' || (write && state.failing === 'put')) throw serverError('InternalError', 'S3 is down');
    if (name !== bucket) throw new Error(`unexpected bucket ${name}`);
  };
  s3.reset();
  s3.on(PutObjectCommand).callsFake(({ Bucket, Key, Body, IfNoneMatch }) => {
    check(Bucket, true);
    if (IfNoneMatch === '*' && state.objects.has(Key)) {
      throw new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        $metadata: { httpStatusCode: 412 },
        message: 'At least one of the pre-conditions you specified did not hold',
      });
    }
    state.objects.set(Key, Body as Uint8Array);
    return {};
  });
  s3.on(HeadObjectCommand).callsFake(({ Bucket, Key }) => {
    check(Bucket);
    if (!state.objects.has(Key)) throw new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'Not Found' });
    return {};
  });
  s3.on(GetObjectCommand).callsFake(({ Bucket, Key }) => {
    check(Bucket);
    const bytes = state.objects.get(Key);
    if (!bytes) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
    return { Body: { transformToByteArray: async () => bytes } };
  });
  s3.on(ListObjectsV2Command).callsFake(({ Bucket, Prefix }) => {
    check(Bucket);
    const keys = [...state.objects.keys()].filter((key) => key.startsWith(Prefix ?? '')).sort();
    return { Contents: keys.map((Key) => ({ Key })), IsTruncated: false, KeyCount: keys.length };
  });
  return state;
}
