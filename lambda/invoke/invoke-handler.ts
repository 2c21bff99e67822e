import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { newErasureId, type ErasureApi } from '../api/erasure-api';
import { parseErasureBody, parseErasureId } from '../api/erasure-body';
import { errorAnswer, type ErrorAnswer } from '../api/error-answer';
import { MAX_BODY_BYTES } from '../erasure/rules';
import type { ErasureRecord } from '../erasure/types';
import { InvalidRequestError, PayloadTooLargeError } from '../errors';
import { loggerForErasure } from '../log';
import { publishMetrics } from '../metrics-middleware';

export interface InvokeDeps {
  api: ErasureApi;
  logger: Logger;
  metrics: Metrics;
}

/** What a direct invocation returns: the same statuses and bodies as the HTTP API. */
export type InvokeResult = { statusCode: 200 | 202; body: ErasureRecord } | ErrorAnswer;

/**
 * Direct Lambda invocation by a privacy portal inside AWS. The event is the JSON body of
 * `POST /erasures` plus an optional `erasureId` (generated when absent); `{"action": "get",
 * "erasureId": "…"}` reads a record. Same validation, idempotency and audit as the HTTP routes;
 * who may invoke is decided by IAM (lambda:InvokeFunction), and `requestedBy` is the caller's word.
 */
export function createInvokeHandler({ api, logger, metrics }: InvokeDeps) {
  return middy<unknown, InvokeResult, Error, Context>()
    .use(publishMetrics(metrics))
    .handler(async (event, context) => {
      try {
        if (typeof event !== 'object' || event === null || Array.isArray(event)) {
          throw new InvalidRequestError('The event must be a JSON object.');
        }
        if (Buffer.byteLength(JSON.stringify(event)) > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
        const { action = 'erase', erasureId: givenId, ...body } = event as Record<string, unknown>;
        if (action === 'get') return { statusCode: 200, body: await api.read(parseErasureId(givenId, 'erasureId')) };
        if (action !== 'erase') throw new InvalidRequestError('action must be "erase" (the default) or "get".');
        const erasureId = givenId === undefined ? newErasureId() : parseErasureId(givenId, 'erasureId');
        const { statusCode, record } = await api.submit(
          { erasureId, body: parseErasureBody(body) },
          context.getRemainingTimeInMillis(),
        );
        return { statusCode, body: record };
      } catch (error) {
        return errorAnswer(error, loggerForErasure(logger, (event as { erasureId?: unknown } | null)?.erasureId));
      }
    });
}
