import { buildRecord, statusOf } from '../../lambda/erasure/record';
import type { PersonState } from '../../lambda/erasure/types';

const person = (outcome: PersonState['outcome']): PersonState => ({ personId: outcome, outcome, attempts: 1 });

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
    const record = buildRecord(
      { erasureId: 'e', personIds: ['a', 'b'], fingerprint: 'f', receivedAt: 'r', dueAt: 'd', expiresAt: 1 },
      [{ ...person('erased'), personId: 'a' }],
    );
    expect(record.status).toBe('pending');
    expect(record.persons[1]).toEqual({ personId: 'b', outcome: 'pending', attempts: 0 });
  });
});
