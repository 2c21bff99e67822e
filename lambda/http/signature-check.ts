import { rawBodyOf } from './body-guard';
import type { HttpMiddleware } from './http-types';
import type { WebhookVerifier } from './webhook-signature';

/**
 * Rejects the request with 401 unless it carries a valid Standard Webhooks signature over the body's
 * exact bytes (kept by bodyGuard, which runs first). GET signs an empty body.
 */
export function signatureCheck(verifier: WebhookVerifier, { signedBody }: { signedBody: boolean }): HttpMiddleware {
  return {
    name: 'signatureCheck',
    before: async ({ event, internal }) => {
      await verifier.verify(signedBody ? rawBodyOf(internal) : Buffer.alloc(0), event.headers ?? {});
    },
  };
}
