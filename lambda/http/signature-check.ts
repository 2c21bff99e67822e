import type { HttpMiddleware } from './http-types';
import type { WebhookVerifier } from './webhook-signature';

/** Rejects the request with 401 unless it carries a valid Standard Webhooks signature. GET signs an empty body. */
export function signatureCheck(verifier: WebhookVerifier, { signedBody }: { signedBody: boolean }): HttpMiddleware {
  return {
    name: 'signatureCheck',
    before: async ({ event }) => {
      await verifier.verify(signedBody ? (event.body ?? '') : '', event.headers ?? {});
    },
  };
}
