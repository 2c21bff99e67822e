import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  paginateQuery,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type {
  AuditStore,
  CallbackStore,
  Claim,
  ClaimResult,
  ExtensionResult,
  FirstSettlement,
  PersonErasureRef,
  Settlement,
} from '../erasure/ports';
import { dueDateFor } from '../erasure/statutory-clock';
import type { CallbackDelivery, PersonState, StoredRequest } from '../erasure/types';
import { StorageUnavailableError } from '../errors';
import {
  INDEX_BY_PERSON,
  INDEX_BY_TIME,
  REQUEST_SK,
  erasureKey,
  monthPartition,
  monthsBetween,
  personPartition,
  personSk,
  subjectPartition,
  timeSortKey,
} from './keys';

type Item = Record<string, unknown>;

/**
 * The audit trail on DynamoDB: single-item conditional writes only, never a delete.
 * Storage failures become StorageUnavailableError here; a failed condition is a domain answer.
 */
export class DynamoAuditStore implements AuditStore, CallbackStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async createRequest(request: StoredRequest) {
    const item = {
      pk: erasureKey(request.erasureId),
      sk: REQUEST_SK,
      gsi1pk: monthPartition(request.receivedAt),
      gsi1sk: timeSortKey(request.receivedAt, request.erasureId),
      // An erasure by subject is found from the subject's hash (keys.ts): written with the request, in one item.
      ...(request.subject && {
        gsi2pk: subjectPartition(request.subject.hash),
        gsi2sk: timeSortKey(request.receivedAt, request.erasureId),
      }),
      ...request,
    };
    try {
      await this.call(() =>
        this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })),
      );
      return { created: true } as const;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.getItem(erasureKey(request.erasureId), REQUEST_SK);
      if (!existing) throw new StorageUnavailableError(error);
      return { created: false, existing: toRequest(existing) } as const;
    }
  }

  releaseHold(erasureId: string, heldUntil: number): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { pk: erasureKey(erasureId), sk: REQUEST_SK },
      ConditionExpression: 'heldUntil = :heldUntil',
      UpdateExpression: 'REMOVE heldUntil',
      ExpressionAttributeValues: { ':heldUntil': heldUntil },
    });
  }

  async claimPerson(erasureId: string, personId: string, claim: Claim): Promise<ClaimResult> {
    const key = { pk: erasureKey(erasureId), sk: personSk(personId) };
    // A person with no item is the receiving invocation's while the request's hold stands.
    const mayCreate = claim.heldUntil === undefined || claim.now >= claim.heldUntil;
    const claimable = 'outcome = :pending AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)';
    const identity = personIdentity(erasureId, personId, claim);
    try {
      const { Attributes } = await this.call(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            ConditionExpression: mayCreate ? `attribute_not_exists(pk) OR (${claimable})` : claimable,
            UpdateExpression:
              'SET outcome = if_not_exists(outcome, :pending), attempts = if_not_exists(attempts, :zero), ' +
              `${Object.keys(identity)
                .map((name) => `${name} = :${name}`)
                .join(', ')}, leaseOwner = :owner, leaseUntil = :until, updatedAt = :at`,
            ExpressionAttributeValues: {
              ':pending': 'pending',
              ':zero': 0,
              ':now': claim.now,
              ...Object.fromEntries(Object.entries(identity).map(([name, value]) => [`:${name}`, value])),
              ':owner': claim.owner,
              ':until': claim.leaseUntil,
              ':at': new Date(claim.now).toISOString(),
            },
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      const previous = Attributes;
      const person: PersonState = previous ? toPerson(previous as Item) : { personId, outcome: 'pending', attempts: 0 };
      // No item after the hold: the receiving invocation may have called Verifik and died before recording it.
      const interrupted = previous ? previous.leaseUntil !== undefined : claim.heldUntil !== undefined;
      return { claimed: true, person, interrupted };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = await this.getItem(key.pk, key.sk);
      if (item) return { claimed: false, person: toPerson(item) };
      if (mayCreate) throw new StorageUnavailableError(new Error('person item vanished after a failed condition'));
      return { claimed: false, person: { personId, outcome: 'pending', attempts: 0, leaseUntil: claim.heldUntil } };
    }
  }

  async settlePerson(
    erasureId: string,
    personId: string,
    owner: string,
    settlement: Settlement,
    first?: FirstSettlement,
  ): Promise<PersonState> {
    const terminal = settlement.outcome !== 'pending';
    const erasedNow = settlement.outcome === 'erased' || settlement.outcome === 'already_erased';
    const fields: Item = {
      ...(first && personIdentity(erasureId, personId, first)),
      outcome: settlement.outcome,
      attempts: settlement.attempts,
      vendorStatus: settlement.vendorStatus,
      lastError: settlement.lastError,
      evidence: settlement.evidence,
      completedAt: settlement.completedAt,
      retryAfter: settlement.retryAfter,
      note: settlement.note,
      exhausted: settlement.exhausted,
      uncertain: settlement.uncertain,
      deletedAt: settlement.deletedAt,
      verifiedAbsentAt: settlement.verifiedAbsentAt,
      verifyAttempts: settlement.verifyAttempts,
      updatedAt: settlement.updatedAt,
    };
    const set = Object.entries(fields).filter(([, value]) => value !== undefined);
    const names = Object.fromEntries(set.map(([name]) => [`#${name}`, name]));
    const values: Item = Object.fromEntries(set.map(([name, value]) => [`:${name}`, value]));
    // A terminal outcome lands only on a pending person, whoever holds the lease: it is what Verifik
    // said. A pending update needs the lease, so it never clobbers another attempt. A first settlement
    // creates the item; once another invocation has claimed the person, only a terminal one lands.
    const condition = first
      ? terminal
        ? 'attribute_not_exists(pk) OR #outcome = :pending'
        : 'attribute_not_exists(pk)'
      : terminal
        ? '#outcome = :pending'
        : '#outcome = :pending AND leaseOwner = :owner';
    if (condition.includes(':pending')) values[':pending'] = 'pending';
    if (condition.includes(':owner')) values[':owner'] = owner;
    try {
      const { Attributes } = await this.call(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: erasureKey(erasureId), sk: personSk(personId) },
            ConditionExpression: condition,
            UpdateExpression:
              `SET ${set.map(([name]) => `#${name} = :${name}`).join(', ')} REMOVE leaseOwner, leaseUntil` +
              (terminal ? ', retryAfter' : '') +
              // An erasure that went through says nothing of the errors before it.
              (erasedNow && settlement.lastError === undefined ? ', lastError' : ''),
            ExpressionAttributeNames: { ...names, '#outcome': 'outcome' },
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return toPerson(Attributes ?? {});
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.getPerson(erasureId, personId);
    }
  }

  async reopenPerson(erasureId: string, personId: string, note: string, at: string): Promise<boolean> {
    try {
      await this.call(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: erasureKey(erasureId), sk: personSk(personId) },
            ConditionExpression: 'outcome = :failed AND exhausted = :true',
            UpdateExpression: 'SET outcome = :pending, note = :note, updatedAt = :at REMOVE exhausted, completedAt',
            ExpressionAttributeValues: { ':failed': 'failed', ':true': true, ':pending': 'pending', ':note': note, ':at': at },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async advanceRetryStep(erasureId: string, from: string | undefined, to: string): Promise<boolean> {
    try {
      await this.call(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: erasureKey(erasureId), sk: REQUEST_SK },
            // Already at `to` counts as moved: the next message and its sender may both make the move.
            ConditionExpression:
              from === undefined
                ? 'attribute_exists(pk) AND (attribute_not_exists(retryStep) OR retryStep = :to)'
                : 'retryStep IN (:from, :to)',
            UpdateExpression: 'SET retryStep = :to',
            ExpressionAttributeValues: { ':to': to, ...(from === undefined ? {} : { ':from': from }) },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async extendDueDate(erasureId: string, change: Parameters<AuditStore['extendDueDate']>[1]): Promise<ExtensionResult> {
    try {
      const { Attributes } = await this.call(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: erasureKey(erasureId), sk: REQUEST_SK },
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#extension)',
            // A request recorded before due dates has none stored: it gets the one it was read with.
            UpdateExpression: 'SET dueAt = if_not_exists(dueAt, :dueAt), extendedDueAt = :extendedDueAt, #extension = :extension',
            ExpressionAttributeNames: { '#extension': 'extension' },
            ExpressionAttributeValues: {
              ':dueAt': change.dueAt,
              ':extendedDueAt': change.extendedDueAt,
              ':extension': change.extension,
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { granted: true, request: toRequest(Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = await this.getItem(erasureKey(erasureId), REQUEST_SK);
      return { granted: false, request: item && toRequest(item) };
    }
  }

  async markCallbackEnqueued(erasureId: string, eventId: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { pk: erasureKey(erasureId), sk: REQUEST_SK },
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(callbackEventId) OR callbackEventId <> :eventId)',
      UpdateExpression: 'SET callbackEventId = :eventId',
      ExpressionAttributeValues: { ':eventId': eventId },
    });
  }

  /**
   * One attribute, `callbackDelivery`, replaced whole: the delivery function's role may write no other
   * (infra/constructs/callbacks.ts). Another event's state is replaced; the same event's only while it
   * stands at one of `previousAttempts` and undelivered, so a delivery recorded is never overwritten.
   */
  async recordCallbackDelivery(erasureId: string, delivery: CallbackDelivery, previousAttempts: readonly number[]) {
    const previous = Object.fromEntries(previousAttempts.map((attempts, i) => [`:previous${i}`, attempts]));
    return this.conditionalUpdate({
      Key: { pk: erasureKey(erasureId), sk: REQUEST_SK },
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(#delivery) OR #delivery.eventId <> :eventId OR ' +
        `(#delivery.attempts IN (${Object.keys(previous).join(', ')}) AND attribute_not_exists(#delivery.deliveredAt)))`,
      UpdateExpression: 'SET #delivery = :delivery',
      ExpressionAttributeNames: { '#delivery': 'callbackDelivery' },
      ExpressionAttributeValues: { ':delivery': delivery, ':eventId': delivery.eventId, ...previous },
    });
  }

  /** An UpdateItem whose failed condition is an answer (false), not an error. */
  private async conditionalUpdate(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    try {
      await this.call(() => this.doc.send(new UpdateCommand({ TableName: this.tableName, ...input })));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async getErasure(erasureId: string) {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': erasureKey(erasureId) },
      ConsistentRead: true,
    });
    return erasureFromItems(items);
  }

  async erasuresForPerson(personId: string, { limit = 100 } = {}): Promise<PersonErasureRef[]> {
    const { Items = [] } = await this.call(() =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX_BY_PERSON,
          KeyConditionExpression: 'gsi2pk = :pk',
          ExpressionAttributeValues: { ':pk': personPartition(personId) },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return Items.map((item) => ({
      erasureId: String(item.erasureId),
      receivedAt: String(item.receivedAt),
      person: toPerson(item),
    }));
  }

  async requestsReceivedBetween(from: Date, to: Date): Promise<StoredRequest[]> {
    const requests: StoredRequest[] = [];
    for await (const page of this.requestPagesReceivedBetween(from, to)) requests.push(...page);
    return requests;
  }

  async *requestPagesReceivedBetween(from: Date, to: Date, { pageSize = 100 } = {}): AsyncGenerator<StoredRequest[]> {
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
      throw new RangeError('requestPagesReceivedBetween: invalid date');
    // DynamoDB refuses a BETWEEN whose bounds are reversed; an empty or reversed range has no requests.
    if (!(from < to)) return;
    const end = to.toISOString();
    for (const month of monthsBetween(from, to)) {
      const pages = paginateQuery(
        { client: this.doc, pageSize },
        {
          TableName: this.tableName,
          IndexName: INDEX_BY_TIME,
          KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': monthPartition(month),
            ':from': from.toISOString(),
            // '#' sorts after every character of an ISO date, so the bound includes `to` exactly; filtered below.
            ':to': `${end}#`,
          },
        },
      );
      const iterator = pages[Symbol.asyncIterator]();
      for (;;) {
        const next = await this.call(() => iterator.next());
        if (next.done) break;
        const page = (next.value.Items ?? []).map(toRequest).filter((r) => r.receivedAt < end);
        if (page.length > 0) yield page;
      }
    }
  }

  private queryAll(input: QueryCommandInput): Promise<Item[]> {
    return this.call(async () => {
      const items: Item[] = [];
      for await (const page of paginateQuery({ client: this.doc }, input)) items.push(...(page.Items ?? []));
      return items;
    });
  }

  private async getPerson(erasureId: string, personId: string): Promise<PersonState> {
    const item = await this.getItem(erasureKey(erasureId), personSk(personId));
    if (!item) throw new StorageUnavailableError(new Error('person item vanished after a failed condition'));
    return toPerson(item);
  }

  private async getItem(pk: string, sk: string): Promise<Item | undefined> {
    const { Item } = await this.call(() =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true })),
    );
    return Item;
  }

  private call<T>(operation: () => Promise<T>): Promise<T> {
    return storageCall(operation);
  }
}

/** Every storage call goes through here: a condition failure is returned to the caller, anything else is "unavailable". */
export async function storageCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw error;
    throw new StorageUnavailableError(error);
  }
}

