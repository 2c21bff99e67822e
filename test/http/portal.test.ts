import { PORTAL_PRINCIPAL, useHarness } from '../support/http-harness';

const t = useHarness();

describe('portal routes (IAM-authorized by API Gateway)', () => {
  it('erases and records the caller’s IAM principal as requestedBy, whatever the body says', async () => {
    const id = t.api.sandbox.createPerson();
    const answer = await t.api.portal(
      'POST',
      '/portal/erasures',
      { personIds: [id], requestedBy: 'someone-else' },
      { headers: { 'idempotency-key': 'portal-1' } },
    );

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ erasureId: 'portal-1', requestedBy: PORTAL_PRINCIPAL, persons: [{ outcome: 'erased' }] });
  });

  it('takes the erasure id from Idempotency-Key: a repeat returns the record, another body is 409', async () => {
    const first = await t.api.portal(
      'POST',
      '/portal/erasures',
      { personIds: ['p1'] },
      { headers: { 'idempotency-key': 'key-7' } },
    );
    const again = await t.api.portal(
      'POST',
      '/portal/erasures',
      { personIds: ['p1'] },
      { headers: { 'idempotency-key': 'key-7' } },
    );
    const other = await t.api.portal(
      'POST',
      '/portal/erasures',
      { personIds: ['p2'] },
      { headers: { 'idempotency-key': 'key-7' } },
    );

    expect(again.body).toEqual(first.body);
    expect(other.status).toBe(409);
    expect(t.api.sandbox.calls).toHaveLength(1);
  });

  it('generates an erasure id when no Idempotency-Key is given', async () => {
    const a = await t.api.portal('POST', '/portal/erasures', { personIds: ['p1'] });
    const b = await t.api.portal('POST', '/portal/erasures', { personIds: ['p1'] });
    expect(a.body.erasureId).toMatch(/^erasure_[0-9a-f-]{36}$/);
    expect(b.body.erasureId).not.toBe(a.body.erasureId);
  });

  it('answers 202 with a portal Location while persons are pending', async () => {
    t.api.sandbox.script('locked', { status: 403 });
    const answer = await t.api.portal(
      'POST',
      '/portal/erasures',
      { personIds: ['locked'] },
      { headers: { 'idempotency-key': 'key-202' } },
    );
    expect(answer).toMatchObject({ status: 202, headers: { location: '/portal/erasures/key-202' } });
  });

  it('reads a record with GET /portal/erasures/{id}', async () => {
    const posted = await t.api.portal(
      'POST',
      '/portal/erasures',
      { personIds: ['p1'] },
      { headers: { 'idempotency-key': 'key-get' } },
    );
    const read = await t.api.portal('GET', '/portal/erasures/key-get', undefined);
    expect(read).toMatchObject({ status: 200, body: posted.body });
    expect((await t.api.portal('GET', '/portal/erasures/nope', undefined)).status).toBe(404);
  });

  it('refuses a portal route that arrives without an IAM identity, without calling Verifik', async () => {
    const post = await t.api.portal('POST', '/portal/erasures', { personIds: ['p1'] }, { principal: null });
    const get = await t.api.portal('GET', '/portal/erasures/x', undefined, { principal: null });
    expect(post).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect(get.status).toBe(403);
    expect(t.api.sandbox.calls).toHaveLength(0);
  });

  it('validates like the webhook route', async () => {
    expect((await t.api.portal('POST', '/portal/erasures', { personIds: ['../x'] })).status).toBe(400);
    expect((await t.api.portal('POST', '/portal/erasures', '{oops')).status).toBe(400);
    expect(
      (await t.api.portal('POST', '/portal/erasures', { personIds: ['p1'] }, { headers: { 'content-type': 'text/plain' } }))
        .status,
    ).toBe(415);
    expect(
      (await t.api.portal('POST', '/portal/erasures', { personIds: ['p1'] }, { headers: { 'idempotency-key': 'bad key' } }))
        .status,
    ).toBe(400);
    expect(t.api.sandbox.calls).toHaveLength(0);
  });
});
