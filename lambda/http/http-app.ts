import middy from '@middy/core';
import { publishMetrics } from '../metrics-middleware';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpRouterHandler from '@middy/http-router';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { newErasureId, type ErasureAnswer, type ErasureApi } from '../api/erasure-api';
import { parseErasureBody, parseErasureId, type ErasureBody } from '../api/erasure-body';
import type { CertificateIssuer } from '../certificate/certificate-issuer';
import { CERTIFICATE_HTML_CSP, certificateHtml } from '../certificate/certificate-html';
import { parseExtensionBody } from '../api/extension-body';
import { MAX_BODY_BYTES } from '../erasure/rules';
import { loggerForErasure } from '../log';
import { InvalidRequestError } from '../errors';
import { bodyGuard, utf8Body } from './body-guard';
import { iamPrincipal, requireIamCaller } from './iam-caller';
import { errorResponder } from './error-responder';
import type { HttpEvent, HttpResult } from './http-types';
import { decodedPathParameter, jsonResponse } from './http-types';
import { signatureCheck } from './signature-check';
import type { WebhookVerifier } from './webhook-signature';
import type { SubjectApi } from '../subjects/subject-api';
import type { CrmAdapter } from '../crm/crm-adapter';
import { crmSignatureCheck, receiveCrmBatch } from '../crm/crm-hooks';
import { subjectInPath } from './subject-path';

export interface HttpAppDeps {
  api: ErasureApi;
  certificates: CertificateIssuer;
  verifier: WebhookVerifier;
  logger: Logger;
  metrics: Metrics;
  /** Subject links (`/subjects/…`). */
  subjects: SubjectApi;
  /** The CRMs with a hook (`POST /hooks/{name}`), and the public URL each one calls when one is configured. */
  crmHooks: readonly { adapter: CrmAdapter; publicUrl?: string }[];
}

/** 200 when every person is terminal, else 202 with where to look. */
export function recordResponse({ statusCode, record }: ErasureAnswer, basePath = '/erasures'): HttpResult {
  if (statusCode === 200) return jsonResponse(200, record);
  return jsonResponse(202, record, { location: `${basePath}/${encodeURIComponent(record.erasureId)}` });
}

/**
 * The HTTP API (API Gateway, payload v2). Webhook routes `POST /erasures`, `GET /erasures/{erasureId}`
 * and `POST /erasures/{erasureId}/extension` are signed with Standard Webhooks (the GET over its
 * request line `GET {path}`, the extension over its request line and body); portal routes under
 * `/portal/erasures` are IAM-authorized by API Gateway, the caller's principal recorded as
 * `requestedBy` and the `Idempotency-Key` header giving the erasure id.
 */