/**
 * An erasure from its items (one Query on its partition, or the archive's latest images of them);
 * undefined without its request item.
 */
export function erasureFromItems(items: readonly Item[]): { request: StoredRequest; persons: PersonState[] } | undefined {
  const request = items.find((item) => item.sk === REQUEST_SK);
  if (!request) return undefined;
  return { request: toRequest(request), persons: items.filter((item) => item.sk !== REQUEST_SK).map(toPerson) };
}

function toRequest(item: Item): StoredRequest {
  return {
    erasureId: String(item.erasureId),
    personIds: (item.personIds as string[]) ?? [],
    fingerprint: String(item.fingerprint),
    receivedAt: String(item.receivedAt),
    // Requests recorded before due dates existed get theirs from when they were received.
    dueAt: typeof item.dueAt === 'string' ? item.dueAt : dueDateFor(String(item.receivedAt)),
    extendedDueAt: item.extendedDueAt as string | undefined,
    extension: item.extension as StoredRequest['extension'],
    expiresAt: Number(item.expiresAt),
    subjectRefHash: item.subjectRefHash as string | undefined,
    subject: item.subject as StoredRequest['subject'],
    reason: item.reason as string | undefined,
    requestedBy: item.requestedBy as string | undefined,
    apiRequestId: item.apiRequestId as string | undefined,
    retryStep: item.retryStep as string | undefined,
    heldUntil: typeof item.heldUntil === 'number' ? item.heldUntil : undefined,
    callbackUrl: item.callbackUrl as string | undefined,
    callbackEventId: item.callbackEventId as string | undefined,
    callbackDelivery: item.callbackDelivery as CallbackDelivery | undefined,
  };
}

