import { httpEvent, lambdaContext } from '../../infra/local/api-gateway';
import { newMessageId, signedContent, signedHeaders } from '../../infra/local/signed-client';
import { dueDateFor } from '../../lambda/erasure/statutory-clock';
import { answerOf, useHarness } from '../support/http-harness';

const t = useHarness();

const extensionPath = (erasureId: string) => `/erasures/${encodeURIComponent(erasureId)}/extension`;
const extend = (erasureId: string, body: unknown) => t.api.send('POST', extensionPath(erasureId), JSON.stringify(body));
const portalExtend = (erasureId: string, body: unknown) => t.api.portal('POST', `/portal${extensionPath(erasureId)}`, body);

/** A recorded erasure, and how many calls Verifik had once it was answered. */
async function recorded(erasureId = newMessageId()) {
  const answer = await t.api.post({ personIds: [t.api.sandbox.createPerson()] }, { id: erasureId });
  expect(answer.status).toBe(200);
  return { erasureId, record: answer.body, calls: t.api.sandbox.calls.length };
}

describe('the statutory clock in the record', () => {
  it('shows dueAt, one calendar month after receipt, on POST and GET', async () => {
    const { erasureId, record } = await recorded();

    expect(record.dueAt).toBe(dueDateFor(record.receivedAt));
    expect((await t.api.get(erasureId)).body.dueAt).toBe(record.dueAt);
    expect(record.extendedDueAt).toBeUndefined();
  });
});

