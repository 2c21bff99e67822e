import { startHarness, useHarness } from '../support/http-harness';

// Validation is not about speed: a budget that a busy 2-core machine cannot overrun, so 100 persons finish inline.
const t = useHarness({ INLINE_BUDGET_MS: '20000' });

const ids = (n: number) => Array.from({ length: n }, (_, i) => `person_${i}`);

describe('POST /erasures: bad input never reaches Verifik', () => {
  it.each([
    ['malformed JSON', '{"personIds": ['],
    ['an empty body', ''],
    ['a JSON array', '["p1"]'],
    ['JSON null', 'null'],
    ['a JSON string', '"p1"'],
    ['no personIds', '{"reason":"x"}'],
    ['an empty personIds', '{"personIds":[]}'],
    ['personIds not an array', '{"personIds":"p1"}'],
    ['101 distinct ids', JSON.stringify({ personIds: ids(101) })],
    ['an id with a slash', '{"personIds":["a/b"]}'],
    ['a path-traversal id', '{"personIds":["../../auth/session"]}'],
    ['an id with a query', '{"personIds":["p1?collection=c1"]}'],
    ['a percent-encoded id', '{"personIds":["a%2Fb"]}'],
    ['a 65-character id', JSON.stringify({ personIds: ['x'.repeat(65)] })],
    ['a non-ASCII id', '{"personIds":["pérson"]}'],
    ['an empty id', '{"personIds":[""]}'],
    ['a numeric id', '{"personIds":[12345]}'],
    ['personId and personIds together', '{"personIds":["p1"],"personId":"p2"}'],
    ['a bad personId shorthand', '{"personId":"a b"}'],
    ['a subjectRef over 256 characters', JSON.stringify({ personIds: ['p1'], subjectRef: 's'.repeat(257) })],
    ['a non-string reason', '{"personIds":["p1"],"reason":17}'],
    ['a requestedBy object', '{"personIds":["p1"],"requestedBy":{"a":1}}'],
    ['a __proto__ key', '{"personIds":["p1"],"__proto__":{"polluted":true}}'],
  ])('answers 400 invalid_request to %s', async (_what, rawBody) => {
    const answer = await t.api.post(undefined, { rawBody });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_request', message: expect.any(String) });
    expect(t.api.sandbox.calls).toHaveLength(0);
  });

  it('lists what is wrong in details', async () => {
    const answer = await t.api.post({ personIds: ['ok', 'not ok'] });
    expect(answer.body.details).toEqual([{ path: 'personIds.1', message: expect.stringContaining('A-Z') }]);
  });

  it.each([
    ['a webhook-id with a slash', 'msg/1'],
    ['a webhook-id over 128 characters', 'm'.repeat(129)],
  ])('answers 400 to %s', async (_what, id) => {
    const answer = await t.api.post({ personIds: ['p1'] }, { id });
    expect(answer.status).toBe(400);
    expect(t.api.sandbox.calls).toHaveLength(0);
  });

  it.each([
    ['no content-type', { 'content-type': '' }],
    ['text/plain', { 'content-type': 'text/plain' }],
    ['form data', { 'content-type': 'application/x-www-form-urlencoded' }],
  ])('answers 415 unsupported_media_type to %s', async (_what, headers) => {
    const answer = await t.api.post({ personIds: ['p1'] }, { headers });
    expect(answer.status).toBe(415);
    expect(answer.body.error).toBe('unsupported_media_type');
    expect(t.api.sandbox.calls).toHaveLength(0);
  });

  it('answers 413 payload_too_large to a body over 64 KiB', async () => {
    const answer = await t.api.post({ personIds: ['p1'], padding: 'x'.repeat(64 * 1024) });
    expect(answer.status).toBe(413);
    expect(answer.body.error).toBe('payload_too_large');
    expect(t.api.sandbox.calls).toHaveLength(0);
  });

  it('accepts exactly 100 distinct ids, repeats collapsed', async () => {
    const answer = await t.api.post({ personIds: [...ids(100), ...ids(100)] });
    expect(answer.status).toBe(200);
    expect(answer.body.persons).toHaveLength(100);
  });

  it('accepts the personId shorthand, JSON with a charset, and ignores unknown fields', async () => {
    const answer = await t.api.post(
      { personId: 'person_123456789', extra: { nested: true } },
      { headers: { 'content-type': 'application/json; charset=utf-8' } },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.persons).toEqual([expect.objectContaining({ personId: 'person_123456789' })]);
    expect(answer.body).not.toHaveProperty('extra');
  });

  it('answers a JSON 404 to an unknown route', async () => {
    const answer = await t.api.send('DELETE', '/erasures/msg_1', '');
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ error: 'not_found' });
  });
});

describe('GET /erasures/{erasureId}', () => {
  it('answers 200 with the record', async () => {
    const posted = await t.api.post({ personIds: ['p1'], subjectRef: 'crm-1' }, { id: 'msg_get' });
    const answer = await t.api.get('msg_get');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(posted.body);
  });

  it('answers 404 not_found to an unknown erasure', async () => {
    const answer = await t.api.get('msg_unknown');
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ error: 'not_found', message: 'No such erasure.' });
  });

  it('answers 400 to a malformed erasure id', async () => {
    const answer = await t.api.send('GET', '/erasures/bad%20id', '');
    expect(answer.status).toBe(400);
  });
});

describe('storage failures', () => {
  it('answers 503 without internals and never calls Verifik when the request cannot be recorded', async () => {
    const broken = await startHarness(t.dynamo, { AUDIT_TABLE_NAME: 'no-such-table' });
    try {
      const answer = await broken.post({ personIds: ['p1'] });
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({ error: 'storage_unavailable', message: expect.not.stringContaining('no-such-table') });
      expect(broken.sandbox.calls).toHaveLength(0);
    } finally {
      await broken.close();
    }
  });
});
