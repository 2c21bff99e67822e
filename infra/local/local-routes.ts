import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { JWK } from 'jose';
import { errorAnswer } from '../../lambda/api/error-answer';
import type { AuditStore } from '../../lambda/erasure/ports';
import { exportErasures, exportRange, type ExportFormat } from '../../lambda/export/erasure-export';
import { InvalidRequestError } from '../../lambda/errors';
import type { LogSink } from '../../lambda/log';
import type { WebhookVerifier } from '../../lambda/http/webhook-signature';

export const CERTIFICATE_KEY_PATH = '/.well-known/certificate-key';
export const EXPORT_PATH = '/export';
export const ARCHIVE_DIGEST_PATH = '/_local/archive/digest';
/** Moves the local retry queue's dead letters back, as a redrive of the SQS dead-letter queue does. */
export const LOCAL_REDRIVE_PATH = '/_local/dead-letters/redrive';

const CONTENT_TYPE: Record<ExportFormat, string> = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson' };

/**
 * What only the local stack serves:
 * - `GET /.well-known/certificate-key`: the public certificate key as a JWK (public: unsigned);
 * - `GET /export?from=…&to=…&format=csv|jsonl`: the export, streamed, signed like a webhook GET but
 *   over the whole request target `GET /export?{query}` (the query chooses what is read);
 * - `POST /_local/archive/digest`: signs the archive's digest now instead of at the next full hour
 *   (unsigned, like the other `/_local/` routes: the stack listens on loopback only).
 * - `POST /_local/dead-letters/redrive` (empty body, signed like the extension: request line and
 *   body): the dead letters back to the retry queue, answering how many.
 */
export function localRoutes(deps: {
  store: AuditStore;
  verifier: WebhookVerifier;
  publicKey?: JWK;
  logger: LogSink;
  signDigest?: () => Promise<{ digest: number; lastBatch: number }>;
  retryQueue?: { redriveDeadLetters(): number };
}) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const target = req.url ?? '/';
    const path = target.split('?', 1)[0];
    if (req.method === 'POST' && path === ARCHIVE_DIGEST_PATH && deps.signDigest) {
      const answer = await deps.signDigest().then(
        (signed) => ({ status: 200, body: signed }),
        (error: unknown) => {
          deps.logger.error('local archive: digest failed', { error });
          return {
            status: 500,
            body: { error: 'digest_failed', message: 'The archive digest could not be signed: see the log.' },
          };
        },
      );
      res
        .writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(answer.body));
      return true;
    }
    if (path === LOCAL_REDRIVE_PATH && req.method === 'POST' && deps.retryQueue) {
      await redrive(req, res, deps.retryQueue, deps);
      return true;
    }
    if (req.method !== 'GET' || (path !== CERTIFICATE_KEY_PATH && path !== EXPORT_PATH)) return false;
    if (path === CERTIFICATE_KEY_PATH) {
      if (!deps.publicKey) return false;
      res
        .writeHead(200, { 'content-type': 'application/jwk+json', 'cache-control': 'no-store' })
        .end(JSON.stringify(deps.publicKey));
      return true;
    }
    try {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
      await deps.verifier.verify(Buffer.from(`GET ${target}`, 'utf8'), headers);
      const query = new URL(target, 'http://localhost').searchParams;
      const format = query.get('format') ?? 'csv';
      if (format !== 'csv' && format !== 'jsonl') throw new InvalidRequestError('format must be csv or jsonl.');
      const range = exportRange(query.get('from') ?? undefined, query.get('to') ?? undefined);
      const stream = exportErasures(deps.store, { ...range, format });
      res.writeHead(200, { 'content-type': CONTENT_TYPE[format], 'cache-control': 'no-store' });
      deps.logger.info('export started', { format, from: range.from.toISOString(), to: range.to.toISOString() });
      await pipeline(stream, res);
    } catch (error) {
      if (res.headersSent) {
        // Mid-stream: the reader sees a cut connection, never a file that looks complete.
        deps.logger.error('export failed', { error: error instanceof Error ? error.name : typeof error });
        res.destroy();
        return true;
      }
      const { statusCode, body } = errorAnswer(error, deps.logger);
      res.writeHead(statusCode, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    }
    return true;
  };
}

async function redrive(
  req: IncomingMessage,
  res: ServerResponse,
  queue: { redriveDeadLetters(): number },
  deps: { verifier: WebhookVerifier; logger: LogSink },
): Promise<void> {
  try {
    for await (const _chunk of req) {
      // an empty body is signed; anything sent is drained and ignored
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
    await deps.verifier.verify(Buffer.from(`POST ${LOCAL_REDRIVE_PATH}\n`, 'utf8'), headers);
    const redriven = queue.redriveDeadLetters();
    deps.logger.info('dead letters redriven', { redriven });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ redriven }));
  } catch (error) {
    const { statusCode, body } = errorAnswer(error, deps.logger);
    res.writeHead(statusCode, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  }
}
