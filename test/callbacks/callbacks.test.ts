import { Webhook } from 'standardwebhooks';
import { CallbackReceiver, type ReceivedCallback } from '../support/callback-receiver';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { PORTAL_PRINCIPAL, startHarness, type Harness } from '../support/http-harness';

const RETRIES = ['0.05', '0.05', '0.05'];

let dynamo: TestDynamo;
let receiver: CallbackReceiver;
let api: Harness;
/** Whether a test waits for the retry chain (which announces what ends on the retry path). */
let waitForRetries = false;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  receiver = await CallbackReceiver.start();
});
afterAll(async () => {
  await receiver.close();
  await dynamo.close();
});
afterEach(() => api.close());

/**
 * A fresh harness per test whose callbacks go to the receiver. `retryPath: false`: the retry chain's
 * first message comes after the test (closing drops it), so an erasure that ends inline is announced
 * by the request path alone; `true`: the chain runs at once, for erasures that end on the retry path.
 */
function useCallbackHarness({ retryPath }: { retryPath: boolean }) {
  beforeEach(async () => {
    receiver.reset();
    waitForRetries = retryPath;
    api = await startHarness(dynamo, {
      CALLBACK_ALLOWED_HOSTS: `portal.example.com, ${receiver.host}`,
      CALLBACK_RETRY_SCHEDULE: RETRIES.join(','),
      CALLBACK_TIMEOUT_MS: '1000',
      RETRY_SCHEDULE: retryPath ? '0.05,0.05,0.05' : '600,600,600',
      VERIFIK_RETRY_LIMIT: '0',
      // Budgets a busy 2-core machine cannot overrun: what a test means to end inline does.
      INLINE_BUDGET_MS: '20000',
      VERIFIK_TIMEOUT_MS: '5000',
    });
  });
}

/** Everything queued has run: the retry chain when the test uses it (it may announce), then the callbacks. */
async function settled(): Promise<void> {
  if (waitForRetries) await api.retryQueue.idle();
  await api.callbackQueue.idle();
}

/** The callback as the receiver checks it: the Standard Webhooks signature with the callback secret, then the JSON. */
function verified(callback: ReceivedCallback) {
  const headers = callback.headers as Record<string, string>;
  return new Webhook(api.env.CALLBACK_SECRET!).verify(callback.body, headers) as { type: string; timestamp: string; data: any };
}

