import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { useHarness } from '../support/http-harness';

// The first durable retry 50 ms after a request: an unclear GET is verified again at once.
const t = useHarness({ RETRY_SCHEDULE: '0.05,0.05,0.05', VERIFIK_RETRY_LIMIT: '1' });

describe('verified absence through the HTTP API and the Verifik sandbox', () => {
  it('erases, reads the person back (404 PERSON_NOT_FOUND) and answers 200 with verifiedAbsentAt', async () => {
    const id = t.api.sandbox.createPerson();

    const answer = await t.api.post({ personIds: [id] });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'completed',
      persons: [{ outcome: 'erased', verifiedAbsentAt: expect.any(String) }],
    });
    expect(t.api.sandbox.callsFor(id).map((call) => call.method)).toEqual(['DELETE', 'GET']);
    expect(t.api.sandbox.callsFor(id, 'GET')[0]).toMatchObject({
      path: `/v2/face-recognition/persons/${id}`,
      query: '',
      authorization: `Bearer ${t.api.env.VERIFIK_TOKEN}`,
    });
  });

  it('fails a person Verifik still returns after a 200 delete (STILL_PRESENT) and counts it for the alarm', async () => {
    const id = t.api.sandbox.createPerson();
    // Verifik says it deleted the person, but keeps it.
    t.api.sandbox.script(id, { status: 200, body: { success: true, data: { _id: id } } });
    t.api.sandbox.getResponder = () => ({ status: 200, body: { data: { _id: id, name: 'Jane Doe' } } });
    const added = jest.spyOn(t.api.metrics, 'addMetric');

    const answer = await t.api.post({ personIds: [id] });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'failed',
      persons: [{ outcome: 'failed', vendorStatus: 200, lastError: expect.stringMatching(/^STILL_PRESENT: /) }],
    });
    expect(added).toHaveBeenCalledWith('VerifikPersonStillPresent', MetricUnit.Count, 1);
    // The person's data from the GET never reaches the record.
    expect(JSON.stringify((await t.api.get(answer.body.erasureId)).body)).not.toContain('Jane');
  });

  it('answers 202 while the GET gets no clear answer, and the retry path verifies it later without deleting again', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.scriptGet(id, { status: 503 }, { status: 503 });

    const answer = await t.api.post({ personIds: [id] });

    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({
      status: 'pending',
      persons: [
        {
          outcome: 'pending',
          vendorStatus: 200,
          deletedAt: expect.any(String),
          lastError: expect.stringContaining('not yet verified'),
        },
      ],
    });
    expect(answer.body.completedAt).toBeUndefined();

    await t.api.retryQueue.idle();

    const settled = (await t.api.get(answer.body.erasureId)).body;
    expect(settled).toMatchObject({
      status: 'completed',
      persons: [{ outcome: 'erased', verifiedAbsentAt: expect.any(String) }],
    });
    expect(t.api.sandbox.callsFor(id, 'DELETE')).toHaveLength(1);
    expect(t.api.sandbox.callsFor(id, 'GET')).toHaveLength(3);
  });
});

describe('with VERIFY_AFTER_DELETE=false', () => {
  const off = useHarness({ VERIFY_AFTER_DELETE: 'false' });

  it('records a 2xx as erased without reading the person back', async () => {
    const id = off.api.sandbox.createPerson();

    const answer = await off.api.post({ personIds: [id] });

    expect(answer.status).toBe(200);
    expect(answer.body.persons[0]).toMatchObject({ outcome: 'erased' });
    expect(answer.body.persons[0].verifiedAbsentAt).toBeUndefined();
    expect(off.api.sandbox.calls.map((call) => call.method)).toEqual(['DELETE']);
  });
});
