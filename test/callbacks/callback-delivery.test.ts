import { Webhook } from 'standardwebhooks';
import { CallbackDelivery } from '../../lambda/callbacks/callback-delivery';
import { callbackEventIdOf, isTerminalRecord } from '../../lambda/callbacks/callback-event';
import { CallbackSender } from '../../lambda/callbacks/callback-sender';
import { CallbackUrlPolicy } from '../../lambda/callbacks/callback-url';
import type { CallbackMessage } from '../../lambda/erasure/ports';
import { buildRecord } from '../../lambda/erasure/record';
import { RetryPolicy } from '../../lambda/erasure/retry-policy';
import type { LogSink } from '../../lambda/log';
import { newWebhookSecret } from '../../infra/local/signed-client';
import { CallbackReceiver } from '../support/callback-receiver';
import { MemoryAuditStore } from '../support/memory-audit-store';

const silent: LogSink = { debug() {}, info() {}, warn() {}, error() {} };
/** A scheduled message as it arrives once its time has come (the clock here stands still). */
const due = (message: CallbackMessage | undefined): CallbackMessage => ({ ...message!, notBefore: 0 });
const NOW = new Date('2026-11-29T10:00:00.000Z');

let receiver: CallbackReceiver;
beforeAll(async () => {
  receiver = await CallbackReceiver.start();
});
afterAll(() => receiver.close());
beforeEach(() => receiver.reset());

function setUp({ allowed = [receiver.host] }: { allowed?: string[] } = {}) {
  const store = new MemoryAuditStore();
  const secret = newWebhookSecret();
  const queue = { scheduled: [] as CallbackMessage[], deadLetters: [] as CallbackMessage[] };
  const counted: string[] = [];
  const delivery = new CallbackDelivery({
    store,
    queue: {
      schedule: async (message) => void queue.scheduled.push(message),
      deadLetter: async (message) => void queue.deadLetters.push(message),
    },
    sender: new CallbackSender({ secret: async () => secret, timeoutMs: 1_000, now: () => NOW }),
    policy: new CallbackUrlPolicy(allowed),
    retryPolicy: new RetryPolicy([5_000, 300_000], () => 0.5),
    count: (name) => counted.push(name),
    now: () => NOW,
  });
  store.requests.set('e1', {
    erasureId: 'e1',
    personIds: ['p1'],
    fingerprint: 'f',
    receivedAt: '2026-11-29T09:59:59.000Z',
    dueAt: '2026-12-29T09:59:59.000Z',
    expiresAt: 0,
    callbackUrl: receiver.url(),
  });
  store.persons.set('e1/p1', {
    erasureId: 'e1',
    receivedAt: '2026-11-29T09:59:59.000Z',
    personId: 'p1',
    outcome: 'erased',
    attempts: 1,
    completedAt: '2026-11-29T09:59:59.500Z',
  });
  const eventId = async () => {
    const stored = (await store.getErasure('e1'))!;
    const record = buildRecord(stored.request, stored.persons);
    if (!isTerminalRecord(record)) throw new Error('not terminal');
    return callbackEventIdOf(record);
  };
  return { store, secret, queue, counted, delivery, eventId };
}

