/**
 * Runs in a fresh Node process, as the Lambda runtime would: imports one bundle, builds one event,
 * calls the handler once, prints one line and exits. Node built-ins only, so that it adds next to
 * nothing to what is measured. Bundled on its own into the temp dir by cold-start.ts.
 *
 * Environment: BENCH_BUNDLE (the .mjs), BENCH_EVENT (http | invoke | sqs), BENCH_PERSON,
 * BENCH_ERASURE_ID, WEBHOOK_SECRET (to sign the http event); the handler reads the rest.
 * BENCH_PERSONS_FILE: then serve one more http request per person in that file (one id a line),
 * one after the other, and report the process's memory after them (warm.ts: a handler's RSS alone).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { DONE_MARKER } from './cold-marker';

const started = performance.now();
const env = process.env;
const person = env.BENCH_PERSON ?? '';
const erasureId = env.BENCH_ERASURE_ID ?? '';

function signedHttpEvent(person: string, erasureId: string) {
  const body = JSON.stringify({ personIds: [person], reason: 'gdpr-art-17', requestedBy: 'bench' });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from((env.WEBHOOK_SECRET ?? '').split(' ')[0]!.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${erasureId}.${timestamp}.${body}`).digest('base64');
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/erasures',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'webhook-id': erasureId,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${signature}`,
    },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'bench',
      apiId: 'bench',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'POST', path: '/erasures', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

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

function context() {
  const end = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
  };
}

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
  const result = (await module.handler(event, context())) as { statusCode?: number; batchItemFailures?: unknown[] } | undefined;
  const answered = performance.now();
  let status = result?.statusCode ?? (result?.batchItemFailures?.length === 0 ? 200 : 500);
  let served = 1;
  if (env.BENCH_PERSONS_FILE) {
    const persons = (await import('node:fs')).readFileSync(env.BENCH_PERSONS_FILE, 'utf8').split('\n').filter(Boolean);
    for (const [i, more] of persons.entries()) {
      const answer = (await module.handler(signedHttpEvent(more, `${erasureId}_${i}`), context())) as { statusCode?: number };
      if (answer.statusCode !== 200) status = answer.statusCode ?? 0;
      served += 1;
    }
  }
  const memory = process.memoryUsage();
  const line = JSON.stringify({
    status,
    served,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    heapTotal: memory.heapTotal,
    // Milliseconds since the process started (performance.timeOrigin).
    runnerStartMs: started,
    importMs: imported - started,
    handlerMs: answered - imported,
  });
  process.stdout.write(`${DONE_MARKER}${line}\n`, () => process.exit(0));
}

main().catch((error: unknown) => {
  process.stdout.write(`${DONE_MARKER}${JSON.stringify({ status: 0, error: String(error) })}\n`, () => process.exit(1));
});
