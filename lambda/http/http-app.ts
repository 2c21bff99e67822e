import middy from '@middy/core';
import { publishMetrics } from '../metrics-middleware';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpRouterHandler from '@middy/http-router';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { ErasureService } from '../erasure/erasure-service';
import type { ErasureRecord } from '../erasure/types';
import { NotFoundError } from '../errors';
import { bodyGuard } from './body-guard';
import { parseErasureBody, parseErasureId } from './erasure-body';
import { errorResponder } from './error-responder';
import type { HttpEvent, HttpResult } from './http-types';
import { jsonResponse } from './http-types';
import { signatureCheck } from './signature-check';
import type { WebhookVerifier } from './webhook-signature';

export const MAX_BODY_BYTES = 64 * 1024;

export interface HttpAppDeps {
  service: ErasureService;
  verifier: WebhookVerifier;
  logger: Logger;
  metrics: Metrics;
  /** Longest time spent calling Verifik inside one request, and what is kept back for recording. */
  inlineBudgetMs: number;
  reserveMs: number;
}

/** The deadline for Verifik calls in this invocation. */
export const deadlineFor = (context: Pick<Context, 'getRemainingTimeInMillis'>, { inlineBudgetMs, reserveMs }: HttpAppDeps) =>
  Date.now() + Math.max(0, Math.min(inlineBudgetMs, context.getRemainingTimeInMillis() - reserveMs));

/** 200 when every person is terminal, else 202 with where to look. */
export function recordResponse(record: ErasureRecord): HttpResult {
  if (record.status !== 'pending') return jsonResponse(200, record);
  return jsonResponse(202, record, { location: `/erasures/${encodeURIComponent(record.erasureId)}` });
}

/**
 * The webhook API (API Gateway HTTP API, payload v2): `POST /erasures` and `GET /erasures/{erasureId}`,
 * both signed with Standard Webhooks.
 */
export function createHttpApp(deps: HttpAppDeps) {
  const { service, verifier, logger } = deps;

  const postErasure = middy<HttpEvent, HttpResult, Error, Context>()
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: true }))
    .use(signatureCheck(verifier, { signedBody: true }))
    .use(httpJsonBodyParser({ disableContentTypeCheck: true }))
    .handler(async (event, context) => {
      const erasureId = parseErasureId(event.headers['webhook-id'], 'webhook-id');
      const body = parseErasureBody(event.body as unknown);
      const log = logger.createChild({ persistentKeys: { erasureId } });
      const record = await service.submit({ erasureId, ...body }, { deadline: deadlineFor(context, deps) }, log);
      log.info('erasure answered', { status: record.status });
      return recordResponse(record);
    });

  const getErasure = middy<HttpEvent, HttpResult, Error, Context>()
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: false }))
    .use(signatureCheck(verifier, { signedBody: false }))
    .handler(async (event) => {
      const erasureId = parseErasureId(event.pathParameters?.erasureId, 'the erasure id');
      const record = await service.get(erasureId);
      if (!record) throw new NotFoundError();
      return jsonResponse(200, record);
    });

  return middy<HttpEvent, HttpResult, Error, Context>()
    .use(publishMetrics(deps.metrics))
    .use(httpHeaderNormalizer())
    .use(errorResponder(logger))
    .handler(
      httpRouterHandler<HttpEvent, HttpResult>([
        { method: 'POST', path: '/erasures', handler: postErasure },
        { method: 'GET', path: '/erasures/{erasureId}', handler: getErasure },
      ]),
    );
}
