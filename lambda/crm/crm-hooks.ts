import pMap from 'p-map';
import type { ErasureApi } from '../api/erasure-api';
import { rawBodyOf } from '../http/body-guard';
import type { HttpEvent, HttpMiddleware, HttpResult } from '../http/http-types';
import { jsonResponse } from '../http/http-types';
import type { CrmAdapter, CrmErasure } from './crm-adapter';

/**
 * The URI a CRM called, as it saw it: the configured public URL of the hook when there is one (a
 * custom domain or a proxy in front), else API Gateway's https URL of this request.
 */
export function publicUri(event: HttpEvent, configuredUrl: string | undefined): string {
  if (configuredUrl) return configuredUrl;
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  return `https://${event.requestContext.domainName}${event.rawPath}${query}`;
}

/** Rejects the request (401) unless the CRM signed it; runs after bodyGuard, which keeps the bytes. */
export function crmSignatureCheck(adapter: CrmAdapter, configuredUrl: string | undefined): HttpMiddleware {
  return {
    name: 'crmSignatureCheck',
    before: async ({ event, internal }) => {
      await adapter.verify({
        method: event.requestContext.http.method,
        uri: publicUri(event, configuredUrl),
        headers: event.headers ?? {},
        rawBody: rawBodyOf(internal),
      });
    },
  };
}

/**
 * A verified batch: every erasure it asks for recorded for the retry path (Verifik is not called
 * here: the CRM waits a few seconds at most), then one 200 naming them. Events of one batch for the
 * same erasure (both deletion events of a contact, a repeat) are recorded once. Any failure to
 * record is a 5xx: the CRM delivers the batch again and every erasure meets its earlier record.
 */
export async function receiveCrmBatch(adapter: CrmAdapter, api: ErasureApi, event: HttpEvent): Promise<HttpResult> {
  const { erasures, ignored } = adapter.erasures(event.body as unknown);
  const unique = new Map<string, CrmErasure>();
  for (const erasure of erasures) if (!unique.has(erasure.erasureId)) unique.set(erasure.erasureId, erasure);
  const recorded = await pMap(
    unique.values(),
    async ({ erasureId, body, eventType }) => {
      const record = await api.record({ erasureId, body, apiRequestId: event.requestContext?.requestId }, { eventType });
      return { erasureId, status: record.status };
    },
    { concurrency: 8 },
  );
  return jsonResponse(200, { erasures: recorded, ignored });
}