export function createHttpApp(deps: HttpAppDeps) {
  const { api, verifier, logger } = deps;
  const route = () => middy<HttpEvent, HttpResult, Error, Context>();

  // API Gateway's id of the call is kept with the request, so an auditor can match it against the access log.
  const submit = async (event: HttpEvent, erasureId: string, body: ErasureBody, context: Context, basePath?: string) =>
    recordResponse(
      await api.submit({ erasureId, body, apiRequestId: event.requestContext?.requestId }, context.getRemainingTimeInMillis()),
      basePath,
    );
  const read = async (event: HttpEvent) => jsonResponse(200, await api.read(erasureIdInPath(event)));
  // One signed model, two renderings: JSON unless the caller prefers HTML (Accept: text/html).
  const certificate = async (event: HttpEvent): Promise<HttpResult> => {
    const erasureId = erasureIdInPath(event);
    const signed = await deps.certificates.issue(erasureId);
    const html = prefersHtml(event.headers.accept);
    loggerForErasure(logger, erasureId).info('certificate issued', { status: signed.certificate.erasure.status, html });
    if (!html) return jsonResponse(200, signed, { vary: 'accept' });
    return {
      statusCode: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        vary: 'accept',
        'content-security-policy': CERTIFICATE_HTML_CSP,
        'x-content-type-options': 'nosniff',
      },
      body: certificateHtml(signed),
    };
  };
  const extend = async (event: HttpEvent) =>
    jsonResponse(200, await api.extend(erasureIdInPath(event), parseExtensionBody(event.body as unknown)));
  const jsonBody = () => [utf8Body(), httpJsonBodyParser<HttpEvent>({ disableContentTypeCheck: true })];

  // A link is made with an empty body: what it says is all in its path (signed in its request line).
  const link = async (event: HttpEvent): Promise<HttpResult> => {
    if (event.body !== undefined && event.body !== '') throw new InvalidRequestError('A subject link takes no body.');
    const { subject, personId } = subjectInPath(event);
    const { created, view } = await deps.subjects.link(subject, personId!);
    return jsonResponse(created ? 201 : 200, view);
  };
  // Signed like an extension, over its request line and its (empty) body: a captured link cannot name another subject or person.
  const signedLink = route()
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: false }))
    .use(signatureCheck(verifier, { signs: 'requestLineAndBody' }))
    .handler(link);
  const readSubject = async (event: HttpEvent) => jsonResponse(200, await deps.subjects.read(subjectInPath(event).subject));
  const crmHook = ({ adapter, publicUrl }: HttpAppDeps['crmHooks'][number]) =>
    route()
      .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: true }))
      .use(crmSignatureCheck(adapter, publicUrl))
      .use(jsonBody())
      .handler((event) => receiveCrmBatch(adapter, api, event));

  const webhookPost = route()
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: true }))
    .use(signatureCheck(verifier, { signs: 'body' }))
    .use(jsonBody())
    .handler((event, context) =>
      submit(event, parseErasureId(event.headers['webhook-id'], 'webhook-id'), parseErasureBody(event.body as unknown), context),
    );

  // Every GET: signed over its request line (webhook), or IAM-authorized (portal; a subject link's PUT too).
  type GetHandler = (event: HttpEvent) => Promise<HttpResult>;
  const signedGet = (handler: GetHandler) =>
    route()
      .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: false }))
      .use(signatureCheck(verifier, { signs: 'requestLine' }))
      .handler(handler);
  const portalGetRoute = (handler: GetHandler) =>
    route()
      .use(requireIamCaller())
      .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: false }))
      .handler(handler);

  const portalPost = route()
    .use(requireIamCaller())
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: true }))
    .use(jsonBody())
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

  // The signature covers the path too: a captured extension cannot be replayed on another erasure.
  const webhookExtension = route()
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: true }))
    .use(signatureCheck(verifier, { signs: 'requestLineAndBody' }))
    .use(jsonBody())
    .handler(extend);

  const portalExtension = route()
    .use(requireIamCaller())
    .use(bodyGuard({ maxBytes: MAX_BODY_BYTES, requireJson: true }))
    .use(jsonBody())
    .handler(extend);

  return route()
    .use(publishMetrics(deps.metrics))
    .use(httpHeaderNormalizer())
    .use(errorResponder(logger))
    .handler(
      httpRouterHandler<HttpEvent, HttpResult>([
        { method: 'POST', path: '/erasures', handler: webhookPost },
        { method: 'GET', path: '/erasures/{erasureId}', handler: signedGet(read) },
        { method: 'POST', path: '/portal/erasures', handler: portalPost },
        { method: 'GET', path: '/portal/erasures/{erasureId}', handler: portalGetRoute(read) },
        { method: 'GET', path: '/erasures/{erasureId}/certificate', handler: signedGet(certificate) },
        { method: 'GET', path: '/portal/erasures/{erasureId}/certificate', handler: portalGetRoute(certificate) },
        { method: 'POST', path: '/erasures/{erasureId}/extension', handler: webhookExtension },
        { method: 'POST', path: '/portal/erasures/{erasureId}/extension', handler: portalExtension },
        { method: 'PUT', path: '/subjects/{source}/{subjectId}/persons/{personId}', handler: signedLink },
        { method: 'GET', path: '/subjects/{source}/{subjectId}', handler: signedGet(readSubject) },
        { method: 'PUT', path: '/portal/subjects/{source}/{subjectId}/persons/{personId}', handler: portalGetRoute(link) },
        { method: 'GET', path: '/portal/subjects/{source}/{subjectId}', handler: portalGetRoute(readSubject) },
        ...deps.crmHooks.map((hook) => ({
          method: 'POST' as const,
          path: `/hooks/${hook.adapter.name}`,
          handler: crmHook(hook),
        })),
      ]),
    );
}

/**
 * Whether an Accept header prefers text/html to JSON: the higher quality wins, JSON on a tie or
 * when neither is named (JSON is the default form).
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const quality = { html: -1, json: -1 };
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    if (!Number.isFinite(value)) continue;
    if (type === 'text/html') quality.html = Math.max(quality.html, value);
    if (type === 'application/json' || type === '*/*' || type === 'application/*') quality.json = Math.max(quality.json, value);
  }
  return quality.html > 0 && quality.html > quality.json;
}

/** The erasure id in the path; a malformed percent-encoding is a 400. */
function erasureIdInPath(event: HttpEvent): string {
  const decoded = decodedPathParameter(event, 'erasureId');
  if (decoded === null) throw new InvalidRequestError('The erasureId in the path is not valid percent-encoding.');
  return parseErasureId(decoded, 'the erasure id');
}
