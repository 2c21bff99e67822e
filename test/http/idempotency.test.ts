import { useHarness } from '../support/http-harness';

const t = useHarness();

describe('POST /erasures: redelivery and conflicts', () => {
  it('uses the webhook-id as the erasure id', async () => {
    const answer = await t.api.post({ personIds: ['p1'] }, { id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' });
    expect(answer.body.erasureId).toBe('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W');
  });

  it('returns the stored record on redelivery without calling Verifik for terminal persons', async () => {
    const id = t.api.sandbox.createPerson();
    const body = { personIds: [id, 'gone'], subjectRef: 'crm-contact-8812', reason: 'gdpr-art-17' };
    const first = await t.api.post(body, { id: 'msg_redelivered' });
    const callsAfterFirst = t.api.sandbox.calls.length;

    const second = await t.api.post(body, { id: 'msg_redelivered' });

    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(t.api.sandbox.calls).toHaveLength(callsAfterFirst);
  });

  it('treats the same set of ids in another order, with repeats, as the same request', async () => {
    await t.api.post({ personIds: ['a', 'b'], reason: 'r' }, { id: 'msg_order' });
    const again = await t.api.post({ personIds: ['b', 'a', 'b'], reason: 'r', unknownField: 1 }, { id: 'msg_order' });
    expect(again.status).toBe(200);
    expect(again.body.persons.map((p: { personId: string }) => p.personId)).toEqual(['a', 'b']);
  });

  it.each([
    ['another person', { personIds: ['p2'], reason: 'r' }],
    ['another reason', { personIds: ['p1'], reason: 'other' }],
    ['a subjectRef added', { personIds: ['p1'], reason: 'r', subjectRef: 'crm-1' }],
    ['requestedBy dropped', { personIds: ['p1'] }],
  ])('answers 409 when the same id comes with %s, without calling Verifik', async (_what, body) => {
    await t.api.post({ personIds: ['p1'], reason: 'r', requestedBy: 'crm' }, { id: 'msg_conflict' });
    const calls = t.api.sandbox.calls.length;

    const conflict = await t.api.post(body, { id: 'msg_conflict' });

    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ error: 'idempotency_conflict' });
    expect(t.api.sandbox.calls).toHaveLength(calls);
  });

  it('retries only the pending persons on redelivery, and completes once Verifik accepts', async () => {
    const ok = t.api.sandbox.createPerson();
    const later = t.api.sandbox.createPerson();
    t.api.sandbox.script(later, { status: 401, body: { error: 'Unauthorized', message: 'UNAUTHORIZED' } });
    const first = await t.api.post({ personIds: [ok, later] }, { id: 'msg_partial' });
    expect(first.status).toBe(202);

    const second = await t.api.post({ personIds: [ok, later] }, { id: 'msg_partial' });

    expect(second.status).toBe(200);
    expect(second.body.persons).toMatchObject([
      { personId: ok, outcome: 'erased', attempts: 1 },
      { personId: later, outcome: 'erased', attempts: 2 },
    ]);
    expect(t.api.sandbox.callsFor(ok, 'DELETE')).toHaveLength(1);
  });

  it('lets concurrent duplicate deliveries call Verifik once and agree on the outcome', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.script(id, { status: 200, delayMs: 300, body: { success: true, data: { _id: id } } });
    const body = { personIds: [id] };

    const answers = await Promise.all([1, 2, 3].map(() => t.api.post(body, { id: 'msg_concurrent' })));

    expect(t.api.sandbox.callsFor(id, 'DELETE')).toHaveLength(1);
    for (const answer of answers) {
      expect([200, 202]).toContain(answer.status);
      expect(answer.body.persons[0].outcome).not.toBe('already_erased');
    }
    const settled = await t.api.get('msg_concurrent');
    expect(settled.body.persons[0]).toMatchObject({ outcome: 'erased', vendorStatus: 200, attempts: 1 });
  });

  it('never turns an erased person into already_erased when a second delivery runs after the first', async () => {
    const id = t.api.sandbox.createPerson();
    await t.api.post({ personIds: [id] }, { id: 'msg_twice' });
    t.api.sandbox.createPerson(id); // even if Verifik would now answer 200 again, nothing is called

    const again = await t.api.post({ personIds: [id] }, { id: 'msg_twice' });

    expect(again.body.persons[0].outcome).toBe('erased');
    expect(t.api.sandbox.callsFor(id, 'DELETE')).toHaveLength(1);
    expect(t.api.sandbox.callsFor(id, 'GET')).toHaveLength(1);
  });
});
