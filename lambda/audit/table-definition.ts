import { INDEX_BY_PERSON, INDEX_BY_TIME } from './keys';

/**
 * The audit table's keys and indexes, shared by the CDK stack and the local stack so both build
 * the same table.
 */
export const AUDIT_TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    { name: INDEX_BY_TIME, partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { name: INDEX_BY_PERSON, partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
} as const;
