import { Logger } from '@aws-lambda-powertools/logger';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack';
import { ErasureApiClient } from '../../infra/local/signed-client';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack(
    { PORT: '0', RETRY_SCHEDULE: '0.1,0.1,0.1', INLINE_BUDGET_MS: '10000', VERIFIK_RETRY_LIMIT: '0' },
    { logger: new Logger({ logLevel: 'SILENT' }) },
  );
});
afterAll(() => stack.close());

describe('the local stack', () => {
  it('runs the retry worker in-process: a pending erasure turns terminal, visible through GET', async () => {
    const client = new ErasureApiClient(stack.url, stack.env.WEBHOOK_SECRET!);
    const person = stack.sandboxPersons[0]!;
    stack.sandbox!.script(person, { status: 503 });

    const answer = await client.erase({ personIds: [person] });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('location')).toBe(`/erasures/${(answer.body as { erasureId: string }).erasureId}`);

    await stack.retryQueue.idle();
    const status = await client.status((answer.body as { erasureId: string }).erasureId);
    expect(status.body).toMatchObject({ status: 'completed', persons: [{ personId: person, outcome: 'erased', attempts: 2 }] });
  });

  it('extends an erasure once through the signed client, as the command line does', async () => {
    const client = new ErasureApiClient(stack.url, stack.env.WEBHOOK_SECRET!);
    const erased = await client.erase({ personIds: [stack.sandboxPersons[1]!] });
    const erasureId = (erased.body as { erasureId: string }).erasureId;

    const extended = await client.extend(erasureId, { months: 2, reason: 'several systems' });
    const again = await client.extend(erasureId, { months: 1, reason: 'another' });

    expect(extended.status).toBe(200);
    expect(extended.body).toMatchObject({
      extension: { months: 2, reason: 'several systems' },
      extendedDueAt: expect.any(String),
    });
    expect(again.status).toBe(409);
    expect((await client.status(erasureId)).body).toMatchObject({ extension: { months: 2 } });
  });
});
