import type { SQSEvent } from 'aws-lambda';
import { lambdaContext } from '../../infra/local/api-gateway';
import { encodeRetryMessage } from '../../lambda/queue/retry-message';
import { useHarness } from '../support/http-harness';

// Three durable attempts, 50 ms apart: the whole schedule runs within the test.
const t = useHarness({ RETRY_SCHEDULE: '0.05,0.05,0.05', INLINE_BUDGET_MS: '10000', VERIFIK_RETRY_LIMIT: '1' });

const sqsEvent = (...bodies: string[]): SQSEvent =>
  ({
    Records: bodies.map((body, i) => ({
      messageId: `m${i}`,
      receiptHandle: `r${i}`,
      body,
      attributes: {},
      messageAttributes: {},
    })),
  }) as unknown as SQSEvent;

describe('the retry worker', () => {
  it('brings a person that was pending at the answer to erased, visible through GET', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.script(id, { status: 503 }, { status: 503 });

    const answer = await t.api.post({ personIds: [id] });
    expect(answer.status).toBe(202);
    await t.api.retryQueue.idle();

    const settled = await t.api.get(answer.body.erasureId);
    expect(settled.body).toMatchObject({ status: 'completed', persons: [{ personId: id, outcome: 'erased', attempts: 3 }] });
  });

  it('reschedules while Verifik is still failing, then succeeds', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.script(id, ...Array.from({ length: 4 }, () => ({ status: 500 })));

    const answer = await t.api.post({ personIds: [id] });
    await t.api.retryQueue.idle();

    const settled = await t.api.get(answer.body.erasureId);
    expect(settled.body.persons[0]).toMatchObject({ outcome: 'erased', attempts: 5 });
    expect(t.api.retryQueue.deadLetters).toEqual([]);
  });

  it('fails the person and dead-letters the erasure when the attempts run out, and a redrive resumes it', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.responder = () => ({ status: 503 });

    const answer = await t.api.post({ personIds: [id] });
    await t.api.retryQueue.idle();

    const failed = await t.api.get(answer.body.erasureId);
    expect(failed.body).toMatchObject({
      status: 'failed',
      persons: [{ outcome: 'failed', lastError: expect.stringMatching(/^Gave up after 3 retries: .*503/) }],
    });
    expect(t.api.retryQueue.deadLetters).toEqual([expect.objectContaining({ erasureId: answer.body.erasureId })]);

    t.api.sandbox.responder = undefined;
    expect(t.api.retryQueue.redriveDeadLetters()).toBe(1);
    await t.api.retryQueue.idle();

    const resumed = await t.api.get(answer.body.erasureId);
    expect(resumed.body).toMatchObject({
      status: 'completed',
      persons: [{ outcome: 'erased', note: expect.stringContaining('redrive') }],
    });
  });

  it('keeps a person whose token is refused pending on the retry path, never erased, until it gives up', async () => {
    const id = t.api.sandbox.createPerson();
    t.api.sandbox.responder = () => ({ status: 401, body: { error: 'Unauthorized', message: 'UNAUTHORIZED' } });

    const answer = await t.api.post({ personIds: [id] });
    await t.api.retryQueue.idle();

    const settled = await t.api.get(answer.body.erasureId);
    expect(settled.body.persons[0]).toMatchObject({ outcome: 'failed', vendorStatus: 401, exhausted: true });
    expect(t.api.sandbox.has(id)).toBe(true);
  });

  it('reports only the failing record of a batch in batchItemFailures', async () => {
    const ok = await t.api.post({ personIds: ['gone'] });
    const good = encodeRetryMessage({ erasureId: ok.body.erasureId, attempt: 0, notBefore: 0 });

    const response = await t.api.worker(sqsEvent(good, '{"not":"a retry message"}', good), lambdaContext(10_000));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it('acknowledges a message for an erasure that is terminal without calling Verifik', async () => {
    const done = await t.api.post({ personIds: ['gone'] });
    const calls = t.api.sandbox.calls.length;

    const response = await t.api.worker(
      sqsEvent(encodeRetryMessage({ erasureId: done.body.erasureId, attempt: 0, notBefore: 0 })),
      lambdaContext(10_000),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(t.api.sandbox.calls).toHaveLength(calls);
  });
});
