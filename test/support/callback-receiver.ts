import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the receiver does with one request: answer with a status, or drop the connection unanswered. */
export type ReceiverAnswer = number | 'drop';

export interface ReceivedCallback {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A caller's endpoint on loopback that receives callbacks: it records every request as it came (the
 * raw body, for signature checks) and answers from a script, 200 once the script is used up.
 */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  private readonly script: ReceiverAnswer[] = [];
  private readonly sockets = new Set<Socket>();
  private waiters: { count: number; resolve: () => void }[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<CallbackReceiver> {
    const server = createServer();
    const receiver = new CallbackReceiver(server);
    server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.once('close', () => receiver.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        receiver.received.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const answer = receiver.script.shift() ?? 200;
        if (answer === 'drop') req.socket.destroy();
        else res.writeHead(answer, { 'content-type': 'application/json' }).end('{"ok":true}');
        receiver.notify();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** `host:port` as an allowlist names it. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  url(path = '/hooks/erasures'): string {
    return `http://${this.host}${path}`;
  }

  answer(...answers: ReceiverAnswer[]): void {
    this.script.push(...answers);
  }

  /** Resolves once `count` requests have arrived. */
  receivedAtLeast(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  reset(): void {
    this.received.length = 0;
    this.script.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private notify(): void {
    const ready = this.waiters.filter((w) => this.received.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.received.length < w.count);
    for (const waiter of ready) waiter.resolve();
  }
}
