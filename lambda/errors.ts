/**
 * The one error hierarchy of the service. `expose` says whether `message` may reach a caller;
 * the HTTP error handler is the only place that turns these into responses.
 */
export class AppError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly expose: boolean;
  readonly details?: readonly unknown[];

  constructor(
    statusCode: number,
    code: string,
    message: string,
    options: { cause?: unknown; details?: readonly unknown[] } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.statusCode = statusCode;
    this.code = code;
    this.expose = statusCode < 500;
    this.details = options.details;
  }
}

/** The body, a header or a path parameter does not satisfy the contract. */
export class InvalidRequestError extends AppError {
  constructor(message: string, details?: readonly unknown[]) {
    super(400, 'invalid_request', message, { details });
  }
}

/** Missing, wrong, expired or future-dated webhook signature. Says nothing more on purpose. */
export class InvalidSignatureError extends AppError {
  constructor(cause?: unknown) {
    super(401, 'invalid_signature', 'The webhook signature is missing, invalid or outside the allowed time window.', {
      cause,
    });
  }
}

/** A portal route reached without the IAM identity API Gateway attaches: refused, not guessed. */
export class ForbiddenError extends AppError {
  constructor() {
    super(403, 'forbidden', 'This route needs an IAM-signed call through API Gateway.');
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'No such erasure.') {
    super(404, 'not_found', message);
  }
}

/** The erasure id was seen before with a different request. */
export class IdempotencyConflictError extends AppError {
  constructor(erasureId: string) {
    super(409, 'idempotency_conflict', `Erasure ${erasureId} was already received with a different request.`);
  }
}

/** The erasure's due date cannot be extended: it was extended already, or its due date has passed. */
export class ExtensionRefusedError extends AppError {
  constructor(code: 'already_extended' | 'past_due', message: string) {
    super(409, code, message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', `The body is larger than ${limitBytes} bytes.`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor() {
    super(415, 'unsupported_media_type', 'The body must be JSON (content-type: application/json).');
  }
}

/** The audit store could not durably record or read; the caller should retry. */
export class StorageUnavailableError extends AppError {
  constructor(cause: unknown) {
    super(503, 'storage_unavailable', 'The erasure could not be recorded durably; retry later.', { cause });
  }
}

/** The function's configuration is missing or malformed: it fails its cold start, before any request. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** A secret could not be read; the caller should retry. Says which, never its value. */
export class SecretUnavailableError extends AppError {
  constructor(name: string, cause?: unknown) {
    super(503, 'service_unavailable', `The service is not configured or its secrets cannot be read (${name}); retry later.`, {
      cause,
    });
  }
}

/** The name of an error (or what was thrown), fit for a log line: never its message, which may carry data. */
export const errorName = (error: unknown): string => (error instanceof Error ? error.name : typeof error);

/** A certificate was asked for an erasure that still has persons pending: only a final outcome is certified. */
export class ErasurePendingError extends AppError {
  constructor(erasureId: string) {
    super(
      409,
      'erasure_pending',
      `Erasure ${erasureId} is still pending: a certificate is issued once every person has a final outcome. Read GET /erasures/{erasureId} for its progress.`,
    );
  }
}

/** The certificate key or the controller's name is not configured, or the key could not sign; says which setting, never a value. */
export class CertificateUnavailableError extends AppError {
  constructor(reason: string, cause?: unknown) {
    super(503, 'certificate_unavailable', `No certificate can be issued now: ${reason}`, { cause });
  }
}

/** A subject already has as many linked persons as one erasure can take: a further link is refused. */
export class SubjectLinkLimitError extends AppError {
  constructor(limit: number) {
    super(409, 'subject_link_limit', `This subject has ${limit} linked persons already, as many as one erasure takes.`);
  }
}
