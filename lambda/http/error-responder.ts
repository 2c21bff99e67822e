import { AppError } from '../errors';
import type { LogSink } from '../log';
import { ERASURE_ID_PATTERN } from './erasure-body';
import type { HttpMiddleware } from './http-types';
import { jsonResponse } from './http-types';


/** Errors raised by middy's own middlewares (http-errors style), mapped onto design.md's codes. */
const MIDDY_ERRORS: Record<number, { status: number; code: string; message: string }> = {
  400: { status: 400, code: 'invalid_request', message: 'The request is malformed.' },
  404: { status: 404, code: 'not_found', message: 'No such route.' },
  415: { status: 415, code: 'unsupported_media_type', message: 'The body must be JSON (content-type: application/json).' },
  422: { status: 400, code: 'invalid_request', message: 'The body is not valid JSON.' },
};

/**
 * The one place where an error becomes a response: design.md's JSON errors, internals never exposed.
 * 4xx are logged as warnings without their cause; 5xx as errors with the cause's name only.
 */
export function errorResponder(rootLogger: LogSink & { createChild(o: { persistentKeys: Record<string, string> }): LogSink }): HttpMiddleware {
  return {
    name: 'errorResponder',
    onError: (request) => {
      const error = request.error;
      const logger = loggerFor(rootLogger, request.event);
      if (error instanceof AppError) {
        const log = error.statusCode >= 500 ? logger.error.bind(logger) : logger.warn.bind(logger);
        log('request rejected', { status: error.statusCode, error: error.code, cause: causeName(error.cause) });
        request.response = jsonResponse(error.statusCode, {
          error: error.code,
          message: error.expose ? error.message : 'The service could not complete the request; retry later.',
          ...(error.expose && error.details ? { details: error.details } : {}),
        });
        return;
      }
      if (error?.name === 'TimeoutError') {
        // middy answers just before Lambda would kill the invocation: what is recorded stands, the rest is retried.
        logger.error('invocation about to time out');
        request.response = jsonResponse(503, { error: 'timeout', message: 'The request took too long; retry later.' });
        return;
      }
      const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
      const known = typeof statusCode === 'number' ? MIDDY_ERRORS[statusCode] : undefined;
      if (known) {
        logger.warn('request rejected', { status: known.status, error: known.code });
        request.response = jsonResponse(known.status, { error: known.code, message: known.message });
        return;
      }
      logger.error('unexpected failure', { error: causeName(error) });
      request.response = jsonResponse(500, { error: 'internal_error', message: 'The service failed; retry later.' });
    },
  };
}

/** Rejections carry the erasure id the caller named, when it is well-formed (it may be unverified). */
function loggerFor(
  root: LogSink & { createChild(o: { persistentKeys: Record<string, string> }): LogSink },
  event: { headers?: Record<string, string | undefined>; pathParameters?: Record<string, string | undefined> },
): LogSink {
  const named = event.headers?.['webhook-id'] ?? event.pathParameters?.erasureId;
  return named && ERASURE_ID_PATTERN.test(named) ? root.createChild({ persistentKeys: { erasureId: named } }) : root;
}

const causeName = (cause: unknown): string | undefined => (cause instanceof Error ? cause.name : undefined);
