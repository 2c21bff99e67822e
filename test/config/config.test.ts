import { readConfig } from '../../lambda/config';

const valid = { AUDIT_TABLE_NAME: 'audit' };

describe('VERIFIK_BASE_URL', () => {
  it.each([
    'https://api.verifik.co',
    'https://api.verifik.co:8443',
    'http://127.0.0.1:4010',
    'http://localhost:4010',
    'http://[::1]:4010',
  ])('accepts the bare origin %s', (url) => {
    expect(readConfig({ ...valid, VERIFIK_BASE_URL: url }).VERIFIK_BASE_URL).toBe(url);
  });

  it.each([
    ['a path that doubles /v2', 'https://api.verifik.co/v2'],
    ['a trailing slash', 'https://api.verifik.co/'],
    ['the forbidden collection parameter', 'https://api.verifik.co?collection=c1'],
    ['a fragment', 'https://api.verifik.co#x'],
    ['plain http to a remote host', 'http://api.verifik.co'],
    ['another scheme', 'ftp://api.verifik.co'],
    ['credentials', 'https://user:pass@api.verifik.co'],
  ])('refuses %s at start-up', (_what, url) => {
    expect(() => readConfig({ ...valid, VERIFIK_BASE_URL: url })).toThrow(/VERIFIK_BASE_URL: must be a bare origin/);
  });
});