/** What every person item carries besides its state: its erasure, and its key in the byPerson index. */
function personIdentity(erasureId: string, personId: string, at: { receivedAt: string; expiresAt: number }) {
  return {
    erasureId,
    personId,
    receivedAt: at.receivedAt,
    expiresAt: at.expiresAt,
    gsi2pk: personPartition(personId),
    gsi2sk: timeSortKey(at.receivedAt, erasureId),
  };
}

function toPerson(item: Item): PersonState {
  return {
    personId: String(item.personId),
    outcome: item.outcome as PersonState['outcome'],
    attempts: Number(item.attempts ?? 0),
    vendorStatus: item.vendorStatus as number | undefined,
    lastError: item.lastError as string | undefined,
    completedAt: item.completedAt as string | undefined,
    evidence: item.evidence as PersonState['evidence'],
    retryAfter: item.retryAfter as string | undefined,
    note: item.note as string | undefined,
    exhausted: item.exhausted === true ? true : undefined,
    uncertain: item.uncertain === true ? true : undefined,
    deletedAt: item.deletedAt as string | undefined,
    verifiedAbsentAt: item.verifiedAbsentAt as string | undefined,
    verifyAttempts: typeof item.verifyAttempts === 'number' ? item.verifyAttempts : undefined,
    leaseUntil: typeof item.leaseUntil === 'number' ? item.leaseUntil : undefined,
  };
}
