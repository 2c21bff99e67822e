import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import dynalite from 'dynalite';

/** Longest `close` waits for dynalite to finish the requests it has started. */
const DRAIN_LIMIT_MS = 10_000;

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * An in-memory DynamoDB-compatible engine (dynalite) on loopback. No transactions, no TTL.
 *
 * `close` first lets dynalite finish every request it has received. A client that gave up on a call
 * (a timeout, an aborted invocation) leaves dynalite working on it, and a request can still be read
 * from a connection its client has already closed; closing the database in the middle of such a
 * write (between its index updates and its put) made dynalite throw "Database is closed" outside
 * any callback, which kills the process. So `close` waits until no connection is open (idle
 * keep-alive ones are closed) and every request dynalite started has been answered.
 */
export async function startEmbeddedDynamo(): Promise<EmbeddedDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const connections = new Set<Socket>();
  const unanswered = new Set<ServerResponse>();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // dynalite starts work once the body has arrived, and answers through res.end, even to a client that has gone.
    req.on('end', () => unanswered.add(res));
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      unanswered.delete(res);
      return end(...args);
    }) as typeof res.end;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      const limit = Date.now() + DRAIN_LIMIT_MS;
      for (;;) {
        server.closeIdleConnections();
        if ((connections.size === 0 && unanswered.size === 0) || Date.now() > limit) break;
        await sleep(5);
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client for a local engine: dummy credentials, fixed region. */
export const localDynamoClient = (endpoint: string) =>
  new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
