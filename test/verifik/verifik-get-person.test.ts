import { VerifikSandbox } from '../../infra/local/verifik-sandbox';
import { VerifikClient } from '../../lambda/verifik/verifik-client';

const TOKEN = 'test-token';
let sandbox: VerifikSandbox;
let client: VerifikClient;
const soon = (ms = 3_000) => ({ deadline: Date.now() + ms });

beforeEach(async () => {
  sandbox = await VerifikSandbox.start({ token: TOKEN });
  client = new VerifikClient({
    baseUrl: sandbox.url,
    token: async () => TOKEN,
    timeoutMs: 300,
    retryLimit: 2,
    backoffBaseMs: 5,
    backoffLimitMs: 50,
  });
});
afterEach(() => sandbox.close());

describe('VerifikClient.getPerson (verifying a delete)', () => {
  it('sends GET to the persons path with the bearer token, the id encoded and no query', async () => {
    const id = sandbox.createPerson('person_123456789');
    await client.getPerson(id, soon());

    expect(sandbox.calls).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/v2/face-recognition/persons/person_123456789',
        query: '',
        authorization: `Bearer ${TOKEN}`,
      }),
    ]);
  });

  it('calls a person absent when Verifik answers 404 PERSON_NOT_FOUND', async () => {
    await expect(client.getPerson('65175da13e81e4fabc12345f', soon())).resolves.toEqual({
      kind: 'absent',
      status: 404,
      attempts: 1,
    });
  });

  it('calls a person present when Verifik answers 200 with it, after a delete the sandbox did as asked', async () => {
    const id = sandbox.createPerson();

    await expect(client.getPerson(id, soon())).resolves.toEqual({ kind: 'present', status: 200, attempts: 1 });
    await client.deletePerson(id, soon());
    await expect(client.getPerson(id, soon())).resolves.toMatchObject({ kind: 'absent' });
  });

  it.each([
    ['a 404 without PERSON_NOT_FOUND (a wrong base URL or a proxy)', { status: 404, body: '<html>Not Found</html>' }, 404],
    ['a 401', { status: 401, body: { error: 'Unauthorized', message: 'UNAUTHORIZED' } }, 401],
    ['a 403', { status: 403, body: { message: 'FORBIDDEN' } }, 403],
    ['a 400', { status: 400, body: { message: 'INVALID_PERSON' } }, 400],
    ['a redirect (never followed)', { status: 302, headers: { location: 'https://elsewhere.example/' } }, 302],
  ])('proves nothing on %s: unclear', async (_, answer, status) => {
    sandbox.scriptGet('p1', answer);

    const result = await client.getPerson('p1', soon());

    expect(result).toMatchObject({ kind: 'unclear', status, attempts: 1, message: expect.stringContaining(`${status}`) });
    expect(sandbox.calls).toHaveLength(1);
  });

  it('retries a 5xx inside the deadline, then answers unclear with the attempts made', async () => {
    sandbox.scriptGet('p1', { status: 503 }, { status: 500 }, { status: 502 });

    await expect(client.getPerson('p1', soon())).resolves.toMatchObject({ kind: 'unclear', status: 502, attempts: 3 });
    expect(sandbox.callsFor('p1', 'GET')).toHaveLength(3);
  });

  it('retries a 5xx and takes the 404 that follows', async () => {
    sandbox.scriptGet('p1', { status: 503 });

    await expect(client.getPerson('p1', soon())).resolves.toEqual({ kind: 'absent', status: 404, attempts: 2 });
  });

  it('keeps the Retry-After of a 429 it could not wait for', async () => {
    sandbox.scriptGet('p1', { status: 429, headers: { 'retry-after': '120' } });

    await expect(client.getPerson('p1', soon())).resolves.toMatchObject({ kind: 'unclear', status: 429, retryAfterMs: 120_000 });
  });

  it('answers unclear when Verifik does not answer in time or drops the connection', async () => {
    sandbox.getResponder = () => ({ status: 200, delayMs: 2_000 });
    await expect(client.getPerson('p1', soon(1_000))).resolves.toMatchObject({
      kind: 'unclear',
      message: expect.stringContaining('did not answer in time'),
    });
    sandbox.getResponder = () => ({ drop: true });
    await expect(client.getPerson('p1', soon())).resolves.toMatchObject({ kind: 'unclear' });
  });

  it('tries once more with a re-read token after a 401, as a DELETE does', async () => {
    const tokens = ['stale-token', TOKEN];
    const rotating = new VerifikClient({
      baseUrl: sandbox.url,
      token: async (options) => (options?.refresh ? tokens[1]! : tokens[0]!),
      timeoutMs: 300,
      retryLimit: 0,
      backoffBaseMs: 5,
      backoffLimitMs: 50,
    });

    await expect(rotating.getPerson('p1', soon())).resolves.toEqual({ kind: 'absent', status: 404, attempts: 2 });
    expect(sandbox.calls.map((call) => call.authorization)).toEqual(['Bearer stale-token', `Bearer ${TOKEN}`]);
  });

  it('sends nothing when the token cannot be read, or no time is left', async () => {
    const unreadable = new VerifikClient({
      baseUrl: sandbox.url,
      token: async () => {
        throw new Error('secret unavailable');
      },
      timeoutMs: 300,
      retryLimit: 0,
      backoffBaseMs: 5,
      backoffLimitMs: 50,
    });

    await expect(unreadable.getPerson('p1', soon())).resolves.toMatchObject({ kind: 'unclear', attempts: 0 });
    await expect(client.getPerson('p1', { deadline: Date.now() })).resolves.toMatchObject({ kind: 'unclear', attempts: 0 });
    expect(sandbox.calls).toHaveLength(0);
  });

  it.each(['../auth/session', 'a/b', 'a?collection=x', '', 'x'.repeat(65)])(
    'refuses the id %p without calling Verifik',
    async (id) => {
      await expect(client.getPerson(id, soon())).rejects.toThrow('invalid person id');
      expect(sandbox.calls).toHaveLength(0);
    },
  );
});
