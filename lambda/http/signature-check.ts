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

/** What signs a POST on a record's path (an extension): the request line, a line feed, then the body's bytes. */
type Signs = 'body' | 'requestLine' | 'requestLineAndBody';
const SIGNS: readonly Signs[] = ['body', 'requestLine', 'requestLineAndBody'];

/**
 * Rejects the request with 401 unless it carries a valid Standard Webhooks signature: over the body's
 * exact bytes (kept by bodyGuard, which runs first), over the request line, so that a captured GET
 * signature reads the one record it was made for, or over both, so that a captured POST on one
 * record's path (an extension) cannot be replayed on another's.
 */
export function signatureCheck(verifier: WebhookVerifier, { signs }: { signs: Signs }): HttpMiddleware {
  if (!SIGNS.includes(signs)) throw new TypeError(`signatureCheck: signs must be one of ${SIGNS.join(', ')}`);
  return {
    name: 'signatureCheck',
    before: async ({ event, internal }) => {
      const content =
        signs === 'body'
          ? rawBodyOf(internal)
          : signs === 'requestLine'
            ? requestLineBytes(event)
            : Buffer.concat([requestLineBytes(event), Buffer.from('\n'), rawBodyOf(internal)]);
      await verifier.verify(content, event.headers ?? {});
    },
  };
}

/** The request line's bytes. A path with a lone surrogate has none (it would sign as U+FFFD, like another path). */
function requestLineBytes(event: HttpEvent): Buffer {
  if (!event.rawPath.isWellFormed()) throw new InvalidSignatureError();
  return Buffer.from(signedRequestLine(event.requestContext.http.method, event.rawPath), 'utf8');
}
