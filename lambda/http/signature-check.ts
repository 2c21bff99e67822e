import { InvalidSignatureError } from '../errors';
import { rawBodyOf } from './body-guard';
import type { HttpEvent, HttpMiddleware } from './http-types';
import type { WebhookVerifier } from './webhook-signature';

/**
 * What a signed GET signs in place of a body (docs/api.md): its request line, `GET {path}`, with the
 * path exactly as sent (API Gateway's rawPath: percent-encoding kept, nothing normalised). The query
 * string is not part of it: no signed GET reads one, and a route that does must sign it first.
 */
export const signedRequestLine = (method: string, rawPath: string) => `${method} ${rawPath}`;

/**
 * Rejects the request with 401 unless it carries a valid Standard Webhooks signature: over the body's
 * exact bytes (kept by bodyGuard, which runs first), or over the request line, so that a captured
 * GET signature reads the one record it was made for.
 */
export function signatureCheck(verifier: WebhookVerifier, { signs }: { signs: 'body' | 'requestLine' }): HttpMiddleware {
  if (signs !== 'body' && signs !== 'requestLine') throw new TypeError("signatureCheck: signs must be 'body' or 'requestLine'");
  return {
    name: 'signatureCheck',
    before: async ({ event, internal }) => {
      await verifier.verify(signs === 'body' ? rawBodyOf(internal) : requestLineBytes(event), event.headers ?? {});
    },
  };
}

/** The request line's bytes. A path with a lone surrogate has none (it would sign as U+FFFD, like another path). */
function requestLineBytes(event: HttpEvent): Buffer {
  if (!event.rawPath.isWellFormed()) throw new InvalidSignatureError();
  return Buffer.from(signedRequestLine(event.requestContext.http.method, event.rawPath), 'utf8');
}
