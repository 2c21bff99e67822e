import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';

let sequence = 0;

type Image = Record<string, unknown>;
const attributes = (image: Image) => marshall(image, { removeUndefinedValues: true }) as never;

/** A DynamoDB Streams record as Lambda delivers it (NEW_AND_OLD_IMAGES), for one audit item. */
export function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  images: { old?: Image; new?: Image },
  options: { byTtl?: boolean } = {},
): DynamoDBRecord {
  const item = images.new ?? images.old!;
  sequence += 1;
  return {
    eventID: `event${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    eventSourceARN: 'arn:aws:dynamodb:eu-west-1:123456789012:table/audit/stream/2026-11-29T00:00:00.000',
    dynamodb: {
      ApproximateCreationDateTime: 1_795_000_000 + sequence,
      Keys: attributes({ pk: item.pk, sk: item.sk }),
      ...(images.old ? { OldImage: attributes(images.old) } : {}),
      ...(images.new ? { NewImage: attributes(images.new) } : {}),
      SequenceNumber: String(1000 + sequence),
      SizeBytes: 200,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    ...(options.byTtl ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } } : {}),
  };
}

/** Audit items as the store writes them (lambda/audit/dynamo-audit-store.ts). */
export const requestItem = (erasureId: string, extra: Image = {}): Image => ({
  pk: `ERASURE#${erasureId}`,
  sk: 'REQUEST',
  erasureId,
  personIds: ['p1'],
  fingerprint: 'f'.repeat(64),
  receivedAt: '2026-11-29T10:00:00.000Z',
  expiresAt: 1_984_000_000,
  requestedBy: 'crm',
  ...extra,
});

export const personItem = (erasureId: string, personId: string, extra: Image = {}): Image => ({
  pk: `ERASURE#${erasureId}`,
  sk: `PERSON#${personId}`,
  erasureId,
  personId,
  receivedAt: '2026-11-29T10:00:00.000Z',
  expiresAt: 1_984_000_000,
  outcome: 'pending',
  attempts: 0,
  ...extra,
});

/** An erased person, as settlePerson leaves it. */
export const erasedPerson = (erasureId: string, personId: string, extra: Image = {}) =>
  personItem(erasureId, personId, {
    outcome: 'erased',
    attempts: 1,
    vendorStatus: 200,
    completedAt: '2026-11-29T10:00:01.000Z',
    evidence: { signature: 'Certified by Verifik.co' },
    ...extra,
  });
