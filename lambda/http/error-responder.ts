import { errorAnswer } from '../api/error-answer';
import { loggerForErasure, type LogSink, type RootLogger } from '../log';
import type { HttpEvent, HttpMiddleware } from './http-types';
import { decodedPathParameter, jsonResponse } from './http-types';

/** The HTTP face of errorAnswer. */
export function errorResponder(rootLogger: RootLogger): HttpMiddleware {
  return {
    name: 'errorResponder',
    onError: (request) => {
      const { statusCode, body } = errorAnswer(request.error, loggerFor(rootLogger, request.event));
      request.response = jsonResponse(statusCode, body);
    },
  };
}

/**
 * Rejections carry the erasure id the caller named, when it is well-formed (it may be unverified):
 * the id in the path on a route that has one (a GET, an extension), else on a POST the webhook-id or
 * Idempotency-Key. A subject route or a CRM hook names no erasure: its webhook-id is only a message id.
 */
function loggerFor(root: RootLogger, event: HttpEvent): LogSink {
  if (/^\/(portal\/)?subjects\/|^\/hooks\//.test(event.rawPath ?? '')) return root;
  const inPath = decodedPathParameter(event, 'erasureId');
  const named =
    inPath !== undefined || event.requestContext?.http?.method === 'GET'
      ? inPath
      : (event.headers?.['webhook-id'] ?? event.headers?.['idempotency-key']);
  return loggerForErasure(root, named);
}
