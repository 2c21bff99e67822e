import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { PendingWork } from './pending-work';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Lambda's own payload limit; API Gateway refuses larger bodies before the function sees them. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const TEXT_MEDIA = /^(application\/([a-z0-9.+-]+\+)?json|text\/)/i;

/**
 * Serves a Lambda handler the way API Gateway HTTP API does: payload v2 events (lower-case headers,
 * base64 for non-text bodies, the path as sent) and a Lambda context with a time limit.
 */
export function serveHandler(
  handler: HttpHandler,
  {
    timeoutMs = 29_000,
    pending,
    localRoutes,
  }: {
    timeoutMs?: number;
    pending?: PendingWork;
    /** Routes only the local stack has (they stream, which API Gateway's HTTP API does not): true when handled. */
    localRoutes?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  } = {},
): Server {
  return createServer(async (req, res) => {
    try {
      if (localRoutes && (await localRoutes(req, res))) return;
      const body = await readBody(req);
      if (body === 'too_large') {
        res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Request Entity Too Large' }));
        return;
      }
      // Tracked: a request whose client hung up still finishes its writes before the stack closes.
      const invocation = handler(toEvent(req, body), lambdaContext(timeoutMs));
      const result = await (pending ? pending.track(invocation) : invocation);
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      res.end(result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : result.body);
    } catch {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Internal Server Error' }));
    }
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return 'too_large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return httpEvent({ method: req.method ?? 'GET', url: req.url ?? '/', headers, body, sourceIp: req.socket.remoteAddress });
}

/**
 * The path and query of a request target exactly as sent: split at the first `?`, nothing decoded,
 * re-encoded or normalised (no dot segments resolved, no `//` or `\` rewritten). A signed GET signs
 * this path, so the local server must not pass on a path other than the one the client signed.
 */
export function requestTarget(url: string): { rawPath: string; rawQueryString: string } {
  const query = url.indexOf('?');
  return query < 0
    ? { rawPath: url, rawQueryString: '' }
    : { rawPath: url.slice(0, query), rawQueryString: url.slice(query + 1) };
}

/** An API Gateway HTTP API (payload v2) event, as the local server and the tests build them. */
export function httpEvent(request: {
  method: string;
  /** The request target as sent (`/path?query`). */
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  sourceIp?: string;
}): APIGatewayProxyEventV2 {
  const { rawPath, rawQueryString } = requestTarget(request.url);
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : (request.body ?? Buffer.alloc(0));
  // A text body travels as a string only when that string holds its exact bytes: bytes that are not
  // UTF-8 would turn into U+FFFD on the way, and the signature covers the bytes.
  const text = TEXT_MEDIA.test(headers['content-type'] ?? '') && isUtf8(body);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    queryStringParameters: rawQueryString ? Object.fromEntries(new URLSearchParams(rawQueryString)) : undefined,
    body: body.length === 0 ? undefined : text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !text,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

/** A Lambda context whose clock starts now. */
export function lambdaContext(timeoutMs: number, functionName = 'verifik-erasure-local'): Context {
  const end = Date.now() + timeoutMs;
  const unsupported = () => {
    throw new Error('not available locally');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
