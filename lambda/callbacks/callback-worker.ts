import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { tagged } from '../log';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { errorName } from '../errors';
import { publishMetrics } from '../metrics-middleware';
import { decodeCallbackMessage } from './callback-message';
import type { CallbackDelivery } from './callback-delivery';

export interface CallbackWorkerDeps {
  delivery: CallbackDelivery;
  logger: Logger;
  metrics: Metrics;
}

/**
 * The callback delivery function: one SQS message per callback event. A message whose handling
 * throws is reported in batchItemFailures, so only it comes back; the queue's redrive policy is the backstop.
 */
export function createCallbackWorker({ delivery, logger, metrics }: CallbackWorkerDeps) {
  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(publishMetrics(metrics))
    .handler((event, context) => {
      const handleRecord = async (record: SQSRecord) => {
        const message = decodeCallbackMessage(record.body);
        const log = tagged(logger, { erasureId: message.erasureId });
        try {
          const result = await delivery.deliver(message, log);
          log.info('callback handled', { result: result.kind, attempt: message.attempt });
        } catch (error) {
          log.error('callback failed; the message will come back', { error: errorName(error) });
          throw error;
        }
      };
      const processor = new BatchProcessor(EventType.SQS);
      return processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false });
    });
}
