import type { ErasureBody } from '../api/erasure-body';

/** A CRM's webhook call as the hook sees it, before anything in it is trusted. */
export interface CrmRequest {
  method: string;
  /** The full URI the CRM called, as it saw it (scheme, host, path, query). */
  uri: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** The body's exact bytes. */
  rawBody: Buffer;
}

/** One erasure a CRM's batch asks for: the id all its deliveries meet in, and what to erase. */
export interface CrmErasure {
  erasureId: string;
  /** An erasure by subject: `{ personIds: [], subject: { source, id }, … }`. */
  body: ErasureBody;
  /** The CRM's name of the event, for the log. */
  eventType: string;
}

/**
 * What one CRM needs to send erasures: its signature check and its event-to-erasure mapping. A new
 * CRM is one file implementing this, listed in lambda/crm/crm-hooks.ts; the route, the recording
 * and the answers are shared.
 */
export interface CrmAdapter {
  /** The route is `POST /hooks/{name}`; subjects it names have this `source`. */
  readonly name: string;
  /** Throws InvalidSignatureError (401) unless the CRM signed this request, within its time window. */
  verify(request: CrmRequest): Promise<void>;
  /**
   * The erasures a verified body asks for; events of other types are counted in `ignored`. Throws
   * InvalidRequestError (400) for a body that is not a batch of this CRM's events: then nothing is recorded.
   */
  erasures(body: unknown): { erasures: CrmErasure[]; ignored: number };
}
