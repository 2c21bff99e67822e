import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ErasureService } from '../erasure/erasure-service';
import type { ErasureRecord } from '../erasure/types';
import { InvalidRequestError, NotFoundError, PayloadTooLargeError } from '../errors';
import { parseErasureBody, parseErasureId } from '../http/erasure-body';
import { errorAnswer, loggerForErasure, type ErrorAnswer } from '../http/error-responder';
import { MAX_BODY_BYTES, deadlineFor, newErasureId } from '../http/http-app';
import { publishMetrics } from '../metrics-middleware';

export interface InvokeDeps {
  service: ErasureService;
  logger: Logger;
  metrics: Metrics;
  inlineBudgetMs: number;
  reserveMs: number;
}

/** What a direct invocation returns: the same statuses and bodies as the HTTP API. */
export type InvokeResult = { statusCode: 200 | 202; body: ErasureRecord } | ErrorAnswer;

/**
 * Direct Lambda invocation by a privacy portal inside AWS. The event is the JSON body of
 * `POST /erasures` plus an optional `erasureId` (generated when absent); `{"action": "get",
 * "erasureId": "…"}` reads a record. Same validation, idempotency and audit as the HTTP routes;
 * who may invoke is decided by IAM (lambda:InvokeFunction), and `requestedBy` is the caller's word.
 */
export function createInvokeHandler(deps: InvokeDeps) {
  const { service, logger } = deps;
  return middy<unknown, InvokeResult, Error, Context>()
    .use(publishMetrics(deps.metrics))
    .handler(async (event, context) => {
      try {
        if (typeof event !== 'object' || event === null || Array.isArray(event)) {
          throw new InvalidRequestError('The event must be a JSON object.');
        }
        if (Buffer.byteLength(JSON.stringify(event)) > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
        const { action = 'erase', erasureId: givenId, ...body } = event as Record<string, unknown>;
        if (action === 'get') {
          const record = await service.get(parseErasureId(givenId, 'erasureId'));
          if (!record) throw new NotFoundError();
          return { statusCode: 200, body: record };
        }
        if (action !== 'erase') throw new InvalidRequestError('action must be "erase" (the default) or "get".');
        const erasureId = givenId === undefined ? newErasureId() : parseErasureId(givenId, 'erasureId');
        const input = parseErasureBody(body);
        const log = logger.createChild({ persistentKeys: { erasureId } });
        const record = await service.submit({ erasureId, ...input }, { deadline: deadlineFor(context, deps) }, log);
        log.info('erasure answered', { status: record.status });
        return { statusCode: record.status === 'pending' ? 202 : 200, body: record };
      } catch (error) {
        return errorAnswer(error, loggerForErasure(logger, (event as { erasureId?: unknown } | null)?.erasureId));
      }
    });
}
