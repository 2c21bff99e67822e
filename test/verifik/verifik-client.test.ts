import { VerifikSandbox } from '../../infra/local/verifik-sandbox';
import { VerifikClient, type VerifikClientOptions } from '../../lambda/verifik/verifik-client';
import { verifikPace } from '../../lambda/verifik/verifik-pace';

const TOKEN = 'test-token';
let sandbox: VerifikSandbox;
let client: VerifikClient;
const soon = (ms = 10_000) => ({ deadline: Date.now() + ms });

/**
 * Time-outs with room for a busy machine: a loopback answer takes milliseconds, but on two loaded
 * cores one took over 300 ms and was retried, which broke an exact count of calls. A slow answer
 * the client must give up on is scripted SLOW_MS late, well past TIMEOUT_MS.
 */
const TIMEOUT_MS = 1_500;
const SLOW_MS = 4_000;

/** A client of the sandbox with the given token source. */
const clientWith = (token: VerifikClientOptions['token'], retryLimit = 4) =>
  new VerifikClient({ baseUrl: sandbox.url, token, timeoutMs: TIMEOUT_MS, retryLimit, backoffBaseMs: 5, backoffLimitMs: 50 });

beforeEach(async () => {
  sandbox = await VerifikSandbox.start({ token: TOKEN });
  client = clientWith(async () => TOKEN);
});
afterEach(() => sandbox.close());

