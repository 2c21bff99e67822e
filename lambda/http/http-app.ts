import { randomUUID } from 'node:crypto';
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
import { InvalidRequestError, NotFoundError } from '../errors';
import { bodyGuard, utf8Body } from './body-guard';
import { parseErasureBody, parseErasureId, type ErasureBody } from './erasure-body';
import { iamPrincipal, requireIamCaller } from './iam-caller';
import { errorResponder } from './error-responder';
import type { HttpEvent, HttpResult } from './http-types';
import { decodedPathParameter, jsonResponse } from './http-types';
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
export const deadlineFor = (
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  { inlineBudgetMs, reserveMs }: Pick<HttpAppDeps, 'inlineBudgetMs' | 'reserveMs'>,
) => Date.now() + Math.max(0, Math.min(inlineBudgetMs, context.getRemainingTimeInMillis() - reserveMs));

/** 200 when every person is terminal, else 202 with where to look. */
export function recordResponse(record: ErasureRecord, basePath = '/erasures'): HttpResult {
  if (record.status !== 'pending') return jsonResponse(200, record);
  return jsonResponse(202, record, { location: `${basePath}/${encodeURIComponent(record.erasureId)}` });
}

/**
 * The HTTP API (API Gateway, payload v2). Webhook routes `POST /erasures` and
 * `GET /erasures/{erasureId}` are signed with Standard Webhooks (the GET over its request line
 * `GET {path}`); portal routes `POST /portal/erasures` and `GET /portal/erasures/{erasureId}` are
 * IAM-authorized by API Gateway, the caller's principal recorded as `requestedBy` and the
 * `Idempotency-Key` header giving the erasure id.
 */
export function createHttpApp(deps: HttpAppDeps) {
  const { service, verifier, logger } = deps;
  const route = () => middy<HttpEvent, HttpResult, Error, Context>();

  const submit = async (event: HttpEvent, erasureId: string, body: ErasureBody, context: Context, basePath?: string) => {
    const log = logger.createChild({ persistentKeys: { erasureId } });
    // API Gateway's id of this call, so an auditor can match the record against the access log.
    const apiRequestId = event.requestContext?.requestId;
    const record = await service.submit({ erasureId, ...body, apiRequestId }, { deadline: deadlineFor(context, deps) }, log);
    log.info('erasure answered', { status: record.status });
    return recordResponse(record, basePath);
  };
  const read = async (event: HttpEvent) => {
    const record = await service.get(erasureIdInPath(event));
    if (!record) throw new NotFoundError();
    return jsonResponse(200, record);
  };

  const webhookPost = route()
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: true }))
    .use(signatureCheck(verifier, { signs: 'body' }))
    .use(utf8Body())
    .use(httpJsonBodyParser({ disableContentTypeCheck: true }))
    .handler((event, context) =>
      submit(event, parseErasureId(event.headers['webhook-id'], 'webhook-id'), parseErasureBody(event.body as unknown), context),
    );

  const webhookGet = route()
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: false }))
    .use(signatureCheck(verifier, { signs: 'requestLine' }))
    .handler(read);

  const portalPost = route()
    .use(requireIamCaller())
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: true }))
    .use(utf8Body())
    .use(httpJsonBodyParser({ disableContentTypeCheck: true }))
    .handler((event, context) => {
      const key = event.headers['idempotency-key'];
      const erasureId = key === undefined ? newErasureId() : parseErasureId(key, 'Idempotency-Key');
      // The principal is who asked: a portal cannot name someone else as requestedBy.
      return submit(
        event,
        erasureId,
        { ...parseErasureBody(event.body as unknown), requestedBy: iamPrincipal(event) },
        context,
        '/portal/erasures',
      );
    });

  const portalGet = route()
    .use(requireIamCaller())
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: false }))
    .handler(read);

  return route()
    .use(publishMetrics(deps.metrics))
    .use(httpHeaderNormalizer())
    .use(errorResponder(logger))
    .handler(
      httpRouterHandler<HttpEvent, HttpResult>([
        { method: 'POST', path: '/erasures', handler: webhookPost },
        { method: 'GET', path: '/erasures/{erasureId}', handler: webhookGet },
        { method: 'POST', path: '/portal/erasures', handler: portalPost },
        { method: 'GET', path: '/portal/erasures/{erasureId}', handler: portalGet },
      ]),
    );
}

/** The erasure id in the path; a malformed percent-encoding is a 400. */
function erasureIdInPath(event: HttpEvent): string {
  const decoded = decodedPathParameter(event, 'erasureId');
  if (decoded === null) throw new InvalidRequestError('The erasureId in the path is not valid percent-encoding.');
  return parseErasureId(decoded, 'the erasure id');
}

/** An erasure id for a caller that gave none. */
export const newErasureId = () => `erasure_${randomUUID()}`;
