import { requestFingerprint } from '../../lambda/erasure/fingerprint';

describe('requestFingerprint', () => {
  it('ignores the order of ids and distinguishes every optional field', () => {
    const base = requestFingerprint({ personIds: ['a', 'b'], reason: 'r' });
    expect(requestFingerprint({ personIds: ['b', 'a'], reason: 'r' })).toBe(base);
    expect(requestFingerprint({ personIds: ['a', 'b'] })).not.toBe(base);
    expect(requestFingerprint({ personIds: ['a', 'b'], reason: 'r', requestedBy: 'x' })).not.toBe(base);
    expect(requestFingerprint({ personIds: ['a', 'b'], reason: 'r', subjectRefHash: 'h' })).not.toBe(base);
  });
});
