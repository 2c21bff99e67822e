import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, StreamViewType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { BindTarget } from './erasure-function';
import { TTL_ATTRIBUTE } from '../../lambda/audit/keys';
import { AUDIT_TABLE_SCHEMA } from '../../lambda/audit/table-definition';

/** How the audit table is encrypted at rest. */
export type AuditTableEncryption = 'aws-owned' | 'customer-managed';

export interface AuditTableProps {
  /**
   * `aws-owned` (default, no cost, no key to manage) or `customer-managed`: a KMS key with yearly
   * rotation that this stack creates and retains, for accounts whose policy demands one.
   */
  readonly encryption?: AuditTableEncryption;
}

/** The item actions the audit store calls (lambda/audit/dynamo-audit-store.ts); nothing else is ever granted. */
export type AuditItemAction = 'dynamodb:GetItem' | 'dynamodb:PutItem' | 'dynamodb:UpdateItem' | 'dynamodb:Query';
export type AuditIndexName = (typeof AUDIT_TABLE_SCHEMA.indexes)[number]['name'];

/** What one function does with the audit table. */
export interface AuditAccess {
  /** Item actions on the table itself. */
  readonly actions: readonly AuditItemAction[];
  /**
   * Indexes the function queries, named one by one (never `index/*`). `erasuresForPerson` queries
   * `byPerson` and `requestsReceivedBetween` queries `byReceivedAt`; no handler calls either today.
   * @default none
   */
  readonly queryIndexes?: readonly AuditIndexName[];
  /** IAM conditions on the item actions (fine-grained access: which items, which attributes). @default none */
  readonly conditions?: Record<string, Record<string, unknown>>;
}

/**
 * The functions that receive requests (http, invoke: `ErasureService.submit` and `get`):
 * `createRequest` is the only PutItem (conditional; GetItem after a failed condition), claiming and
 * settling persons are UpdateItem (GetItem after a failed condition), reading a record is a Query on
 * the table.
 */
export const AUDIT_RECEIVER_ACCESS: AuditAccess = {
  actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
};

/**
 * The retry worker (`ErasureService.retry` only): it never records a request, so no PutItem; it
 * claims, settles and reopens persons (UpdateItem, GetItem after a failed condition) and reads the
 * record (Query on the table).
 */
export const AUDIT_RETRIER_ACCESS: AuditAccess = {
  actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
};

/**
 * Actions the service must never have, denied explicitly so that a broad grant added later cannot
 * delete items or change the table, its TTL setting or its backups. BatchWriteItem and PartiQL can
 * delete items. (An item's own `expiresAt` is an attribute: UpdateItem can change it, see SECURITY.md.)
 */
export const AUDIT_DENIED_ACTIONS = [
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLDelete',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLInsert',
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
  'dynamodb:UpdateTimeToLive',
  'dynamodb:DeleteBackup',
] as const;

/**
 * The audit trail of docs/data-protection.md: one table, on demand, point-in-time recovery, deletion protection,
 * kept when the stack is deleted, items expiring only through the TTL attribute. Key and index
 * names come from the Lambda code so the cloud and the local stack build the same table.
 */
export class AuditTable extends Construct {
  readonly table: TableV2;
  /** Only when `encryption` is `customer-managed`. */
  readonly key?: Key;

  constructor(scope: Construct, id: string, props: AuditTableProps = {}) {
    super(scope, id);
    const { partitionKey, sortKey, indexes } = AUDIT_TABLE_SCHEMA;
    const string = (name: string) => ({ name, type: AttributeType.STRING });

    if (props.encryption === 'customer-managed') {
      this.key = new Key(this, 'Key', {
        description: 'verifik-erasure audit table',
        enableKeyRotation: true,
        // The table outlives the stack; so must the key that decrypts it.
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }

    this.table = new TableV2(this, 'Table', {
      partitionKey: string(partitionKey),
      sortKey: string(sortKey),
      globalSecondaryIndexes: indexes.map((index) => ({
        indexName: index.name,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
        projectionType: ProjectionType.ALL,
      })),
      billing: Billing.onDemand(),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // Every change, old and new image, for the tamper-evidence archive (infra/constructs/audit-archive.ts).
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: this.key ? TableEncryptionV2.customerManagedKey(this.key) : TableEncryptionV2.dynamoOwnedKey(),
    });
  }

  /** The ARN of one index, by name. */
  indexArn(name: AuditIndexName): string {
    return `${this.table.tableArn}/index/${name}`;
  }

  /** Names the table to `fn` (AUDIT_TABLE_NAME) and grants it exactly `access`. */
  bindTo(fn: BindTarget, access: AuditAccess): void {
    fn.addEnvironment('AUDIT_TABLE_NAME', this.table.tableName);
    this.grantItemAccess(fn.role, access);
  }

  /**
   * Lets `grantee` do exactly `access` with audit items, and denies AUDIT_DENIED_ACTIONS. What IAM
   * cannot stop: PutItem and UpdateItem can overwrite or alter any item, `expiresAt` included
   * (UpdateItem can also create one); only the code's conditional writes keep outcomes unchanged
   * (SECURITY.md, "Audit tampering").
   */
  grantItemAccess(grantee: IGrantable, access: AuditAccess): void {
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...access.actions], resources: [this.table.tableArn], conditions: access.conditions }),
    );
    if (access.queryIndexes?.length) {
      principal.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['dynamodb:Query'], resources: access.queryIndexes.map((name) => this.indexArn(name)) }),
      );
    }
    principal.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        actions: [...AUDIT_DENIED_ACTIONS],
        resources: [this.table.tableArn, `${this.table.tableArn}/*`],
      }),
    );
    if (this.key) {
      principal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
          resources: [this.key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
  }
}
