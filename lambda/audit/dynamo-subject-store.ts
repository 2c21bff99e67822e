import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { SubjectErasureRef, SubjectLink, SubjectStore } from '../subjects/subject-store';
import { storageCall } from './dynamo-audit-store';
import { INDEX_BY_PERSON, LINK_SK_PREFIX, linkSk, subjectPartition } from './keys';

/**
 * Subject links on the audit table (layout in keys.ts): one item per linked person under
 * `SUBJECT#<hash>`, written with single-item conditional writes, never deleted by the service.
 */
export class DynamoSubjectStore implements SubjectStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async link(subjectHash: string, link: { personId: string; source: string; linkedAt: string; expiresAt: number }) {
    try {
      await storageCall(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: subjectPartition(subjectHash), sk: linkSk(link.personId), ...link },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return { created: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { created: false };
      throw error;
    }
  }

  async links(subjectHash: string): Promise<SubjectLink[]> {
    return storageCall(async () => {
      const links: SubjectLink[] = [];
      const pages = paginateQuery(
        { client: this.doc },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :link)',
          ExpressionAttributeValues: { ':pk': subjectPartition(subjectHash), ':link': LINK_SK_PREFIX },
          ConsistentRead: true,
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          links.push({
            personId: String(item.personId),
            source: String(item.source),
            linkedAt: String(item.linkedAt),
            erasureIds: item.erasureIds instanceof Set ? [...(item.erasureIds as Set<string>)].sort() : [],
          });
        }
      }
      return links;
    });
  }

  async markLinks(subjectHash: string, personIds: readonly string[], erasureId: string, expiresAt: number): Promise<void> {
    await Promise.all(
      personIds.map(async (personId) => {
        const key = { pk: subjectPartition(subjectHash), sk: linkSk(personId) };
        const mark = (extend: boolean) =>
          storageCall(() =>
            this.doc.send(
              new UpdateCommand({
                TableName: this.tableName,
                Key: key,
                // Never creates a link, never shortens how long one is kept.
                ConditionExpression: extend ? 'attribute_exists(pk) AND expiresAt < :expiresAt' : 'attribute_exists(pk)',
                UpdateExpression: extend ? 'ADD erasureIds :ids SET expiresAt = :expiresAt' : 'ADD erasureIds :ids',
                ExpressionAttributeValues: { ':ids': new Set([erasureId]), ...(extend ? { ':expiresAt': expiresAt } : {}) },
              }),
            ),
          );
        try {
          await mark(true);
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          try {
            await mark(false);
          } catch (again) {
            // A link that does not exist has nothing to mark.
            if (!(again instanceof ConditionalCheckFailedException)) throw again;
          }
        }
      }),
    );
  }

  async erasuresForSubject(subjectHash: string, { limit = 100 } = {}): Promise<SubjectErasureRef[]> {
    const { Items = [] } = await storageCall(() =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX_BY_PERSON,
          KeyConditionExpression: 'gsi2pk = :pk',
          ExpressionAttributeValues: { ':pk': subjectPartition(subjectHash) },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return Items.map((item) => ({ erasureId: String(item.erasureId), receivedAt: String(item.receivedAt) }));
  }
}
