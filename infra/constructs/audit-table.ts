import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
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

/** What the service may do with audit items: read, create and update them, never delete them. */
export const AUDIT_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:Query',
] as const;

/**
 * Actions the service must never have, denied explicitly so that a broad grant added later cannot
 * make the trail deletable or shorten its retention. BatchWriteItem and PartiQL can delete items.
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
 * The audit trail of design.md: one table, on demand, point-in-time recovery, deletion protection,
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
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: this.key ? TableEncryptionV2.customerManagedKey(this.key) : TableEncryptionV2.dynamoOwnedKey(),
    });
  }

  /** The index ARNs, named one by one rather than `index/*`. */
  get indexArns(): string[] {
    return AUDIT_TABLE_SCHEMA.indexes.map((index) => `${this.table.tableArn}/index/${index.name}`);
  }

  /**
   * Lets `grantee` read, create and update audit items (Query on the table and its two indexes),
   * and denies everything that could delete them.
   */
  grantAppendOnly(grantee: IGrantable): void {
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(new PolicyStatement({ actions: [...AUDIT_ITEM_ACTIONS], resources: [this.table.tableArn] }));
    principal.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: this.indexArns }));
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
