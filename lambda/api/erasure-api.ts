import { randomUUID } from 'node:crypto';
import { CallbackUrlPolicy } from '../callbacks/callback-url';
import type { ErasureService } from '../erasure/erasure-service';
import { deadlineWithin } from '../erasure/rules';
import type { ErasureRecord } from '../erasure/types';
import { NotFoundError } from '../errors';
import { tagged, type RootLogger } from '../log';
import type { ErasureBody } from './erasure-body';
import type { ExtensionBody } from './extension-body';

export interface ErasureApiDeps {
  service: ErasureService;
  logger: RootLogger;
  /** Longest time spent calling Verifik inside one request, and what is kept back for recording. */
  inlineBudgetMs: number;
  reserveMs: number;
  /** The operator's callback allowlist; absent: no callbackUrl is accepted. */
  callbackUrls?: CallbackUrlPolicy;
}

/** An accepted erasure: 200 when every person is terminal, 202 while some are still being retried. */
export interface ErasureAnswer {
  statusCode: 200 | 202;
  record: ErasureRecord;
}

export interface SubmitRequest {
  erasureId: string;
  body: ErasureBody;
  /** API Gateway's request id, for matching the access log (HTTP callers only). */
  apiRequestId?: string;
}

/**
 * What every caller of the service does, whatever the transport (HTTP API, direct invocation):
 * submit within the invocation's time, log the answer under the erasure id, read a record.
 */
export function createErasureApi({
  service,
  logger,
  inlineBudgetMs,
  reserveMs,
  callbackUrls = new CallbackUrlPolicy([]),
}: ErasureApiDeps) {
  return {
    async submit({ erasureId, body: given, apiRequestId }: SubmitRequest, remainingMs: number): Promise<ErasureAnswer> {
      // Refused before anything is recorded or sent: only an allowlisted URL is ever kept or called.
      const body = given.callbackUrl === undefined ? given : { ...given, callbackUrl: callbackUrls.check(given.callbackUrl) };
      const log = tagged(logger, { erasureId });
      const deadline = deadlineWithin(remainingMs, { inlineBudgetMs, reserveMs });
      const record = await service.submit({ erasureId, ...body, apiRequestId }, { deadline }, log);
      log.info('erasure answered', { status: record.status });
      return { statusCode: record.status === 'pending' ? 202 : 200, record };
    },

    /**
     * Records the erasure and leaves its persons to the retry path, without calling Verifik: for a
     * CRM hook, which must answer within seconds.
     */
    async record({ erasureId, body, apiRequestId }: SubmitRequest, detail: Record<string, string> = {}): Promise<ErasureRecord> {
      const log = tagged(logger, { erasureId });
      const record = await service.record({ erasureId, ...body, apiRequestId }, log);
      log.info('erasure recorded for the retry path', { status: record.status, ...detail });
      return record;
    },

    /** The erasure's one extension of its due date; the record as it then stands. */
    async extend(erasureId: string, body: ExtensionBody): Promise<ErasureRecord> {
      const log = tagged(logger, { erasureId });
      return service.extend(erasureId, body, log);
    },

    async read(erasureId: string): Promise<ErasureRecord> {
      const record = await service.get(erasureId);
      if (!record) throw new NotFoundError();
      return record;
    },
  };
}

export type ErasureApi = ReturnType<typeof createErasureApi>;

/** An erasure id for a caller that gave none. */
export const newErasureId = () => `erasure_${randomUUID()}`;
