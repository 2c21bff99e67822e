import { settlementFor } from '../../lambda/erasure/outcome';

const now = new Date('2026-11-28T10:00:00.000Z');

describe('settlementFor', () => {
  it('records only a 2xx as erased, with evidence', () => {
    expect(settlementFor({ kind: 'deleted', status: 200, attempts: 1, evidence: { responseId: 'x' } }, now)).toMatchObject({
      outcome: 'erased',
      vendorStatus: 200,
      completedAt: now.toISOString(),
      evidence: { responseId: 'x' },
    });
  });

  it('records 404 as already_erased with vendorStatus 404', () => {
    expect(settlementFor({ kind: 'not_found', status: 404, attempts: 1, uncertain: false }, now)).toMatchObject({
      outcome: 'already_erased',
      vendorStatus: 404,
    });
  });

  it('keeps 401/403 pending with the reason, never completed', () => {
    const s = settlementFor({ kind: 'unauthorized', status: 403, attempts: 1, message: 'Verifik answered 403' }, now);
    expect(s).toMatchObject({ outcome: 'pending', lastError: 'Verifik answered 403' });
    expect(s.completedAt).toBeUndefined();
  });

  it('turns Retry-After into the earliest next attempt', () => {
    expect(
      settlementFor({ kind: 'transient', status: 429, attempts: 1, message: 'm', retryAfterMs: 60_000, uncertain: false }, now)
        .retryAfter,
    ).toBe('2026-11-28T10:01:00.000Z');
  });
});
