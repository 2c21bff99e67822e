import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { useHarness } from '../support/http-harness';

/** What reaches the audit trail from Verifik's answers: only what they prove, only what is safe to keep. */
const t = useHarness();

describe('what a Verifik answer may put in the audit trail', () => {
  it.each([
    ['an HTML page from a proxy', { status: 404, body: '<html>404</html>', headers: { 'content-type': 'text/html' } }],
    ['a wrong path (another code)', { status: 404, body: { error: 'Not found', message: 'NOT_FOUND' } }],
    ['an empty body', { status: 404 }],
  ])('records a 404 without PERSON_NOT_FOUND (%s) as failed, never already_erased, and counts it', async (_what, answer) => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.script(id, answer);
    const added = jest.spyOn(t.api.metrics, 'addMetric');

    const posted = await t.api.post({ personIds: [id] });

    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ status: 'failed', persons: [{ outcome: 'failed', vendorStatus: 404 }] });
    expect(added).toHaveBeenCalledWith('VerifikUnexpectedNotFound', MetricUnit.Count, 1);
    expect(t.api.sandbox.has(id)).toBe(true);
  });

  it('keeps only the status and a code from an error body: no name, no echoed token', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.script(id, {
      status: 422,
      body: { error: `Person Jane Doe refused; Authorization: Bearer ${t.api.env.VERIFIK_TOKEN}`, message: 'PERSON_LOCKED' },
    });

    const posted = await t.api.post({ personIds: [id] });
    const read = await t.api.get(posted.body.erasureId);

    expect(read.body.persons[0]).toMatchObject({ outcome: 'failed', lastError: 'Verifik answered 422 (PERSON_LOCKED)' });
    expect(JSON.stringify(read.body)).not.toContain('Jane');
    expect(JSON.stringify(read.body)).not.toContain(t.api.env.VERIFIK_TOKEN!);
  });

  it('drops an error "code" that is free text', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.script(id, { status: 400, body: { message: 'Jane Doe is not allowed' } });
    const posted = await t.api.post({ personIds: [id] });
    expect(posted.body.persons[0].lastError).toBe('Verifik answered 400');
  });

  it.each(['99999999999999', '315360000', 'later, maybe'])(
    'records a Retry-After of %s as at most one hour, answering 202 (never 500)',
    async (header) => {
      const id = t.api.sandbox.createPerson();
      t.api.sandbox.script(id, { status: 429, headers: { 'retry-after': header } });
      const before = Date.now();

      const posted = await t.api.post({ personIds: [id] });

      expect(posted.status).toBe(202);
      const [stored] = (await t.api.store.getErasure(posted.body.erasureId))!.persons;
      const wait = Date.parse(stored!.retryAfter!) - before;
      expect(wait).toBeGreaterThan(3_590_000);
      expect(wait).toBeLessThanOrEqual(3_600_000 + (Date.now() - before));
    },
  );
});

describe('a Verifik token that cannot be read', () => {
  it('records the request, answers 202, and a later delivery erases without an "interrupted" note', async () => {
    const id = t.api.sandbox.createPerson();
    const token = t.api.env.VERIFIK_TOKEN!;
    delete t.api.env.VERIFIK_TOKEN;

    const first = await t.api.post({ personIds: [id] }, { id: 'msg_no_token' });

    expect(first.status).toBe(202);
    expect(first.body.persons[0]).toMatchObject({
      outcome: 'pending',
      attempts: 0,
      lastError: expect.stringContaining('nothing was sent'),
    });
    expect(t.api.sandbox.calls).toHaveLength(0);

    t.api.env.VERIFIK_TOKEN = token;
    const second = await t.api.post({ personIds: [id] }, { id: 'msg_no_token' });

    expect(second.status).toBe(200);
    expect(second.body.persons[0]).toEqual({
      personId: id,
      outcome: 'erased',
      vendorStatus: 200,
      attempts: 1,
      completedAt: expect.any(String),
      evidence: expect.any(Object),
      deletedAt: expect.any(String),
      verifiedAbsentAt: second.body.persons[0].completedAt,
      verifyAttempts: 1,
    });
  });
});

describe('what an answer shows of the request', () => {
  it('never serves the keyed hash of subjectRef, which would link erasures of one subject', async () => {
    const posted = await t.api.post({ personIds: ['p1'], subjectRef: 'crm-1' });
    const read = await t.api.get(posted.body.erasureId);
    const portal = await t.api.portal('POST', '/portal/erasures', { personIds: ['p2'], subjectRef: 'crm-1' });
    const invoked = await t.api.invoke({ personIds: ['p3'], subjectRef: 'crm-1' });

    for (const record of [posted.body, read.body, portal.body, invoked.body]) {
      expect(record).not.toHaveProperty('subjectRefHash');
    }
    expect((await t.api.store.getErasure(posted.body.erasureId))!.request.subjectRefHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("stores API Gateway's request id with the request, to match the access log", async () => {
    const portal = await t.api.portal('POST', '/portal/erasures', { personIds: ['p1'] }, { requestId: 'apigw-req-42' });
    const stored = await t.api.store.getErasure(portal.body.erasureId);
    expect(stored!.request.apiRequestId).toBe('apigw-req-42');
  });
});
