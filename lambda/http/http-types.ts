import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { MiddlewareObj } from '@middy/core';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
/** What the middlewares of one request hand on to each other besides the event (middy's `request.internal`). */
export interface HttpInternal extends Record<string, unknown> {
  /** The body's exact bytes, base64 already decoded: what a signature covers (set by bodyGuard). */
  rawBody?: Buffer;
}
export type HttpMiddleware = MiddlewareObj<HttpEvent, HttpResult, Error, Context, HttpInternal>;

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * A path parameter, percent-decoded (a Location or a client encodes `:` as `%3A`). Erasure ids hold no
 * `%`, so decoding a value API Gateway already decoded changes nothing. `null`: malformed encoding.
 */
export function decodedPathParameter(event: HttpEvent, name: string): string | undefined | null {
  const raw = event.pathParameters?.[name];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}
