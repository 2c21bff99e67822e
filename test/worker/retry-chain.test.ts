import { useHarness } from '../support/http-harness';

// Three durable attempts, 50 ms apart; one retry inside each call (two DELETEs a call at most).
const RETRY_LIMIT = 1;
const SCHEDULE = [0.05, 0.05, 0.05];
const t = useHarness({ RETRY_SCHEDULE: SCHEDULE.join(','), INLINE_BUDGET_MS: '10000', VERIFIK_RETRY_LIMIT: String(RETRY_LIMIT) });

/** DELETEs one call may make, and what a redelivery may add before only the chain calls Verifik. */
const PER_CALL = RETRY_LIMIT + 1;
const REDELIVERY_CAP = 2 * PER_CALL;
/** Deliveries call until the person has REDELIVERY_CAP attempts (the last call may overshoot by one call), then only the chain does. */
const BOUND = REDELIVERY_CAP + PER_CALL + SCHEDULE.length * PER_CALL;

describe('one durable retry chain per erasure', () => {
  it('keeps one chain and a bounded number of DELETEs however often a request is delivered or replayed', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.responder = () => ({ status: 503 });
    const body = { personIds: [id] };
    const deliveries = 10;

    for (let i = 0; i < deliveries; i++) expect([200, 202]).toContain((await t.api.post(body, { id: 'msg_replayed' })).status);
    // A conflicting body under the same id is refused, and must not start a chain either.
    expect((await t.api.post({ personIds: [id, 'other'] }, { id: 'msg_replayed' })).status).toBe(409);
    await t.api.retryQueue.idle();

    const settled = await t.api.get('msg_replayed');
    expect(settled.body.persons[0]).toMatchObject({ outcome: 'failed', exhausted: true });
    expect(t.api.retryQueue.deadLetters).toHaveLength(1);
    // One message armed per delivery (the 409's included) and one chain: its steps after the first,
    // at most one wait for a redelivery's lease before giving up, and one look again when its first
    // message arrives before the request is recorded (a busy machine).
    expect(t.api.retryQueue.sent).toBeLessThanOrEqual(deliveries + 1 + (SCHEDULE.length - 1) + 1 + 1);
    expect(t.api.sandbox.callsFor(id).length).toBeLessThanOrEqual(BOUND);
  });

  it('lets a redrive of the dead-letter queue resume the one chain', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.responder = () => ({ status: 503 });
    await t.api.post({ personIds: [id] }, { id: 'msg_redriven' });
    await t.api.post({ personIds: [id] }, { id: 'msg_redriven' });
    await t.api.retryQueue.idle();
    expect(t.api.retryQueue.deadLetters).toHaveLength(1);

    t.api.sandbox.responder = undefined;
    expect(t.api.retryQueue.redriveDeadLetters()).toBe(1);
    await t.api.retryQueue.idle();

    expect((await t.api.get('msg_redriven')).body).toMatchObject({ status: 'completed', persons: [{ outcome: 'erased' }] });
  });
});
