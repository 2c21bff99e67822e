import { AppError, errorName } from '../errors';
import type { LogSink } from '../log';

/** Errors raised by middy's own middlewares (http-errors style), mapped onto the API's error codes (docs/api.md). */
const MIDDY_ERRORS: Record<number, { status: number; code: string; message: string }> = {
  400: { status: 400, code: 'invalid_request', message: 'The request is malformed.' },
  404: { status: 404, code: 'not_found', message: 'No such route.' },
  415: { status: 415, code: 'unsupported_media_type', message: 'The body must be JSON (content-type: application/json).' },
  422: {
    status: 400,
    code: 'invalid_request',
    message: 'The body is not valid JSON, or uses a forbidden key (__proto__, constructor).',
  },
};

export interface ErrorAnswer {
  statusCode: number;
  body: { error: string; message: string; details?: readonly unknown[] };
}

/**
 * The one place where an error becomes an answer, for every transport: the contract's JSON errors,
 * internals never exposed.
 * 4xx are logged as warnings, 5xx as errors, each with the cause's name only.
 */
export function errorAnswer(error: unknown, logger: LogSink): ErrorAnswer {
  if (error instanceof AppError) {
    const log = error.statusCode >= 500 ? logger.error.bind(logger) : logger.warn.bind(logger);
    log('request rejected', { status: error.statusCode, error: error.code, cause: causeNameOf(error.cause) });
    return {
      statusCode: error.statusCode,
      body: {
        error: error.code,
        message: error.expose ? error.message : 'The service could not complete the request; retry later.',
        ...(error.expose && error.details ? { details: error.details } : {}),
      },
    };
  }
  if (error instanceof Error && error.name === 'TimeoutError') {
    // middy answers just before Lambda would kill the invocation: what is recorded stands, the rest is retried.
    logger.error('invocation about to time out');
    return { statusCode: 503, body: { error: 'timeout', message: 'The request took too long; retry later.' } };
  }
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  const known = typeof statusCode === 'number' ? MIDDY_ERRORS[statusCode] : undefined;
  if (known) {
    logger.warn('request rejected', { status: known.status, error: known.code });
    return { statusCode: known.status, body: { error: known.code, message: known.message } };
  }
  logger.error('unexpected failure', { error: causeNameOf(error) });
  return { statusCode: 500, body: { error: 'internal_error', message: 'The service failed; retry later.' } };
}

const causeNameOf = (cause: unknown): string | undefined => (cause === undefined ? undefined : errorName(cause));
