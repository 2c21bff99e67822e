import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors';
import type { HttpInternal, HttpMiddleware } from './http-types';

const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i;

/**
 * Checks what may be checked before the signature (size, media type) and keeps the body's exact
 * bytes, base64 already decoded, as `request.internal.rawBody`: the signature covers bytes, not text.
 */
export function bodyGuard({ maxBytes, requireJson }: { maxBytes: number; requireJson: boolean }): HttpMiddleware {
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new TypeError('bodyGuard: maxBytes must be a positive integer');
  return {
    name: 'bodyGuard',
    before: ({ event, internal }) => {
      const raw = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
      if (raw.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
      if (requireJson && !JSON_MEDIA_TYPE.test(event.headers?.['content-type'] ?? '')) throw new UnsupportedMediaTypeError();
      internal.rawBody = raw;
    },
  };
}

/** The bytes bodyGuard kept; a route that reads them without bodyGuard is a programming error. */
export function rawBodyOf(internal: HttpInternal): Buffer {
  if (!internal.rawBody) throw new Error('bodyGuard must run before the body is read');
  return internal.rawBody;
}

/**
 * Sets `event.body` to the text of the kept bytes for the JSON parser. Strict: bytes that are not
 * UTF-8 are a 400, never read as U+FFFD (two different bodies would read as one). A byte-order mark
 * is kept in the text, so such a body stays invalid JSON as before.
 */
export function utf8Body(): HttpMiddleware {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return {
    name: 'utf8Body',
    before: ({ event, internal }) => {
      const raw = rawBodyOf(internal);
      try {
        event.body = decoder.decode(raw);
      } catch {
        // The only failure of a fatal decoder on bytes.
        throw new InvalidRequestError('The body is not valid UTF-8.');
      }
      event.isBase64Encoded = false;
    },
  };
}
