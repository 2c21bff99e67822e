import { useHarness } from '../support/http-harness';

const t = useHarness();

describe('direct invocation', () => {
  it('erases with the same body plus erasureId and returns the record', async () => {
    const id = t.api.sandbox.createPerson();
    const result = await t.api.invoke({ erasureId: 'inv-1', personIds: [id], reason: 'gdpr-art-17', requestedBy: 'portal' });
    expect(result).toMatchObject({
      statusCode: 200,
      body: { erasureId: 'inv-1', requestedBy: 'portal', persons: [{ outcome: 'erased' }] },
    });
  });

  it('is idempotent on erasureId and reads records with action get', async () => {
    const first = await t.api.invoke({ erasureId: 'inv-2', personId: 'gone' });
    expect(await t.api.invoke({ erasureId: 'inv-2', personId: 'gone' })).toEqual(first);
    expect(await t.api.invoke({ erasureId: 'inv-2', personId: 'other' })).toMatchObject({ statusCode: 409 });
    expect(await t.api.invoke({ action: 'get', erasureId: 'inv-2' })).toEqual({ statusCode: 200, body: first.body });
    expect(await t.api.invoke({ action: 'get', erasureId: 'inv-none' })).toMatchObject({ statusCode: 404 });
  });

  it('answers 202 while persons are pending', async () => {
    t.api.sandbox.script('locked', { status: 403 });
    expect(await t.api.invoke({ personIds: ['locked'] })).toMatchObject({ statusCode: 202, body: { status: 'pending' } });
  });

  it.each([
    ['a non-object event', 'p1'],
    ['null', null],
    ['an array', [{ personIds: ['p1'] }]],
    ['a bad id', { personIds: ['a/b'] }],
    ['a bad erasureId', { erasureId: 'a b', personIds: ['p1'] }],
    ['an unknown action', { action: 'delete-everything', personIds: ['p1'] }],
    ['an oversized event', { personIds: ['p1'], padding: 'x'.repeat(70_000) }],
  ])('answers 4xx to %s without calling Verifik', async (_what, event) => {
    const result = await t.api.invoke(event);
    expect(result.statusCode).toBeGreaterThanOrEqual(400);
    expect(result.statusCode).toBeLessThan(500);
    expect(result.body).toMatchObject({ error: expect.any(String) });
    expect(t.api.sandbox.calls).toHaveLength(0);
  });
});
