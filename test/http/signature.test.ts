import { newMessageId, signedHeaders } from '../../infra/local/signed-client';
import { eventWith, rawApp, signBytes } from '../fuzz/fuzz-support';
import { newWebhookSecret } from '../../infra/local/signed-client';
import { useHarness } from '../support/http-harness';

const t = useHarness();
const body = JSON.stringify({ personIds: ['p1'] });

const minutes = (n: number) => new Date(Date.now() + n * 60_000);

describe('webhook signatures', () => {
  it('accepts a request signed with any active secret (rotation)', async () => {
    expect((await t.api.post(undefined, { rawBody: body, secret: t.api.secrets[0] })).status).toBe(200);
    expect((await t.api.post(undefined, { rawBody: body, secret: t.api.secrets[1] })).status).toBe(200);
  });

  it('accepts a timestamp just inside the 5-minute tolerance either way', async () => {
    expect((await t.api.post(undefined, { rawBody: body, timestamp: minutes(-4.5) })).status).toBe(200);
    expect((await t.api.post(undefined, { rawBody: body, timestamp: minutes(4.5) })).status).toBe(200);
  });

  it('accepts a signature list where one entry matches', async () => {
    const valid = signedHeaders(t.api.secrets[0]!, { id: 'msg_list', body });
    const headers = { ...valid, 'webhook-signature': `v1,AAAA v2,zzz ${valid['webhook-signature']}` };
    expect((await t.api.send('POST', '/erasures', body, { unsigned: true, headers })).status).toBe(200);
  });

  const rejected: [string, () => Promise<{ status: number; body: any }>][] = [
    ['no signature headers', () => t.api.post(undefined, { rawBody: body, unsigned: true })],
    ['a secret that is not active', () => t.api.post(undefined, { rawBody: body, secret: newWebhookSecret() })],
    [
      'a timestamp older than 5 minutes (replay from the past)',
      () => t.api.post(undefined, { rawBody: body, timestamp: minutes(-6) }),
    ],
    ['a timestamp more than 5 minutes ahead', () => t.api.post(undefined, { rawBody: body, timestamp: minutes(6) })],
    [
      'a body other than the one signed',
      () => {
        const headers = signedHeaders(t.api.secrets[0]!, { id: 'msg_x', body });
        return t.api.send('POST', '/erasures', JSON.stringify({ personIds: ['p2'] }), { unsigned: true, headers });
      },
    ],
    [
      'a webhook-id other than the one signed',
      () => {
        const headers = { ...signedHeaders(t.api.secrets[0]!, { id: 'msg_a', body }), 'webhook-id': 'msg_b' };
        return t.api.send('POST', '/erasures', body, { unsigned: true, headers });
      },
    ],
    [
      'a non-numeric timestamp',
      () => {
        const headers = { ...signedHeaders(t.api.secrets[0]!, { id: 'msg_a', body }), 'webhook-timestamp': 'yesterday' };
        return t.api.send('POST', '/erasures', body, { unsigned: true, headers });
      },
    ],
    [
      'a timestamp with trailing characters',
      () => {
        const headers = signedHeaders(t.api.secrets[0]!, { id: 'msg_a', body });
        return t.api.send('POST', '/erasures', body, {
          unsigned: true,
          headers: { ...headers, 'webhook-timestamp': `${headers['webhook-timestamp']}abc` },
        });
      },
    ],
    [
      'a signature of another version only',
      () => {
        const headers = signedHeaders(t.api.secrets[0]!, { id: 'msg_a', body });
        return t.api.send('POST', '/erasures', body, {
          unsigned: true,
          headers: { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') },
        });
      },
    ],
    ['an unsigned GET', () => t.api.get('msg_any', { unsigned: true })],
    ['a GET signed with a secret that is not active', () => t.api.get('msg_any', { secret: newWebhookSecret() })],
  ];

  it.each(rejected)('answers 401 invalid_signature to %s and never calls Verifik', async (_what, send) => {
    const answer = await send();
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: 'invalid_signature', message: expect.any(String) });
    expect(t.api.sandbox.calls).toHaveLength(0);
  });

  it('reveals nothing about the erasure to a caller whose signature fails', async () => {
    await t.api.post({ personIds: ['p1'] }, { id: 'msg_secretive' });
    const answer = await t.api.get('msg_secretive', { secret: newWebhookSecret() });
    expect(answer.status).toBe(401);
    expect(JSON.stringify(answer.body)).not.toContain('p1');
  });

  it('checks size and media type before the signature', async () => {
    expect((await t.api.post(undefined, { rawBody: 'x'.repeat(70_000), unsigned: true })).status).toBe(413);
    expect(
      (await t.api.post(undefined, { rawBody: body, unsigned: true, headers: { 'content-type': 'text/plain' } })).status,
    ).toBe(415);
  });
});

