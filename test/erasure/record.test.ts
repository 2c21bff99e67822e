import { settlementFor } from '../../lambda/erasure/outcome';
import { buildRecord, statusOf } from '../../lambda/erasure/record';
import { requestFingerprint } from '../../lambda/erasure/fingerprint';
import type { PersonState } from '../../lambda/erasure/types';

const person = (outcome: PersonState['outcome']): PersonState => ({ personId: outcome, outcome, attempts: 1 });
const now = new Date('2026-11-28T10:00:00.000Z');

describe('the request status', () => {
  it.each([
    [['erased', 'already_erased'], 'completed'],
    [['erased', 'failed'], 'failed'],
    [['failed', 'pending'], 'pending'],
    [['erased', 'pending'], 'pending'],
  ] as const)('is derived from %j as %s', (outcomes, status) => {
    expect(statusOf(outcomes.map(person))).toBe(status);
  });

  it('shows a named person with no item yet as pending with no attempt', () => {
    const record = buildRecord({ erasureId: 'e', personIds: ['a', 'b'], fingerprint: 'f', receivedAt: 'r', expiresAt: 1 }, [
      { ...person('erased'), personId: 'a' },
    ]);
    expect(record.status).toBe('pending');
    expect(record.persons[1]).toEqual({ personId: 'b', outcome: 'pending', attempts: 0 });
  });
});

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

describe('requestFingerprint', () => {
  it('ignores the order of ids and distinguishes every optional field', () => {
    const base = requestFingerprint({ personIds: ['a', 'b'], reason: 'r' });
    expect(requestFingerprint({ personIds: ['b', 'a'], reason: 'r' })).toBe(base);
    expect(requestFingerprint({ personIds: ['a', 'b'] })).not.toBe(base);
    expect(requestFingerprint({ personIds: ['a', 'b'], reason: 'r', requestedBy: 'x' })).not.toBe(base);
    expect(requestFingerprint({ personIds: ['a', 'b'], reason: 'r', subjectRefHash: 'h' })).not.toBe(base);
  });
});
