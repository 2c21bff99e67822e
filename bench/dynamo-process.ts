/**
 * dynalite behind a counting proxy, in a process of their own (forked by dynamo-server.ts), so that
 * a benchmark whose handlers run in the bench process is not bound by the engine's CPU on the same
 * core. Messages: sends { endpoint, direct } when ready; answers 'take' with the counts so far.
 *
 * The proxy counts for a client we cannot reach (the local stack builds its own) what StorageCounter
 * counts as a middleware on one we can: it asks for the consumed capacity in every data request and
 * reads it from the answer.
 */
import { createServer, request as forwardRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmbeddedDynamo } from '../infra/local/embedded-dynamodb';
import { DATA, StorageCounter } from './storage';

const engine = await startEmbeddedDynamo();
const upstream = new URL(engine.endpoint);
const counter = new StorageCounter();

const parseJson = (text: string): { ConsumedCapacity?: unknown; __type?: string } | undefined => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const proxy = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
    let body = Buffer.concat(chunks);
    let condition: unknown;
    if (DATA.has(operation)) {
      const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      condition = input.ConditionExpression;
      counter.prepare(operation, input);
      body = Buffer.from(JSON.stringify(input), 'utf8');
    }
    const headers = { ...req.headers, 'content-length': String(body.length), host: upstream.host };
    const forward = forwardRequest(
      { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          const text = Buffer.concat(parts);
          const status = answer.statusCode ?? 502;
          const parsed = parseJson(text.toString('utf8'));
          const conditionFailed = status >= 400 && /ConditionalCheckFailed/.test(parsed?.__type ?? '');
          counter.record(operation, status < 300 ? parsed : undefined, conditionFailed, condition);
          res.writeHead(status, answer.headers).end(text);
        });
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    forward.end(body);
  });
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));

process.on('message', (message: unknown) => {
  if (message === 'take') process.send!({ counts: counter.take() });
  if (message === 'close') {
    proxy.closeAllConnections();
    proxy.close();
    void engine.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, direct: engine.endpoint });
