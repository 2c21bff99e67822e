import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { schemaViolation } from '../api/erasure-body';
import { InvalidRequestError, InvalidSignatureError } from '../errors';
import type { CrmAdapter, CrmErasure, CrmRequest } from './crm-adapter';

/** HubSpot refuses nothing older; we refuse a request signed more than 5 minutes before (or after) now. */
const TOLERANCE_MS = 5 * 60 * 1000;

/**
 * The characters HubSpot's v3 signature has decoded in the URI (HubSpot's "Validating requests"):
 * only these, everything else stays as sent.
 */
const DECODED_IN_URI: Readonly<Record<string, string>> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

/** The URI as HubSpot's v3 signature covers it. */
export const hubSpotSignedUri = (uri: string): string =>
  uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (escape) => DECODED_IN_URI[escape.toUpperCase()]!);

/** The v3 signature of a request: base64 HMAC-SHA256, keyed with the app's client secret, over method + URI + body + timestamp. */
export function hubSpotSignatureV3(
  clientSecret: string,
  request: { method: string; uri: string; rawBody: Buffer; timestamp: string },
): string {
  return createHmac('sha256', clientSecret)
    .update(
      Buffer.concat([
        Buffer.from(`${request.method}${hubSpotSignedUri(request.uri)}`, 'utf8'),
        request.rawBody,
        Buffer.from(request.timestamp, 'utf8'),
      ]),
    )
    .digest('base64');
}

/** The subscription types that ask for an erasure; `contact.deletion` only when the operator turns it on. */
const PRIVACY_DELETION = 'contact.privacyDeletion';
const DELETION = 'contact.deletion';

const hubSpotId = z.int().positive();
const batch = z
  .array(z.looseObject({ subscriptionType: z.string().max(128) }), { error: 'the body must be an array of HubSpot events' })
  .min(1, 'the batch holds no event');
const deletionEvent = z.looseObject({ subscriptionType: z.string(), portalId: hubSpotId, objectId: hubSpotId });

export interface HubSpotOptions {
  /** The app's client secret (Secrets Manager in the cloud, the environment locally), read when needed. */
  clientSecret(): Promise<string>;
  /** Whether `contact.deletion` (any deletion, not only a privacy deletion) erases too. */
  eraseOnContactDeletion: boolean;
  now?: () => number;
}

/**
 * HubSpot's webhooks (signature v3). `contact.privacyDeletion`, and `contact.deletion` when turned
 * on, become one erasure by subject `{source: "hubspot", id: <objectId>}` with the erasure id
 * `hubspot:<portalId>:contact:<objectId>`: HubSpot sends both events for one privacy deletion, and
 * redelivers on failure, and all of them meet in that one erasure.
 */
export function hubSpotAdapter({ clientSecret, eraseOnContactDeletion, now = Date.now }: HubSpotOptions): CrmAdapter {
  const erasing = new Set(eraseOnContactDeletion ? [PRIVACY_DELETION, DELETION] : [PRIVACY_DELETION]);
  return {
    name: 'hubspot',

    async verify(request: CrmRequest): Promise<void> {
      const signature = request.headers['x-hubspot-signature-v3'];
      const timestamp = request.headers['x-hubspot-request-timestamp'];
      // Milliseconds since the epoch, digits only.
      if (!signature || !timestamp || !/^\d{1,15}$/.test(timestamp)) throw new InvalidSignatureError();
      if (Math.abs(now() - Number(timestamp)) > TOLERANCE_MS) throw new InvalidSignatureError();
      const secret = await clientSecret();
      const expected = Buffer.from(hubSpotSignatureV3(secret, { ...request, timestamp }), 'utf8');
      const offered = Buffer.from(signature, 'utf8');
      if (offered.length !== expected.length || !timingSafeEqual(offered, expected)) throw new InvalidSignatureError();
    },

    erasures(body: unknown) {
      const events = batch.safeParse(body);
      if (!events.success) throw schemaViolation('HubSpot webhook', events.error);
      const erasures: CrmErasure[] = [];
      let ignored = 0;
      for (const [index, event] of events.data.entries()) {
        if (!erasing.has(event.subscriptionType)) {
          ignored += 1;
          continue;
        }
        const parsed = deletionEvent.safeParse(event);
        if (!parsed.success) {
          const details = parsed.error.issues.map((issue) => ({
            path: [index, ...issue.path].join('.'),
            message: issue.message,
          }));
          throw new InvalidRequestError(`Event ${index} (${event.subscriptionType}) is not a HubSpot contact event.`, details);
        }
        const { portalId, objectId, subscriptionType } = parsed.data;
        erasures.push({
          erasureId: `hubspot:${portalId}:contact:${objectId}`,
          eventType: subscriptionType,
          // The same body for both event types: they meet in one erasure without a conflict.
          body: {
            personIds: [],
            subject: { source: 'hubspot', id: String(objectId) },
            requestedBy: `hubspot:${portalId}`,
            reason: 'hubspot-contact-deletion',
          },
        });
      }
      return { erasures, ignored };
    },
  };
}
