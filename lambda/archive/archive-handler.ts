import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { Archiver } from './archiver';
import type { ArchiveMetrics } from './ports';

/** What the hourly schedule sends (the EventBridge rule's fixed input). */
export interface DigestEvent {
  action: 'digest';
}
export type ArchiverEvent = DynamoDBStreamEvent | DigestEvent;

export interface ArchiveHandlerDeps {
  archiver: Archiver;
  logger: Logger;
  metrics: Metrics;
}

const isDigest = (event: ArchiverEvent): event is DigestEvent => (event as DigestEvent).action === 'digest';

/**
 * The archiver's entry: a batch of stream records becomes one archive batch, the schedule's event
 * an hourly digest. Any failure fails the whole invocation, so Lambda retries the same records in
 * order (and, after its retries, hands their description to the dead-letter queue and its alarm).
 */
export function createArchiveHandler({ archiver, logger, metrics }: ArchiveHandlerDeps) {
  return async (event: ArchiverEvent): Promise<void> => {
    try {
      if (isDigest(event)) await archiver.digest();
      else await archiver.archive(event.Records ?? []);
    } catch (error) {
      logger.error('archiving failed', { error: error as Error });
      throw error;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** The archive's counters as embedded-metric-format metrics. */
export const archiveMetricsIn = (metrics: Metrics): ArchiveMetrics => ({
  count: (name, value) => {
    if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
  },
});
