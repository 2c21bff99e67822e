import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The smallest SQS the retry queue needs, on loopback: `SendMessage` over the JSON protocol that
 * AWS SDK v3 speaks (`x-amz-target: AmazonSQS.SendMessage`), answered with a message id and the MD5
 * of the body, which the SDK checks. Messages are not kept: nothing consumes them.
 */
export class FakeSqs {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeSqs> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        let input: { QueueUrl?: string; MessageBody?: string } = {};
        try {
          input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          // answered below as a bad request
        }
        if (target !== 'AmazonSQS.SendMessage' || typeof input.MessageBody !== 'string' || !input.QueueUrl) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#InvalidAction', message: `not supported: ${target}` }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            MessageId: randomUUID(),
            MD5OfMessageBody: createHash('md5').update(input.MessageBody, 'utf8').digest('hex'),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new FakeSqs(server, `http://127.0.0.1:${port}`);
  }

  /** A queue URL on this endpoint. */
  queueUrl(name: string): string {
    return `${this.url}/000000000000/${name}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
