import { PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors';
import type { HttpMiddleware } from './http-types';

const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i;

/**
 * Checks what may be checked before the signature (size, media type) and leaves `event.body` as the
 * raw UTF-8 text the signature covers, base64 already decoded.
 */
export function bodyGuard({ maxBytes, requireJson }: { maxBytes: number; requireJson: boolean }): HttpMiddleware {
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new TypeError('bodyGuard: maxBytes must be a positive integer');
  return {
    name: 'bodyGuard',
    before: ({ event }) => {
      const raw = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
      if (raw.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
      if (requireJson && !JSON_MEDIA_TYPE.test(event.headers?.['content-type'] ?? '')) throw new UnsupportedMediaTypeError();
      event.body = raw.toString('utf8');
      event.isBase64Encoded = false;
    },
  };
}
