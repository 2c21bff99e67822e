import { isDeepStrictEqual } from 'node:util';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { REQUEST_SK, TTL_ATTRIBUTE } from '../audit/keys';
import { TERMINAL_OUTCOMES } from '../erasure/types';

/** A change to the audit trail that the service itself never makes: each one raises an alarm. */
export type TamperSignal = 'TerminalOutcomeChanged' | 'RequestChanged' | 'RetentionShortened' | 'NonTtlRemoval';

/**
 * What a person's outcome is proved by. Once terminal, the service writes none of them again; the one
 * exception is a redrive, which turns a person that failed because retries ran out (`exhausted`)
 * back to pending. Other fields (a later `verifiedAbsentAt`, say) may still be added.
 */
const PERSON_PROOF = ['personId', 'erasureId', 'receivedAt', 'outcome', 'vendorStatus', 'evidence', 'completedAt', 'lastError'];
/** What the request is: written once by `createRequest`; `retryStep` and later additions may change. */
const REQUEST_PROOF = [
  'erasureId',
  'personIds',
  'fingerprint',
  'receivedAt',
  'subjectRefHash',
  'reason',
  'requestedBy',
  'apiRequestId',
  'callbackUrl',
];

type Image = Record<string, unknown>;
const image = (attributes: unknown): Image | undefined =>
  attributes ? unmarshall(attributes as Record<string, AttributeValue>) : undefined;
const differs = (fields: string[], before: Image, after: Image) =>
  fields.some((field) => !isDeepStrictEqual(before[field], after[field]));

/** DynamoDB's own TTL deletions are the only removals it marks with this service identity. */
export function isTtlRemoval(record: DynamoDBRecord): boolean {
  return (
    record.eventName === 'REMOVE' &&
    record.userIdentity?.type === 'Service' &&
    record.userIdentity?.principalId === 'dynamodb.amazonaws.com'
  );
}

/** The alarms one stream record raises (none for the service's own writes and for TTL). */
export function tamperSignals(record: DynamoDBRecord): TamperSignal[] {
  if (record.eventName === 'REMOVE') return isTtlRemoval(record) ? [] : ['NonTtlRemoval'];
  const before = image(record.dynamodb?.OldImage);
  const after = image(record.dynamodb?.NewImage);
  if (record.eventName !== 'MODIFY' || !before || !after) return [];
  const signals: TamperSignal[] = [];
  const expiresBefore = before[TTL_ATTRIBUTE];
  const expiresAfter = after[TTL_ATTRIBUTE];
  if (typeof expiresBefore === 'number' && typeof expiresAfter === 'number' && expiresAfter < expiresBefore) {
    signals.push('RetentionShortened');
  }
  if (before.sk === REQUEST_SK) {
    if (differs(REQUEST_PROOF, before, after)) signals.push('RequestChanged');
  } else if (TERMINAL_OUTCOMES.includes(before.outcome as (typeof TERMINAL_OUTCOMES)[number])) {
    const redriven = before.outcome === 'failed' && before.exhausted === true && after.outcome === 'pending';
    if (!redriven && differs(PERSON_PROOF, before, after)) signals.push('TerminalOutcomeChanged');
  }
  return signals;
}

/** The erasure an audit item belongs to (its partition key is `ERASURE#<id>`), for the logs. */
export function erasureIdOf(record: DynamoDBRecord): string | undefined {
  const pk = record.dynamodb?.Keys?.pk?.S;
  return pk?.startsWith('ERASURE#') ? pk.slice('ERASURE#'.length) : undefined;
}