describe('CallbackDelivery', () => {
  it('POSTs the event signed, with the event id as webhook-id and the time of signing', async () => {
    const { delivery, secret, eventId, store, counted } = setUp();
    const id = await eventId();
    const result = await delivery.deliver({ erasureId: 'e1', eventId: id, attempt: 0, notBefore: 0 }, silent);

    expect(result).toEqual({ kind: 'delivered', status: 200 });
    const [callback] = receiver.received;
    expect(callback!.headers['webhook-id']).toBe(id);
    expect(callback!.headers['webhook-timestamp']).toBe(String(NOW.getTime() / 1000));
    // verify() also checks the timestamp against the clock: sign again now to check the signature itself.
    const signed = new Webhook(secret).sign(id, NOW, callback!.body);
    expect(callback!.headers['webhook-signature']).toBe(signed);
    expect(JSON.parse(callback!.body)).toMatchObject({ type: 'erasure.completed', timestamp: '2026-11-29T09:59:59.500Z' });
    expect((await store.getErasure('e1'))!.request.callbackDelivery).toEqual({
      eventId: id,
      attempts: 1,
      deliveredAt: NOW.toISOString(),
      lastStatus: 200,
    });
    expect(counted).toEqual(['CallbacksDelivered']);
  });

  it('schedules the next attempt with the backoff, then dead-letters after the last', async () => {
    const { delivery, eventId, queue, counted } = setUp();
    receiver.answer(503, 503, 503);
    const id = await eventId();

    expect(await delivery.deliver({ erasureId: 'e1', eventId: id, attempt: 0, notBefore: 0 }, silent)).toMatchObject({
      kind: 'rescheduled',
      attempt: 1,
      notBefore: NOW.getTime() + 5_000,
    });
    expect(await delivery.deliver(due(queue.scheduled[0]), silent)).toMatchObject({
      kind: 'rescheduled',
      notBefore: NOW.getTime() + 300_000,
    });
    expect(await delivery.deliver(due(queue.scheduled[1]), silent)).toEqual({ kind: 'dead_lettered' });
    expect(queue.deadLetters).toEqual([expect.objectContaining({ eventId: id, attempt: 3, deadLettered: true })]);
    expect(counted).toEqual(['CallbackFailures', 'CallbackFailures', 'CallbackFailures', 'CallbacksDeadLettered']);
  });

  it('never calls a host the allowlist no longer admits: dead-lettered at once, recorded as host_not_allowed', async () => {
    const { delivery, eventId, queue, store } = setUp({ allowed: ['portal.example.com'] });
    const id = await eventId();
    expect(await delivery.deliver({ erasureId: 'e1', eventId: id, attempt: 0, notBefore: 0 }, silent)).toEqual({
      kind: 'dead_lettered',
    });
    expect(receiver.received).toHaveLength(0);
    expect(queue.scheduled).toHaveLength(0);
    expect((await store.getErasure('e1'))!.request.callbackDelivery).toMatchObject({
      attempts: 1,
      lastError: 'host_not_allowed',
    });
  });

  it('drops a message whose event is no longer the erasure’s (reopened by a redrive, or unknown)', async () => {
    const { delivery, eventId, store } = setUp();
    const id = await eventId();
    store.persons.set('e1/p1', { ...store.persons.get('e1/p1')!, outcome: 'pending', completedAt: undefined });
    expect(await delivery.deliver({ erasureId: 'e1', eventId: id, attempt: 0, notBefore: 0 }, silent)).toEqual({ kind: 'stale' });
    expect(await delivery.deliver({ erasureId: 'nope', eventId: id, attempt: 0, notBefore: 0 }, silent)).toEqual({
      kind: 'stale',
    });
    expect(receiver.received).toHaveLength(0);
  });

  it('sends a delivered event no more, and drops a copy that another delivery has overtaken', async () => {
    const { delivery, eventId, queue } = setUp();
    receiver.answer(500);
    const id = await eventId();
    const first = { erasureId: 'e1', eventId: id, attempt: 0, notBefore: 0 };
    await delivery.deliver(first, silent);
    await delivery.deliver(due(queue.scheduled[0]), silent);
    expect(receiver.received).toHaveLength(2);

    expect(await delivery.deliver(due(queue.scheduled[0]), silent)).toEqual({ kind: 'already_delivered' });
    expect(receiver.received).toHaveLength(2);
  });

  it('drops a copy of an attempt already recorded twice over', async () => {
    const { delivery, eventId } = setUp();
    receiver.answer(500, 500);
    const id = await eventId();
    await delivery.deliver({ erasureId: 'e1', eventId: id, attempt: 0, notBefore: 0 }, silent);
    await delivery.deliver({ erasureId: 'e1', eventId: id, attempt: 1, notBefore: 0 }, silent);
    expect(await delivery.deliver({ erasureId: 'e1', eventId: id, attempt: 0, notBefore: 0 }, silent)).toEqual({ kind: 'stale' });
    expect(receiver.received).toHaveLength(2);
  });

  it('sends a message that is not due yet on again, unchanged (SQS delays 15 minutes at most)', async () => {
    const { delivery, eventId, queue } = setUp();
    const message = { erasureId: 'e1', eventId: await eventId(), attempt: 1, notBefore: NOW.getTime() + 3_600_000 };
    expect(await delivery.deliver(message, silent)).toEqual({ kind: 'deferred', until: message.notBefore });
    expect(queue.scheduled).toEqual([message]);
    expect(receiver.received).toHaveLength(0);
  });

  it('starts the schedule again for a message redriven from the dead-letter queue', async () => {
    const { delivery, eventId, store } = setUp();
    const id = await eventId();
    await store.recordCallbackDelivery('e1', { eventId: id, attempts: 3, lastStatus: 500 }, [0]);
    const result = await delivery.deliver({ erasureId: 'e1', eventId: id, attempt: 3, notBefore: 0, deadLettered: true }, silent);
    expect(result).toEqual({ kind: 'delivered', status: 200 });
    expect((await store.getErasure('e1'))!.request.callbackDelivery).toMatchObject({ attempts: 4, lastStatus: 200 });
  });
});
