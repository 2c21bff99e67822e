import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { tagged } from '../log';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { publishMetrics } from '../metrics-middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ErasureService } from '../erasure/erasure-service';
import { deadlineWithin } from '../erasure/rules';
import { errorName } from '../errors';
import { decodeRetryMessage } from '../queue/retry-message';

export interface RetryWorkerDeps {
  service: ErasureService;
  logger: Logger;
  metrics: Metrics;
  /** Kept back from the remaining time for recording outcomes and scheduling the next attempt. */
  reserveMs: number;
}

/**
 * The retry worker: one SQS message per erasure, handled by ErasureService.retry. A message that
 * fails is reported in batchItemFailures, so only it comes back; SQS's redrive policy is the backstop.
 */
export function createRetryWorker({ service, logger, metrics, reserveMs }: RetryWorkerDeps) {
  // No early timeout: an invocation that runs out of time ends with its Lambda (the message comes back
  // after the visibility timeout); an early answer would leave its work running on into the next one.
  return middy<SQSEvent, SQSBatchResponse, Error, Context>({ timeoutEarlyInMillis: 0 })
    .use(publishMetrics(metrics))
    .handler((event, context) => {
      const deadline = deadlineWithin(context.getRemainingTimeInMillis(), { reserveMs });
      const handleRecord = async (record: SQSRecord) => {
        const message = decodeRetryMessage(record.body);
        const log = tagged(logger, { erasureId: message.erasureId });
        try {
          const result = await service.retry(message, { deadline }, log);
          log.info('retry handled', { result: result.kind, attempt: message.attempt });
        } catch (error) {
          log.error('retry failed; the message will come back', { error: errorName(error) });
          throw error;
        }
      };
      // A processor per invocation: its state is per batch, and the local queue runs invocations side by side.
      const processor = new BatchProcessor(EventType.SQS);
      return processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false });
    });
}
