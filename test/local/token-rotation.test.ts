import { Logger } from '@aws-lambda-powertools/logger';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack';
import { LOCAL_TOKEN_ROUTES } from '../../infra/local/local-token-secret';
import { ErasureApiClient } from '../../infra/local/signed-client';

const DAY_S = 86_400;
let stack: LocalStack;
beforeEach(async () => {
  stack = await startLocalStack(
    { PORT: '0', INLINE_BUDGET_MS: '10000', SANDBOX_TOKEN_LIFETIME_SECONDS: String(2 * DAY_S) },
    { logger: new Logger({ logLevel: 'SILENT' }) },
  );
});
afterEach(() => stack.close());

const post = async (path: string) => {
  const response = await fetch(`${stack.url}${path}`, { method: 'POST' });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
const erase = async (person: string) => {
  const answer = await new ErasureApiClient(stack.url, stack.env.WEBHOOK_SECRET!).erase({ personIds: [person] });
  return answer.body as { status: string; persons: { outcome: string }[] };
};

describe('the Verifik token on the local stack', () => {
  it('starts with a sandbox token that expires (SANDBOX_TOKEN_LIFETIME_SECONDS), and the check says when', async () => {
    const check = await post(LOCAL_TOKEN_ROUTES.check);
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ accepted: true, daysLeft: expect.closeTo(2, 1) });
    expect(JSON.stringify(check.body)).not.toContain(stack.env.VERIFIK_TOKEN!);
  });

  it('rotates on demand: the handlers use the renewed token at once, with no restart', async () => {
    const first = stack.env.VERIFIK_TOKEN!;
    const rotated = await post(LOCAL_TOKEN_ROUTES.rotate);
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ rotated: true, daysLeft: expect.closeTo(2, 1) });
    expect(JSON.stringify(rotated.body)).not.toContain(first);

    const person = stack.sandboxPersons[0]!;
    expect(await erase(person)).toMatchObject({ status: 'completed', persons: [{ outcome: 'erased' }] });
    const [deletion] = stack.sandbox!.callsFor(person);
    expect(deletion!.authorization).toMatch(/^Bearer /);
    expect(deletion!.authorization).not.toBe(`Bearer ${first}`);

    // The first token is withdrawn: erasures keep working on the renewed one.
    stack.sandbox!.revoke(first);
    expect(await erase(stack.sandboxPersons[1]!)).toMatchObject({ status: 'completed', persons: [{ outcome: 'erased' }] });
  });

  it('a revoked token cannot be renewed: the rotation answers what to do, and the check says 0 days left', async () => {
    stack.sandbox!.revoke(stack.env.VERIFIK_TOKEN!);
    const rotated = await post(LOCAL_TOKEN_ROUTES.rotate);
    expect(rotated.status).toBe(502);
    expect(rotated.body).toMatchObject({ error: 'rotation_failed', message: expect.stringMatching(/issue a new token/) });
    const check = await post(LOCAL_TOKEN_ROUTES.check);
    expect(check.body).toMatchObject({ accepted: false, daysLeft: 0 });
  });

  it('only POST reaches the token routes; every other path is the API', async () => {
    const get = await fetch(`${stack.url}${LOCAL_TOKEN_ROUTES.rotate}`);
    expect(get.status).toBe(405);
    await get.body?.cancel();
    const api = await fetch(`${stack.url}/_local/token/other`, { method: 'POST' });
    expect(api.status).toBeGreaterThanOrEqual(400);
    expect(api.status).toBeLessThan(500);
    await api.body?.cancel();
  });
});