describe('VerifikClient.deletePerson', () => {
  it.each(['DELETE', 'GET'] as const)(
    'sends %s to the persons path with the bearer token, the id encoded and no collection',
    async (method) => {
      const id = sandbox.createPerson('person_123456789');
      await (method === 'DELETE' ? client.deletePerson(id, soon()) : client.getPerson(id, soon()));
      expect(sandbox.calls).toEqual([
        expect.objectContaining({
          method,
          path: '/v2/face-recognition/persons/person_123456789',
          query: '',
          authorization: `Bearer ${TOKEN}`,
        }),
      ]);
    },
  );

  it('accepts the first documented 200 body and keeps the deleted id', async () => {
    const id = sandbox.createPerson();
    sandbox.script(id, { status: 200, body: { success: true, message: 'Person deleted successfully', data: { _id: id } } });
    await expect(client.deletePerson(id, soon())).resolves.toEqual({
      kind: 'deleted',
      status: 200,
      attempts: 1,
      evidence: { deletedId: id },
    });
  });

  it('accepts the second documented 200 body and keeps the signature block and response id', async () => {
    const id = sandbox.createPerson();
    const signature = { message: 'Certified by Verifik.co', dateTime: 'Tue, 28 Nov 2026 10:00:00 GMT' };
    sandbox.script(id, { status: 200, body: { id: 'REQ42', data: { _id: id }, signature } });
    await expect(client.deletePerson(id, soon())).resolves.toEqual({
      kind: 'deleted',
      status: 200,
      attempts: 1,
      evidence: { signature: signature.message, dateTime: signature.dateTime, responseId: 'REQ42', deletedId: id },
    });
  });

  it('treats any 2xx as deleted even when the body is not JSON', async () => {
    sandbox.script('p1', { status: 204 });
    await expect(client.deletePerson('p1', soon())).resolves.toEqual({
      kind: 'deleted',
      status: 204,
      attempts: 1,
      evidence: undefined,
    });
  });

  it('classifies 404 as not found without retrying', async () => {
    await expect(client.deletePerson('absent', soon())).resolves.toEqual({
      kind: 'not_found',
      status: 404,
      attempts: 1,
      uncertain: false,
    });
    expect(sandbox.calls).toHaveLength(1);
  });

  it.each([401, 403])('classifies %i as unauthorized, without retrying', async (status) => {
    sandbox.script('p1', { status, body: { error: 'Unauthorized', message: 'UNAUTHORIZED' } });
    await expect(client.deletePerson('p1', soon())).resolves.toEqual({
      kind: 'unauthorized',
      status,
      attempts: 1,
      message: `Verifik answered ${status} (UNAUTHORIZED)`,
    });
  });

  it.each([400, 409, 422])('classifies %i as rejected with the vendor message', async (status) => {
    sandbox.script('p1', { status, body: { error: 'Conflict', message: 'PERSON_LOCKED' } });
    await expect(client.deletePerson('p1', soon())).resolves.toMatchObject({
      kind: 'rejected',
      status,
      attempts: 1,
      message: expect.stringContaining('PERSON_LOCKED'),
    });
  });

  it.each([
    ['an HTML page', { status: 404, body: '<html>Not Found</html>', headers: { 'content-type': 'text/html' } }],
    ['another code', { status: 404, body: { error: 'Not found', message: 'ROUTE_NOT_FOUND' } }],
    ['an empty body', { status: 404 }],
  ])('fails a 404 without PERSON_NOT_FOUND (%s): it proves nothing about the person', async (_what, answer) => {
    sandbox.script('p1', answer);
    await expect(client.deletePerson('p1', soon())).resolves.toMatchObject({
      kind: 'rejected',
      status: 404,
      unexpectedNotFound: true,
    });
    expect(sandbox.calls).toHaveLength(1);
  });

  it('keeps only a code from a vendor error body, never its free text', async () => {
    sandbox.script('p1', { status: 400, body: { error: `Jane Doe, token Bearer ${TOKEN}`, message: 'INVALID_PERSON' } });
    sandbox.script('p2', { status: 400, body: { error: 'Bad', message: 'person Jane Doe is locked' } });
    const first = await client.deletePerson('p1', soon());
    const second = await client.deletePerson('p2', soon());
    expect(first).toMatchObject({ kind: 'rejected', message: 'Verifik answered 400 (INVALID_PERSON)' });
    expect(second).toMatchObject({ kind: 'rejected', message: 'Verifik answered 400' });
  });

  it('sends nothing and says so when the token cannot be read', async () => {
    const unreadable = clientWith(async () => {
      throw new Error('secret unavailable');
    });
    await expect(unreadable.deletePerson('p1', soon())).resolves.toMatchObject({
      kind: 'transient',
      attempts: 0,
      uncertain: false,
      message: expect.stringContaining('token could not be read'),
    });
    expect(sandbox.calls).toHaveLength(0);
  });

  it.each([
    ['a huge delta', '99999999999999'],
    ['ten years', '315360000'],
    ['a malformed value', 'soon'],
    ['a date far away', 'Fri, 01 Jan 2100 00:00:00 GMT'],
  ])('caps a Retry-After of %s at one hour', async (_what, header) => {
    sandbox.script('p1', { status: 429, headers: { 'retry-after': header } });
    const answer = await client.deletePerson('p1', soon(2_000));
    expect(answer).toMatchObject({ kind: 'transient', status: 429, retryAfterMs: 3_600_000 });
    expect(sandbox.calls).toHaveLength(1);
  });

  it('never follows a redirect', async () => {
    sandbox.script('p1', { status: 302, headers: { location: `${sandbox.url}/elsewhere` } });
    await expect(client.deletePerson('p1', soon())).resolves.toMatchObject({ kind: 'rejected', status: 302 });
    expect(sandbox.calls.map((c) => c.path)).toEqual(['/v2/face-recognition/persons/p1']);
  });

  it.each([408, 429, 500, 502, 503, 504])('retries %i and then succeeds', async (status) => {
    const id = sandbox.createPerson();
    sandbox.script(id, { status });
    await expect(client.deletePerson(id, soon())).resolves.toMatchObject({ kind: 'deleted', attempts: 2 });
  });

  it('waits as long as Retry-After asks before retrying', async () => {
    const id = sandbox.createPerson();
    sandbox.script(id, { status: 429, headers: { 'retry-after': '1' } });
    await expect(client.deletePerson(id, soon())).resolves.toMatchObject({ kind: 'deleted', attempts: 2 });
    const [first, second] = sandbox.callsFor(id);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up at once, reporting Retry-After, when it points past the deadline', async () => {
    sandbox.script('p1', { status: 429, headers: { 'retry-after': '120' } });
    const answer = await client.deletePerson('p1', soon(2_000));
    expect(answer).toMatchObject({ kind: 'transient', status: 429, attempts: 1 });
    expect(answer.kind === 'transient' && answer.retryAfterMs).toBeGreaterThan(119_000);
    expect(sandbox.calls).toHaveLength(1);
  });

  it('retries a slow answer that times out', async () => {
    sandbox.script('p1', { status: 503, delayMs: SLOW_MS });
    const id = sandbox.createPerson('p1');
    await expect(client.deletePerson(id, soon())).resolves.toMatchObject({ kind: 'deleted', attempts: 2 });
  });

  it('flags a 404 that follows a timed-out attempt as uncertain: the slow attempt may have deleted', async () => {
    const id = sandbox.createPerson();
    sandbox.script(id, { status: 200, delayMs: SLOW_MS, body: {} });
    await expect(client.deletePerson(id, soon())).resolves.toEqual({
      kind: 'not_found',
      status: 404,
      attempts: 2,
      uncertain: true,
    });
  });

  it('does not flag a 404 after a rate limit as uncertain', async () => {
    sandbox.script('p1', { status: 429 });
    await expect(client.deletePerson('p1', soon())).resolves.toEqual({
      kind: 'not_found',
      status: 404,
      attempts: 2,
      uncertain: false,
    });
  });

  it('retries a dropped connection', async () => {
    sandbox.script('p1', { drop: true });
    const id = sandbox.createPerson('p1');
    await expect(client.deletePerson(id, soon())).resolves.toMatchObject({ kind: 'deleted', attempts: 2 });
  });

  it('reports a transient failure when 5xx outlasts the retries', async () => {
    sandbox.responder = () => ({ status: 503 });
    const answer = await client.deletePerson('p1', soon());
    expect(answer).toMatchObject({ kind: 'transient', status: 503, attempts: 5 });
  });

  it('stops at the deadline when Verifik keeps timing out', async () => {
    sandbox.responder = () => ({ status: 200, delayMs: 5_000 });
    const started = Date.now();
    const answer = await client.deletePerson('p1', soon(1_000));
    expect(answer).toMatchObject({ kind: 'transient', message: expect.stringContaining('did not answer in time') });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('makes no call without time left', async () => {
    await expect(client.deletePerson('p1', { deadline: Date.now() })).resolves.toMatchObject({ kind: 'transient', attempts: 0 });
    expect(sandbox.calls).toHaveLength(0);
  });

  it.each(['../auth/session', 'a/b', 'a?collection=x', '', 'x'.repeat(65), 'é'])(
    'refuses the id %p without calling Verifik',
    async (id) => {
      await expect(client.deletePerson(id, soon())).rejects.toThrow('invalid person id');
      expect(sandbox.calls).toHaveLength(0);
    },
  );
});

describe('VerifikClient with a pace (VERIFIK_RATE_LIMIT)', () => {
  let ending: AbortController;
  beforeEach(() => {
    ending = new AbortController();
  });
  afterEach(() => ending.abort());
  const pacedClient = (ratePerSecond: number, burst: number) =>
    new VerifikClient({
      baseUrl: sandbox.url,
      token: async () => TOKEN,
      timeoutMs: TIMEOUT_MS,
      retryLimit: 4,
      backoffBaseMs: 5,
      backoffLimitMs: 50,
      pace: verifikPace({ ratePerSecond, burst, signal: ending.signal }),
    });

  it('sends nothing when no slot comes before the deadline', async () => {
    const paced = pacedClient(0.1, 1);
    const id = sandbox.createPerson();
    await expect(paced.deletePerson(id, soon())).resolves.toMatchObject({ kind: 'deleted', attempts: 1 });
    await expect(paced.getPerson(id, soon(500))).resolves.toMatchObject({ kind: 'unclear', attempts: 0 });
    expect(sandbox.calls).toHaveLength(1);
  });

  it('paces retries too: a retry without a slot before the deadline is not sent, and a 429 stays certain', async () => {
    const paced = pacedClient(0.1, 1);
    sandbox.script('p1', { status: 429 });
    const answer = await paced.deletePerson('p1', soon(1_000));
    expect(answer).toMatchObject({
      kind: 'transient',
      attempts: 1,
      uncertain: false,
      message: expect.stringContaining('No slot under VERIFIK_RATE_LIMIT'),
    });
    expect(sandbox.calls).toHaveLength(1);
  });

  it('with slots to spare, behaves as without a pace', async () => {
    const paced = pacedClient(1_000, 100);
    const ids = Array.from({ length: 20 }, () => sandbox.createPerson());
    const answers = await Promise.all(ids.map((id) => paced.deletePerson(id, soon())));
    expect(answers.map((answer) => answer.kind)).toEqual(ids.map(() => 'deleted'));
    // Every attempt reached Verifik (a loopback answer slowed past the timeout on a busy machine is retried, and counted).
    expect(sandbox.calls).toHaveLength(answers.reduce((sum, answer) => sum + answer.attempts, 0));
  });
});

describe('VerifikClient.getPerson (verifying a delete)', () => {
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
    sandbox.scriptGet('p1', { status: 503 }, { status: 500 }, { status: 502 }, { status: 503 }, { status: 504 });

    await expect(client.getPerson('p1', soon())).resolves.toMatchObject({ kind: 'unclear', status: 504, attempts: 5 });
    expect(sandbox.callsFor('p1', 'GET')).toHaveLength(5);
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
    const rotating = clientWith(async (options) => (options?.refresh ? tokens[1]! : tokens[0]!), 0);

    await expect(rotating.getPerson('p1', soon())).resolves.toEqual({ kind: 'absent', status: 404, attempts: 2 });
    expect(sandbox.calls.map((call) => call.authorization)).toEqual(['Bearer stale-token', `Bearer ${TOKEN}`]);
  });

  it('sends nothing when the token cannot be read, or no time is left', async () => {
    const unreadable = clientWith(async () => {
      throw new Error('secret unavailable');
    }, 0);

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