describe('callbacks: the outcome is POSTed to callbackUrl, signed', () => {
  useCallbackHarness({ retryPath: false });

  it('POSTs erasure.completed with the record as GET answers it, signed with the callback secret', async () => {
    const person = api.sandbox.createPerson();
    const answer = await api.post({ personIds: [person], callbackUrl: receiver.url() });
    expect(answer.status).toBe(200);
    expect(answer.body.callback).toEqual({ url: receiver.url(), attempts: 0 });

    await settled();
    expect(receiver.received).toHaveLength(1);
    const [callback] = receiver.received;
    expect(callback).toMatchObject({ method: 'POST', path: '/hooks/erasures' });
    expect(callback!.headers['content-type']).toBe('application/json');
    const event = verified(callback!);
    const { callback: _state, ...record } = answer.body;
    expect(event).toMatchObject({ type: 'erasure.completed', timestamp: answer.body.completedAt });
    expect(event.data).toMatchObject({ ...record, callback: { url: receiver.url() } });

    const read = await api.get(answer.body.erasureId);
    expect(read.body.callback).toEqual({
      url: receiver.url(),
      eventId: callback!.headers['webhook-id'],
      attempts: 1,
      deliveredAt: expect.any(String),
      lastStatus: 200,
    });
  });

  it('refuses a callback signed with another key (the receiver can tell a forgery)', async () => {
    await api.post({ personIds: [api.sandbox.createPerson()], callbackUrl: receiver.url() });
    await settled();
    const headers = receiver.received[0]!.headers as Record<string, string>;
    expect(() => new Webhook(api.secrets[0]!).verify(receiver.received[0]!.body, headers)).toThrow();
  });

  it('POSTs erasure.failed when a person failed', async () => {
    const person = api.sandbox.createPerson();
    api.sandbox.script(person, { status: 400, body: { code: 'BAD_REQUEST' } });
    const answer = await api.post({ personIds: [person], callbackUrl: receiver.url() });
    expect(answer.body.status).toBe('failed');

    await settled();
    const event = verified(receiver.received[0]!);
    expect(event.type).toBe('erasure.failed');
    expect(event.data).toMatchObject({ erasureId: answer.body.erasureId, status: 'failed' });
  });

  it('takes callbackUrl from a portal call and from a direct invocation too', async () => {
    const viaPortal = await api.portal('POST', '/portal/erasures', {
      personIds: [api.sandbox.createPerson()],
      callbackUrl: receiver.url('/portal'),
    });
    const viaInvoke = await api.invoke({ personIds: [api.sandbox.createPerson()], callbackUrl: receiver.url('/invoke') });
    expect(viaPortal.body.callback).toMatchObject({ url: receiver.url('/portal') });
    expect(viaInvoke.body).toMatchObject({ callback: { url: receiver.url('/invoke') } });

    await settled();
    expect(receiver.received.map((r) => r.path).sort()).toEqual(['/invoke', '/portal']);
    const portalEvent = verified(receiver.received.find((r) => r.path === '/portal')!);
    expect(portalEvent.data.requestedBy).toBe(PORTAL_PRINCIPAL);
  });

  it('sends nothing for a request without callbackUrl, and shows no callback on its record', async () => {
    const answer = await api.post({ personIds: [api.sandbox.createPerson()] });
    await settled();
    expect(answer.body.callback).toBeUndefined();
    expect(receiver.received).toHaveLength(0);
    expect(api.callbackQueue.sent).toBe(0);
  });
});

describe('callbacks: delivered at least once', () => {
  useCallbackHarness({ retryPath: false });

  it('retries after a 5xx and after a dropped connection, then records the delivery', async () => {
    receiver.answer(503, 'drop', 200);
    const answer = await api.post({ personIds: [api.sandbox.createPerson()], callbackUrl: receiver.url() });
    await settled();

    expect(receiver.received).toHaveLength(3);
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    for (const callback of receiver.received) expect(verified(callback).type).toBe('erasure.completed');
    const read = await api.get(answer.body.erasureId);
    expect(read.body.callback).toMatchObject({ attempts: 3, lastStatus: 200, deliveredAt: expect.any(String) });
  });

  it('records a dropped connection as connection_failed while it retries', async () => {
    receiver.answer('drop', 'drop', 'drop', 'drop');
    const answer = await api.post({ personIds: [api.sandbox.createPerson()], callbackUrl: receiver.url() });
    await settled();
    const read = await api.get(answer.body.erasureId);
    expect(read.body.callback).toEqual({
      url: receiver.url(),
      eventId: expect.stringMatching(/^evt_/),
      attempts: 4,
      lastError: 'connection_failed',
    });
  });

  it('dead-letters the callback after the last attempt, and a redrive delivers it', async () => {
    receiver.answer(500, 500, 500, 500);
    const answer = await api.post({ personIds: [api.sandbox.createPerson()], callbackUrl: receiver.url() });
    await settled();

    expect(receiver.received).toHaveLength(RETRIES.length + 1);
    expect(api.callbackQueue.deadLetters).toEqual([
      expect.objectContaining({ erasureId: answer.body.erasureId, deadLettered: true }),
    ]);
    const failed = await api.get(answer.body.erasureId);
    expect(failed.body.callback).toMatchObject({ attempts: 4, lastStatus: 500 });
    expect(failed.body.callback.deliveredAt).toBeUndefined();

    expect(api.callbackQueue.redriveDeadLetters()).toBe(1);
    await settled();
    expect(receiver.received).toHaveLength(RETRIES.length + 2);
    const delivered = await api.get(answer.body.erasureId);
    expect(delivered.body.callback).toMatchObject({ attempts: 5, lastStatus: 200, deliveredAt: expect.any(String) });
  });

  it('never follows a redirect', async () => {
    receiver.answer(302, 302, 302, 302);
    const answer = await api.post({ personIds: [api.sandbox.createPerson()], callbackUrl: receiver.url() });
    await settled();
    expect(receiver.received.every((r) => r.path === '/hooks/erasures')).toBe(true);
    const read = await api.get(answer.body.erasureId);
    expect(read.body.callback).toMatchObject({ lastStatus: 302, lastError: 'redirect_refused' });
  });

  it('does not POST a delivered event again when the request is redelivered', async () => {
    const body = { personIds: [api.sandbox.createPerson()], callbackUrl: receiver.url() };
    await api.post(body, { id: 'msg_callback_redelivered' });
    await settled();
    const again = await api.post(body, { id: 'msg_callback_redelivered' });
    await settled();
    expect(again.status).toBe(200);
    expect(receiver.received).toHaveLength(1);
  });
});