describe('signed GET: the signature covers the request line "GET {path}", the path exactly as sent', () => {
  /** A GET to `sentPath` carrying a signature made over `signedLine`. */
  const getWith = (sentPath: string, signedLine: string) =>
    t.api.send('GET', sentPath, '', {
      unsigned: true,
      headers: signedHeaders(t.api.secrets[0]!, { id: newMessageId(), body: signedLine }),
    });

  it('reads a record, or answers 404, with a signature over its own request line', async () => {
    await t.api.post({ personIds: ['p1'] }, { id: 'urn:crm:1' });
    const encoded = await getWith('/erasures/urn%3Acrm%3A1', 'GET /erasures/urn%3Acrm%3A1');
    const plain = await getWith('/erasures/urn:crm:1', 'GET /erasures/urn:crm:1');
    const unknown = await getWith('/erasures/msg_unknown', 'GET /erasures/msg_unknown');
    expect([encoded.status, encoded.body.erasureId, plain.status, plain.body.erasureId, unknown.status]).toEqual([
      200,
      'urn:crm:1',
      200,
      'urn:crm:1',
      404,
    ]);
  });

  it("answers 401 to a captured GET signature replayed on another erasure's path, and reveals nothing of it", async () => {
    await t.api.post({ personIds: ['p1'] }, { id: 'msg_mine' });
    await t.api.post({ personIds: ['p2'] }, { id: 'msg_theirs' });
    const captured = signedHeaders(t.api.secrets[0]!, { id: newMessageId(), body: 'GET /erasures/msg_mine' });
    const own = await t.api.send('GET', '/erasures/msg_mine', '', { unsigned: true, headers: captured });
    const replayed = await t.api.send('GET', '/erasures/msg_theirs', '', { unsigned: true, headers: captured });
    expect([own.status, replayed.status]).toEqual([200, 401]);
    expect(replayed.body).toEqual({ error: 'invalid_signature', message: expect.any(String) });
    expect(JSON.stringify(replayed.body)).not.toMatch(/msg_theirs|p2/);
  });

  it('answers 401 to the same erasure under another percent-encoding than the one signed', async () => {
    await t.api.post({ personIds: ['p1'] }, { id: 'a:b' });
    const line = 'GET /erasures/a%3Ab';
    const statuses = await Promise.all(
      ['/erasures/a%3Ab', '/erasures/a%3ab', '/erasures/a:b', '/erasures/a%3Ab/'].map(
        async (path) => (await getWith(path, line)).status,
      ),
    );
    expect(statuses).toEqual([200, 401, 401, 401]);
  });

  it('answers 401 to a GET signed the old way, over an empty body', async () => {
    await t.api.post({ personIds: ['p1'] }, { id: 'msg_old' });
    const old = signedHeaders(t.api.secrets[0]!, { id: newMessageId(), body: '' });
    const answer = await t.api.send('GET', '/erasures/msg_old', '', { unsigned: true, headers: old });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: 'invalid_signature', message: expect.any(String) });
  });

  it('answers 401 to request lines that are not exactly "GET {path}"', async () => {
    await t.api.post({ personIds: ['p1'] }, { id: 'msg_line' });
    const lines = [
      'GET  /erasures/msg_line',
      'get /erasures/msg_line',
      '/erasures/msg_line',
      'GET /erasures/msg_line HTTP/1.1',
      'POST /erasures/msg_line',
      'GET http://localhost/erasures/msg_line',
    ];
    const statuses = await Promise.all(lines.map(async (line) => (await getWith('/erasures/msg_line', line)).status));
    expect(statuses).toEqual(lines.map(() => 401));
  });

  it('leaves the query string out of the signed request line (GET /erasures/{erasureId} reads none)', async () => {
    await t.api.post({ personIds: ['p1'] }, { id: 'msg_query' });
    const answer = await getWith('/erasures/msg_query?cache=1', 'GET /erasures/msg_query');
    expect([answer.status, answer.body.erasureId]).toEqual([200, 'msg_query']);
  });
});

describe('POST signatures cover the exact bytes of the body', () => {
  // {"personIds":["p1"],"reason":"<0xFF>"}: 0xFF is never UTF-8; decoded leniently it reads as U+FFFD.
  const bytes = Buffer.concat([Buffer.from('{"personIds":["p1"],"reason":"'), Buffer.from([0xff]), Buffer.from('"}')]);
  const postBytes = (body: Buffer, headers: Record<string, string>, base64 = true) =>
    rawApp(
      t.dynamo,
      t.api,
    )(
      eventWith({ method: 'POST', path: '/erasures', headers: { 'content-type': 'application/json', ...headers }, body, base64 }),
    );
  const overBytes = (id: string, body: Buffer) => {
    const ts = Math.floor(Date.now() / 1000);
    return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signBytes(t.api.secrets[0]!, id, ts, body) };
  };

  it('answers 401 to a body with a byte that is not UTF-8, signed over its U+FFFD reading', async () => {
    const lenient = bytes.toString('utf8');
    expect(lenient).toContain('\ufffd');
    const answer = await postBytes(bytes, signedHeaders(t.api.secrets[0]!, { id: 'msg_fffd', body: lenient }));
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: 'invalid_signature', message: expect.any(String) });
    expect(t.api.sandbox.calls).toHaveLength(0);
    expect(await t.api.store.getErasure('msg_fffd')).toBeUndefined();
  });

  it('answers 400 invalid_request to that body signed over its exact bytes, without calling Verifik', async () => {
    const answer = await postBytes(bytes, overBytes('msg_ff_bytes', bytes));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_request', message: expect.any(String) });
    expect(t.api.sandbox.calls).toHaveLength(0);
    expect(await t.api.store.getErasure('msg_ff_bytes')).toBeUndefined();
  });

  it('accepts UTF-8 bodies as before, multi-byte characters and base64 encoding included', async () => {
    const text = JSON.stringify({ personIds: ['p1'], reason: 'gdpr-art-17 é € 😀' });
    const base64 = await postBytes(Buffer.from(text), signedHeaders(t.api.secrets[0]!, { id: 'msg_utf8', body: text }));
    const plain = await postBytes(Buffer.from(text), overBytes('msg_utf8', Buffer.from(text)), false);
    expect([base64.status, base64.body.reason, plain.status, plain.body.reason]).toEqual([
      200,
      'gdpr-art-17 é € 😀',
      200,
      'gdpr-art-17 é € 😀',
    ]);
  });
});
