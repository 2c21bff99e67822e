/**
 * Runs in a fresh Node process, as the Lambda runtime would: imports one bundle, builds one event,
 * calls the handler once, reports on file descriptor 3 (stdout is the handler's) and exits. Node
 * built-ins and the local API Gateway's event builders only, so that it adds next to nothing to
 * what is measured; started by fresh-process.ts.
 *
 * Environment: BENCH_BUNDLE (the .mjs), BENCH_EVENT (http | invoke | sqs), BENCH_PERSON,
 * BENCH_ERASURE_ID, WEBHOOK_SECRET (to sign the http event); the handler reads the rest.
 * BENCH_PERSONS_FILE: then serve one more http request per person in that file (one id a line),
 * one after the other, and report the process's memory after them (warm.ts: a handler's RSS alone).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { httpEvent, lambdaContext } from '../infra/local/api-gateway';
import type { RunnerReport } from './fresh-process';

const started = performance.now();
const env = process.env;
const person = env.BENCH_PERSON ?? '';
const erasureId = env.BENCH_ERASURE_ID ?? '';

/** A POST /erasures signed as Standard Webhooks does (HMAC-SHA256 of `id.timestamp.body`). */
function signedHttpEvent(person: string, erasureId: string) {
  const body = JSON.stringify({ personIds: [person], reason: 'gdpr-art-17', requestedBy: 'bench' });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from((env.WEBHOOK_SECRET ?? '').split(' ')[0]!.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${erasureId}.${timestamp}.${body}`).digest('base64');
  const headers = {
    'content-type': 'application/json',
    'webhook-id': erasureId,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
  };
  return httpEvent({ method: 'POST', url: '/erasures', headers, body });
}

/** The worker's retry message for the erasure, as SQS delivers it. */
function sqsEvent() {
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body: JSON.stringify({ erasureId, attempt: 0, notBefore: Date.now() }),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: now,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:verifik-erasure-retry',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

const report = (line: RunnerReport) => writeSync(3, `${JSON.stringify(line)}\n`);

async function main() {
  const kind = env.BENCH_EVENT;
  const module = (await import(pathToFileURL(env.BENCH_BUNDLE ?? '').href)) as {
    handler: (event: unknown, context: unknown) => Promise<unknown>;
  };
  const imported = performance.now();
  const event =
    kind === 'http'
      ? signedHttpEvent(person, erasureId)
      : kind === 'invoke'
        ? { personIds: [person], reason: 'gdpr-art-17', requestedBy: 'bench', erasureId }
        : sqsEvent();
  const result = (await module.handler(event, lambdaContext(29_000))) as
    { statusCode?: number; batchItemFailures?: unknown[] } | undefined;
  const answered = performance.now();
  let status = result?.statusCode ?? (result?.batchItemFailures?.length === 0 ? 200 : 500);
  let served = 1;
  if (env.BENCH_PERSONS_FILE) {
    const persons = readFileSync(env.BENCH_PERSONS_FILE, 'utf8').split('\n').filter(Boolean);
    for (const [i, more] of persons.entries()) {
      const answer = (await module.handler(signedHttpEvent(more, `${erasureId}_${i}`), lambdaContext(29_000))) as {
        statusCode?: number;
      };
      if (answer.statusCode !== 200) status = answer.statusCode ?? 0;
      served += 1;
    }
  }
  const { rss, heapUsed } = process.memoryUsage();
  // performance.now() counts from the process's start (performance.timeOrigin).
  report({ status, served, rss, heapUsed, bootMs: started, importMs: imported - started, handlerMs: answered - imported });
  process.exit(0);
}

main().catch((error: unknown) => {
  report({ status: 0, error: String(error), served: 0, rss: 0, heapUsed: 0, bootMs: 0, importMs: 0, handlerMs: 0 });
  process.exit(1);
});
