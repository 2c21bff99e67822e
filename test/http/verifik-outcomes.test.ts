import { startHarness, useHarness } from '../support/http-harness';

const t = useHarness();

const erase = (personIds: string[]) => t.api.post({ personIds, reason: 'gdpr-art-17', requestedBy: 'crm' });

describe('POST /erasures: what each Verifik answer means', () => {
  it('records a 200 in the first documented shape as erased and answers 200 completed', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.script(id, { status: 200, body: { success: true, message: 'Person deleted successfully', data: { _id: id } } });

    const answer = await erase([id]);

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'completed',
      reason: 'gdpr-art-17',
      requestedBy: 'crm',
      persons: [{ personId: id, outcome: 'erased', vendorStatus: 200, attempts: 1, evidence: { deletedId: id } }],
    });
    expect(answer.body.completedAt).toBe(answer.body.persons[0].completedAt);
    expect(t.api.sandbox.has(id)).toBe(false);
  });

  it('keeps the signature block of the second documented 200 shape as evidence', async () => {
    const id = t.api.sandbox.createPerson();
    const signature = { message: 'Certified by Verifik.co', dateTime: 'Sat, 28 Nov 2026 10:00:00 GMT' };
    t.api.sandbox.script(id, { status: 200, body: { id: 'RQ1', data: { _id: id }, signature } });

    const answer = await erase([id]);

    expect(answer.body.persons[0]).toMatchObject({
      outcome: 'erased',
      evidence: { signature: 'Certified by Verifik.co', dateTime: signature.dateTime, responseId: 'RQ1', deletedId: id },
    });
  });

  it('treats a Verifik 404 as already erased, recorded with vendorStatus 404', async () => {
    const answer = await erase(['65175da13e81e4fabc12345f']);

    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('completed');
    expect(answer.body.persons).toEqual([
      {
        personId: '65175da13e81e4fabc12345f',
        outcome: 'already_erased',
        vendorStatus: 404,
        attempts: 1,
        completedAt: expect.any(String),
        // Verifik's 404 PERSON_NOT_FOUND to the DELETE proves the absence itself: no GET is needed.
        verifiedAbsentAt: answer.body.persons[0].completedAt,
      },
    ]);
    expect(t.api.sandbox.calls.map((call) => call.method)).toEqual(['DELETE']);
  });

  it.each([401, 403])('never records a Verifik %i as erased: the person stays pending and the answer is 202', async (status) => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.script(id, { status, body: { error: 'Unauthorized', message: 'UNAUTHORIZED' } });

    const answer = await erase([id]);

    expect(answer.status).toBe(202);
    expect(answer.headers.location).toBe(`/erasures/${answer.body.erasureId}`);
    expect(answer.body.status).toBe('pending');
    expect(answer.body.persons[0]).toMatchObject({
      outcome: 'pending',
      vendorStatus: status,
      lastError: expect.stringContaining(String(status)),
    });
    expect(t.api.sandbox.has(id)).toBe(true);
  });

  it('records a wrong token as pending, never erased', async () => {
    const id = t.api.sandbox.createPerson();
    const wrongToken = await startHarness(t.dynamo, { VERIFIK_BASE_URL: t.api.sandbox.url, VERIFIK_TOKEN: 'expired' });
    try {
      const answer = await wrongToken.post({ personIds: [id] });
      expect(answer.status).toBe(202);
      expect(answer.body.persons[0]).toMatchObject({ outcome: 'pending', vendorStatus: 401 });
    } finally {
      await wrongToken.close();
    }
  });

  it.each([400, 409, 422])(
    'fails a person at once on another 4xx (%i), keeping the vendor status and code only',
    async (status) => {
      t.api.sandbox.script('p1', { status, body: { error: 'Refused', message: 'NOPE' } });

      const answer = await erase(['p1']);

      expect(answer.status).toBe(200);
      expect(answer.body.status).toBe('failed');
      expect(answer.body.persons[0]).toMatchObject({
        outcome: 'failed',
        vendorStatus: status,
        lastError: `Verifik answered ${status} (NOPE)`,
      });
      expect(t.api.sandbox.callsFor('p1')).toHaveLength(1);
    },
  );

  it('never follows a 3xx: the person fails and nothing else is called', async () => {
    t.api.sandbox.script('p1', { status: 307, headers: { location: `${t.api.sandbox.url}/v2/auth/session` } });

    const answer = await erase(['p1']);

    expect(answer.body.persons[0]).toMatchObject({
      outcome: 'failed',
      vendorStatus: 307,
      lastError: expect.stringContaining('not followed'),
    });
    expect(t.api.sandbox.calls.map((c) => c.path)).toEqual(['/v2/face-recognition/persons/p1']);
  });

  it.each([
    ['a 429 with Retry-After', { status: 429, headers: { 'retry-after': '0' } }],
    ['a 500', { status: 500 }],
    ['a 503', { status: 503 }],
    ['a 408', { status: 408 }],
    ['a slow answer', { status: 503, delayMs: 800 }],
    ['a dropped connection', { drop: true as const }],
  ])('retries %s within the request and then records the erasure', async (_name, failure) => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.script(id, failure);

    const answer = await erase([id]);

    expect(answer.status).toBe(200);
    expect(answer.body.persons[0]).toMatchObject({ outcome: 'erased', attempts: 2 });
  });

  it('leaves a person pending with lastError when 5xx outlasts the time budget', async () => {
    t.api.sandbox.responder = () => ({ status: 502 });

    const answer = await erase(['p1']);

    expect(answer.status).toBe(202);
    expect(answer.body.persons[0]).toMatchObject({
      outcome: 'pending',
      vendorStatus: 502,
      lastError: expect.stringContaining('502'),
    });
    expect(answer.body.persons[0].attempts).toBeGreaterThan(1);
  });

  it('answers pending at once when Retry-After points beyond the budget, and keeps when to retry', async () => {
    t.api.sandbox.script('p1', { status: 429, headers: { 'retry-after': '600' } });

    const answer = await erase(['p1']);

    expect(answer.status).toBe(202);
    expect(answer.body.persons[0]).toMatchObject({ outcome: 'pending', vendorStatus: 429, attempts: 1 });
    expect(Date.parse(answer.body.persons[0].retryAfter) - Date.now()).toBeGreaterThan(590_000);
  });

  it('records an already_erased after an uncertain attempt with a note saying so', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.script(id, { status: 200, delayMs: 800, body: {} });

    const answer = await erase([id]);

    expect(answer.body.persons[0]).toMatchObject({
      outcome: 'already_erased',
      vendorStatus: 404,
      note: expect.stringContaining('may have deleted'),
    });
  });

  it('reports each person on its own and derives the request status from all of them', async () => {
    const erased = t.api.sandbox.createPerson();
    t.api.sandbox.script('refused', { status: 400 });
    t.api.sandbox.script('locked', { status: 403 });

    const failed = await erase([erased, 'gone', 'refused']);
    expect(failed.status).toBe(200);
    expect(failed.body.status).toBe('failed');
    expect(failed.body.persons.map((p: { outcome: string }) => p.outcome)).toEqual(['erased', 'already_erased', 'failed']);

    const pending = await erase(['refused2', 'locked']);
    expect(pending.status).toBe(202);
    expect(pending.body.status).toBe('pending');
    expect(pending.body.completedAt).toBeUndefined();
  });

  it('calls Verifik with the id URL-encoded, the bearer token and no collection parameter', async () => {
    await erase(['person_123456789', 'A-b_9']);

    expect(t.api.sandbox.calls.map(({ method, path, query, authorization }) => ({ method, path, query, authorization }))).toEqual(
      expect.arrayContaining([
        {
          method: 'DELETE',
          path: '/v2/face-recognition/persons/person_123456789',
          query: '',
          authorization: `Bearer ${t.api.env.VERIFIK_TOKEN}`,
        },
        {
          method: 'DELETE',
          path: '/v2/face-recognition/persons/A-b_9',
          query: '',
          authorization: `Bearer ${t.api.env.VERIFIK_TOKEN}`,
        },
      ]),
    );
  });
});
