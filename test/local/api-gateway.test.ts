import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { httpEvent, serveHandler } from '../../infra/local/api-gateway';

/** One raw HTTP/1.1 request, bytes exactly as given (no client that would normalise the path). */
async function rawRequest(port: number, head: string, body = Buffer.alloc(0)): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body])));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('close', () => resolve(answer.slice(answer.indexOf('\r\n\r\n') + 4)));
    socket.on('error', reject);
  });
}

describe('the local API Gateway', () => {
  it('passes the path exactly as sent: percent-encoding, dot segments, double slashes and backslashes kept', () => {
    const event = httpEvent({ method: 'GET', url: '/erasures/a%3ab/../%2e%2e//x\\y?collection=c1&x=%41' });
    expect([event.rawPath, event.requestContext.http.path, event.rawQueryString, event.queryStringParameters]).toEqual([
      '/erasures/a%3ab/../%2e%2e//x\\y',
      '/erasures/a%3ab/../%2e%2e//x\\y',
      'collection=c1&x=%41',
      { collection: 'c1', x: 'A' },
    ]);
  });

  it('passes a JSON body that is not UTF-8 base64-encoded, so its bytes reach the handler unchanged', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xc3, 0x7d]);
    const binary = httpEvent({ method: 'POST', url: '/erasures', headers: { 'content-type': 'application/json' }, body: bytes });
    const utf8 = httpEvent({
      method: 'POST',
      url: '/erasures',
      headers: { 'content-type': 'application/json' },
      body: '{"é":1}',
    });
    expect([binary.isBase64Encoded, Buffer.from(binary.body ?? '', 'base64').equals(bytes)]).toEqual([true, true]);
    expect([utf8.isBase64Encoded, utf8.body]).toEqual([false, '{"é":1}']);
  });

  it('serves a request with the path and the body bytes as the client sent them', async () => {
    const seen: APIGatewayProxyEventV2[] = [];
    const server = serveHandler(async (event) => {
      seen.push(event);
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = Buffer.from([0x22, 0xff, 0x22]);
      await rawRequest(port, 'GET //erasures/%2e%2e/A%3a1?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await rawRequest(
        port,
        `POST /erasures HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nConnection: close\r\n\r\n`,
        body,
      );
      expect(seen.map((event) => [event.rawPath, event.rawQueryString])).toEqual([
        ['//erasures/%2e%2e/A%3a1', 'q=1'],
        ['/erasures', ''],
      ]);
      expect(Buffer.from(seen[1]!.body ?? '', seen[1]!.isBase64Encoded ? 'base64' : 'utf8').equals(body)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