describe('callbacks: erasures that end on the retry path', () => {
  useCallbackHarness({ retryPath: true });

  it('POSTs once the retry path ends the erasure, not while it is pending', async () => {
    const person = api.sandbox.createPerson();
    api.sandbox.script(person, { status: 503 });
    const answer = await api.post({ personIds: [person], callbackUrl: receiver.url() });
    expect(answer.status).toBe(202);

    await settled();
    expect(receiver.received).toHaveLength(1);
    const event = verified(receiver.received[0]!);
    expect(event).toMatchObject({ type: 'erasure.completed', data: { status: 'completed' } });
    expect(event.data.persons[0]).toMatchObject({ personId: person, outcome: 'erased' });
  });

  it('POSTs erasure.failed when the retry schedule runs out (dead-lettered erasure)', async () => {
    const person = api.sandbox.createPerson();
    api.sandbox.responder = () => ({ status: 503 });
    const answer = await api.post({ personIds: [person], callbackUrl: receiver.url() });
    expect(answer.status).toBe(202);

    await settled();
    expect(api.retryQueue.deadLetters).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    expect(verified(receiver.received[0]!)).toMatchObject({ type: 'erasure.failed', data: { status: 'failed' } });
  });

  it('announces again, with a new event, when a redrive ends the erasure a second time', async () => {
    const person = api.sandbox.createPerson();
    api.sandbox.responder = () => ({ status: 503 });
    await api.post({ personIds: [person], callbackUrl: receiver.url() });
    await settled();
    api.sandbox.responder = undefined;

    expect(api.retryQueue.redriveDeadLetters()).toBe(1);
    await settled();
    expect(receiver.received.map((r) => verified(r).type)).toEqual(['erasure.failed', 'erasure.completed']);
    const [first, second] = receiver.received.map((r) => r.headers['webhook-id']);
    expect(second).not.toBe(first);
  });

  it('loses no callback when the enqueue fails right after the terminal write: the retry chain announces it', async () => {
    const schedule = jest.spyOn(api.callbackQueue, 'schedule').mockRejectedValueOnce(new Error('the invocation died'));
    const answer = await api.post({ personIds: [api.sandbox.createPerson()], callbackUrl: receiver.url() });
    expect(answer.status).toBe(200);
    expect(schedule).toHaveBeenCalledTimes(1);

    await settled();
    expect(schedule).toHaveBeenCalledTimes(2);
    expect(receiver.received).toHaveLength(1);
    expect(verified(receiver.received[0]!).data.erasureId).toBe(answer.body.erasureId);
  });

  it('loses no callback when the retry worker dies after the terminal write: its message comes back', async () => {
    const person = api.sandbox.createPerson();
    api.sandbox.script(person, { status: 503 });
    const schedule = jest.spyOn(api.callbackQueue, 'schedule').mockRejectedValueOnce(new Error('the invocation died'));
    await api.post({ personIds: [person], callbackUrl: receiver.url() });
    await settled();

    expect(api.retryQueue.redeliveries).toBeGreaterThanOrEqual(1);
    expect(schedule.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(receiver.received).toHaveLength(1);
    expect(verified(receiver.received[0]!).type).toBe('erasure.completed');
  });
});

describe('callbacks: callbackUrl is checked before anything is recorded or sent', () => {
  useCallbackHarness({ retryPath: false });

  const refused = () => [
    ['a host not on the allowlist', 'https://attacker.example.net/hooks'],
    ['plain http to a host that is not loopback', 'http://portal.example.com/hooks'],
    ['a malformed URL', 'https//portal.example.com'],
    ['a relative URL', '/hooks/erasures'],
    ['another scheme', 'file:///etc/passwd'],
    ['credentials in the URL', 'https://user:pw@portal.example.com/hooks'],
    ['a loopback port not on the allowlist', 'http://127.0.0.1:1/hooks'],
    ['an internal address', 'http://169.254.169.254/latest/meta-data'],
    ['a number', 42],
  ];

  /** Nothing recorded, nothing queued, no call to Verifik or to any callback host. */
  async function expectNothingHappened(erasureId: string) {
    expect(await api.store.getErasure(erasureId)).toBeUndefined();
    expect(api.sandbox.calls).toHaveLength(0);
    expect(api.retryQueue.sent).toBe(0);
    expect(api.callbackQueue.sent).toBe(0);
    await api.callbackQueue.idle();
    expect(receiver.received).toHaveLength(0);
  }

  it.each(refused())('answers a webhook 400 for %s', async (_what, callbackUrl) => {
    const answer = await api.post({ personIds: ['p1'], callbackUrl }, { id: 'msg_refused_callback' });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_request', details: [expect.objectContaining({ path: 'callbackUrl' })] });
    await expectNothingHappened('msg_refused_callback');
  });

  it.each(refused())('answers a portal call 400 for %s', async (_what, callbackUrl) => {
    const answer = await api.portal(
      'POST',
      '/portal/erasures',
      { personIds: ['p1'], callbackUrl },
      {
        headers: { 'idempotency-key': 'portal_refused_callback' },
      },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_request');
    await expectNothingHappened('portal_refused_callback');
  });

  it.each(refused())('answers a direct invocation 400 for %s', async (_what, callbackUrl) => {
    const answer = await api.invoke({ erasureId: 'invoke_refused_callback', personIds: ['p1'], callbackUrl });
    expect(answer).toMatchObject({ statusCode: 400, body: { error: 'invalid_request' } });
    await expectNothingHappened('invoke_refused_callback');
  });

  it('refuses every callbackUrl when the operator allowlisted none', async () => {
    await api.close();
    api = await startHarness(dynamo, { CALLBACK_ALLOWED_HOSTS: '' });
    const answer = await api.post({ personIds: ['p1'], callbackUrl: receiver.url() }, { id: 'msg_no_allowlist' });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/takes no callbacks/);
    await expectNothingHappened('msg_no_allowlist');
  });

  it('treats another callbackUrl under the same erasure id as another request (409)', async () => {
    const person = api.sandbox.createPerson();
    const first = await api.post({ personIds: [person], callbackUrl: receiver.url('/a') }, { id: 'msg_callback_conflict' });
    expect(first.status).toBe(200);
    const other = await api.post({ personIds: [person], callbackUrl: receiver.url('/b') }, { id: 'msg_callback_conflict' });
    const none = await api.post({ personIds: [person] }, { id: 'msg_callback_conflict' });
    expect(other).toMatchObject({ status: 409, body: { error: 'idempotency_conflict' } });
    expect(none).toMatchObject({ status: 409, body: { error: 'idempotency_conflict' } });

    const same = await api.post({ personIds: [person], callbackUrl: receiver.url('/a') }, { id: 'msg_callback_conflict' });
    expect(same.status).toBe(200);
    await settled();
    expect(receiver.received.map((r) => r.path)).toEqual(['/a']);
  });
});