describe('POST /erasures/{erasureId}/extension and its portal twin', () => {
  it('extends once by webhook: extendedDueAt, and the extension with its reason and time, shown by GET', async () => {
    const { erasureId, record, calls } = await recorded();

    const answer = await extend(erasureId, { months: 2, reason: 'several systems to search' });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      erasureId,
      dueAt: record.dueAt,
      extendedDueAt: expect.any(String),
      extension: { months: 2, reason: 'several systems to search', requestedAt: expect.any(String) },
    });
    expect(Date.parse(answer.body.extendedDueAt)).toBeGreaterThan(Date.parse(record.dueAt));
    expect((await t.api.get(erasureId)).body).toEqual(answer.body);
    expect(t.api.sandbox.calls).toHaveLength(calls);
  });

  it('extends once through the portal, IAM-authorized', async () => {
    const { erasureId } = await recorded();

    const answer = await portalExtend(erasureId, { months: 1, reason: 'backlog' });

    expect(answer.status).toBe(200);
    expect(answer.body.extension).toMatchObject({ months: 1, reason: 'backlog' });
    expect(
      (await t.api.portal('POST', `/portal${extensionPath(erasureId)}`, { months: 1, reason: 'x' }, { principal: null })).status,
    ).toBe(403);
  });

  it('refuses a second, different extension with 409 already_extended, by either route; the same one again is answered as it stands', async () => {
    const { erasureId } = await recorded();
    const first = await extend(erasureId, { months: 1, reason: 'backlog' });

    const repeated = await extend(erasureId, { months: 1, reason: 'backlog' });
    const second = await extend(erasureId, { months: 2, reason: 'backlog' });
    const viaPortal = await portalExtend(erasureId, { months: 1, reason: 'other reason' });

    expect(repeated).toMatchObject({ status: 200, body: first.body });
    for (const refused of [second, viaPortal]) {
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({ error: 'already_extended', message: expect.stringContaining('only once') });
    }
    expect((await t.api.get(erasureId)).body.extension).toEqual(first.body.extension);
  });

  it('refuses an extension after dueAt with 409 past_due', async () => {
    const receivedAt = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await t.api.store.createRequest({
      erasureId: 'old_one',
      personIds: ['p1'],
      fingerprint: 'fp',
      receivedAt,
      dueAt: dueDateFor(receivedAt),
      expiresAt: 2_000_000_000,
    });

    const answer = await extend('old_one', { months: 1, reason: 'too late' });

    expect(answer.status).toBe(409);
    expect(answer.body).toEqual({ error: 'past_due', message: expect.stringContaining('has passed') });
    expect((await t.api.get('old_one')).body.extendedDueAt).toBeUndefined();
  });

  it('answers 404 not_found for an erasure it does not know, by either route', async () => {
    for (const answer of [
      await extend('never_seen', { months: 1, reason: 'r' }),
      await portalExtend('never_seen', { months: 1, reason: 'r' }),
    ]) {
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ error: 'not_found' });
    }
    expect(t.api.sandbox.calls).toHaveLength(0);
  });

  it.each([
    ['months 3', { months: 3, reason: 'r' }],
    ['months 0', { months: 0, reason: 'r' }],
    ['months as a string', { months: '1', reason: 'r' }],
    ['months 1.5', { months: 1.5, reason: 'r' }],
    ['no months', { reason: 'r' }],
    ['no reason', { months: 1 }],
    ['an empty reason', { months: 1, reason: '' }],
    ['a blank reason', { months: 1, reason: '   ' }],
    ['a reason over 256 characters', { months: 1, reason: 'r'.repeat(257) }],
    ['a reason that is not a string', { months: 1, reason: 42 }],
    ['a lone surrogate in the reason', { months: 1, reason: 'a\ud800b' }],
    ['an extra key', { months: 1, reason: 'r', extendedDueAt: '2099-01-01T00:00:00.000Z' }],
    ['a JSON array', [1, 'r']],
    ['JSON null', null],
  ])('refuses %s with 400 invalid_request, by either route, changing nothing and calling nobody', async (_, body) => {
    const { erasureId, calls } = await recorded();

    for (const answer of [await extend(erasureId, body), await portalExtend(erasureId, body)]) {
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: 'invalid_request', message: expect.any(String) });
    }
    expect((await t.api.get(erasureId)).body.extension).toBeUndefined();
    expect(t.api.sandbox.calls).toHaveLength(calls);
  });

  it.each([
    ['malformed JSON', '{"months": 1,', 'application/json', 400],
    ['an empty body', '', 'application/json', 400],
    ['a body that is not JSON', 'months=1&reason=r', 'application/x-www-form-urlencoded', 415],
  ])('refuses %s', async (_, rawBody, contentType, status) => {
    const { erasureId } = await recorded();

    const answer = await t.api.send('POST', extensionPath(erasureId), rawBody, { headers: { 'content-type': contentType } });

    expect(answer.status).toBe(status);
    expect((await t.api.get(erasureId)).body.extension).toBeUndefined();
  });

  it('refuses a malformed erasure id in the path with 400', async () => {
    const answer = await t.api.send('POST', '/erasures/a%20b/extension', JSON.stringify({ months: 1, reason: 'r' }));

    expect(answer.status).toBe(400);
  });

  describe('the webhook signature covers the path', () => {
    /** A POST to `sentPath` whose signature covers `signed`. */
    const forged = async (sentPath: string, signed: string, body: string) => {
      const event = httpEvent({
        method: 'POST',
        url: sentPath,
        headers: {
          'content-type': 'application/json',
          ...signedHeaders(t.api.secrets[0]!, { id: newMessageId(), body: signed }),
        },
        body,
      });
      return answerOf(await t.api.http(event, lambdaContext(29_000)));
    };

    it('refuses an extension signed for another erasure with 401, and one signed over the body alone', async () => {
      const { erasureId } = await recorded();
      const body = JSON.stringify({ months: 1, reason: 'r' });
      const other = extensionPath('someone_else');

      const replayed = await forged(extensionPath(erasureId), signedContent('POST', other, body), body);
      const bodyOnly = await forged(extensionPath(erasureId), body, body);

      for (const answer of [replayed, bodyOnly]) {
        expect(answer.status).toBe(401);
        expect(answer.body).toMatchObject({ error: 'invalid_signature' });
      }
      expect((await t.api.get(erasureId)).body.extension).toBeUndefined();
    });

    it('refuses an unsigned extension with 401', async () => {
      const { erasureId } = await recorded();

      const answer = await t.api.send('POST', extensionPath(erasureId), JSON.stringify({ months: 1, reason: 'r' }), {
        unsigned: true,
      });

      expect(answer.status).toBe(401);
    });
  });
});
