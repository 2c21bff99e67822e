import { SECRET_ARN_VARIABLE, minimumRetentionDays, readConfig } from '../../lambda/config';
import { RetryPolicy } from '../../lambda/erasure/retry-policy';

const valid = { AUDIT_TABLE_NAME: 'audit', VERIFIK_TOKEN: 'token' };

describe('VERIFIK_BASE_URL', () => {
  it.each([
    'https://api.verifik.co',
    'https://api.verifik.co:8443',
    'http://127.0.0.1:4010',
    'http://localhost:4010',
    'http://[::1]:4010',
  ])('accepts the bare origin %s', (url) => {
    expect(readConfig('worker', { ...valid, VERIFIK_BASE_URL: url }).VERIFIK_BASE_URL).toBe(url);
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
    expect(() => readConfig('worker', { ...valid, VERIFIK_BASE_URL: url })).toThrow(/VERIFIK_BASE_URL: must be a bare origin/);
  });
});

describe('VERIFIK_RATE_LIMIT (the client-side pace)', () => {
  const base = { ...valid, VERIFIK_BASE_URL: 'https://api.verifik.co' };

  it('is off unless set, and reads calls a second with an optional burst', () => {
    const unset = readConfig('worker', base);
    expect([unset.VERIFIK_RATE_LIMIT, unset.VERIFIK_BURST]).toEqual([undefined, undefined]);
    expect(readConfig('worker', { ...base, VERIFIK_RATE_LIMIT: '12.5', VERIFIK_BURST: '3' })).toMatchObject({
      VERIFIK_RATE_LIMIT: 12.5,
      VERIFIK_BURST: 3,
    });
  });

  it.each(['0', '0.0', '-5', 'abc', '', '20/s', 'Infinity'])('refuses %p at start-up with a clear message', (rate) => {
    expect(() => readConfig('worker', { ...base, VERIFIK_RATE_LIMIT: rate })).toThrow(
      /VERIFIK_RATE_LIMIT: must be (above 0|a number of calls a second)/,
    );
  });

  it('refuses a burst below one call', () => {
    expect(() => readConfig('worker', { ...base, VERIFIK_RATE_LIMIT: '10', VERIFIK_BURST: '0' })).toThrow(/VERIFIK_BURST/);
  });
});

describe('one configuration per function', () => {
  const base = { AUDIT_TABLE_NAME: 'audit', VERIFIK_BASE_URL: 'https://api.verifik.co' };

  it.each([
    ['http', ['VERIFIK_TOKEN', 'WEBHOOK_SECRET', 'SUBJECT_REF_PEPPER', 'HUBSPOT_CLIENT_SECRET']],
    ['invoke', ['VERIFIK_TOKEN', 'SUBJECT_REF_PEPPER']],
    ['worker', ['VERIFIK_TOKEN']],
  ] as const)('fails the %s function at cold start when a secret it reads is given neither way', (fn, secrets) => {
    for (const missing of secrets) {
      const env: Record<string, string> = { ...base };
      for (const name of secrets) if (name !== missing) env[name] = 'value';
      expect(() => readConfig(fn, env)).toThrow(
        new RegExp(`${missing}: set ${SECRET_ARN_VARIABLE[missing]} \\(Secrets Manager\\) or ${missing}`),
      );
      expect(() =>
        readConfig(fn, { ...env, [SECRET_ARN_VARIABLE[missing]]: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' }),
      ).not.toThrow();
    }
  });

  it('asks each function only for the secrets it reads', () => {
    expect(() => readConfig('worker', { ...base, VERIFIK_TOKEN: 't' })).not.toThrow();
    expect(() => readConfig('invoke', { ...base, VERIFIK_TOKEN: 't', SUBJECT_REF_PEPPER: 'p' })).not.toThrow();
  });
});

describe('RETENTION_DAYS', () => {
  const base = { AUDIT_TABLE_NAME: 'audit', VERIFIK_BASE_URL: 'https://api.verifik.co', VERIFIK_TOKEN: 't' };

  it('refuses a retention shorter than the retry schedule and the dead-letter days, so TTL never removes an erasure still at work', () => {
    expect(minimumRetentionDays(RetryPolicy.DEFAULT_DELAYS_S.map((s) => s * 1000))).toBe(17);
    expect(() => readConfig('worker', { ...base, RETENTION_DAYS: '16' })).toThrow(/RETENTION_DAYS: must be at least 17/);
    expect(readConfig('worker', { ...base, RETENTION_DAYS: '17' }).RETENTION_DAYS).toBe(17);
    expect(() => readConfig('worker', { ...base, RETENTION_DAYS: '1', RETRY_SCHEDULE: '0.1' })).toThrow(/at least 16/);
  });
});

describe('certificate settings (the http function)', () => {
  const base = {
    AUDIT_TABLE_NAME: 'audit',
    VERIFIK_BASE_URL: 'https://api.verifik.co',
    VERIFIK_TOKEN: 't',
    WEBHOOK_SECRET: 'w',
    SUBJECT_REF_PEPPER: 'p',
    HUBSPOT_CLIENT_SECRET: 'h',
  };
  const KEY_ARN = 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('reads the controller and one certificate key, KMS or a file', () => {
    expect(readConfig('http', { ...base, ORGANIZATION_NAME: ' Example GmbH ', CERTIFICATE_KEY_ARN: KEY_ARN })).toMatchObject({
      ORGANIZATION_NAME: 'Example GmbH',
      CERTIFICATE_KEY_ARN: KEY_ARN,
    });
    expect(readConfig('http', { ...base, CERTIFICATE_KEY_FILE: 'key.pem' }).CERTIFICATE_KEY_FILE).toBe('key.pem');
  });

  it('starts without them (certificates are then refused with 503, erasures go on)', () => {
    const config = readConfig('http', base);
    expect(config.ORGANIZATION_NAME).toBeUndefined();
    expect(config.CERTIFICATE_KEY_ARN).toBeUndefined();
  });

  it('refuses both keys at once, a key ARN that is not one, and an empty or over-long controller name', () => {
    expect(() => readConfig('http', { ...base, CERTIFICATE_KEY_ARN: KEY_ARN, CERTIFICATE_KEY_FILE: 'k.pem' })).toThrow(
      /set one certificate key, not both/,
    );
    expect(() => readConfig('http', { ...base, CERTIFICATE_KEY_ARN: 'alias/certificates' })).toThrow(/CERTIFICATE_KEY_ARN/);
    expect(() => readConfig('http', { ...base, ORGANIZATION_NAME: '   ' })).toThrow(/ORGANIZATION_NAME/);
    expect(() => readConfig('http', { ...base, ORGANIZATION_NAME: 'x'.repeat(201) })).toThrow(/ORGANIZATION_NAME/);
  });

  it('reads the archive certificates name from a bucket or a folder, never both', () => {
    expect(readConfig('http', { ...base, ARCHIVE_BUCKET_NAME: 'archive-bucket' }).ARCHIVE_BUCKET_NAME).toBe('archive-bucket');
    expect(readConfig('http', { ...base, ARCHIVE_DIR: '/tmp/archive' }).ARCHIVE_DIR).toBe('/tmp/archive');
    expect(() => readConfig('http', { ...base, ARCHIVE_BUCKET_NAME: 'archive-bucket', ARCHIVE_DIR: '/tmp/a' })).toThrow(
      /name one archive, not both/,
    );
    expect(() => readConfig('http', { ...base, ARCHIVE_BUCKET_NAME: 'ab' })).toThrow(/ARCHIVE_BUCKET_NAME/);
  });
});

describe('VERIFY_AFTER_DELETE', () => {
  const base = { ...valid, VERIFIK_BASE_URL: 'https://api.verifik.co' };

  it.each(['http', 'invoke', 'worker'] as const)('is on by default for %s, and can be turned off', (fn) => {
    const env = { ...base, WEBHOOK_SECRET: 'whsec_x', SUBJECT_REF_PEPPER: 'p', HUBSPOT_CLIENT_SECRET: 'h' };
    expect(readConfig(fn, env).VERIFY_AFTER_DELETE).toBe(true);
    expect(readConfig(fn, { ...env, VERIFY_AFTER_DELETE: 'false' }).VERIFY_AFTER_DELETE).toBe(false);
    expect(readConfig(fn, { ...env, VERIFY_AFTER_DELETE: 'true' }).VERIFY_AFTER_DELETE).toBe(true);
  });

  it.each(['yes', 'off', '0', 'TRUE', ''])('refuses %p at start-up rather than guess', (value) => {
    expect(() => readConfig('worker', { ...base, VERIFY_AFTER_DELETE: value })).toThrow(/VERIFY_AFTER_DELETE/);
  });
});

describe('the deadline check', () => {
  const retryQueue = { RETRY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/retry' };

  it('needs only the table and the retry queue (for its sweep): no Verifik URL, no secret', () => {
    expect(readConfig('deadlines', { AUDIT_TABLE_NAME: 'audit', ...retryQueue })).toEqual({
      AUDIT_TABLE_NAME: 'audit',
      ...retryQueue,
      OVERDUE_LOOKBACK_DAYS: 90,
    });
  });

  it.each([undefined, '', 'not a url'])('refuses to start with RETRY_QUEUE_URL=%p: the sweep would arm nothing', (value) => {
    expect(() => readConfig('deadlines', { AUDIT_TABLE_NAME: 'audit', RETRY_QUEUE_URL: value })).toThrow(/RETRY_QUEUE_URL/);
  });

  it.each(['0', '-1', '1.5', 'soon'])('refuses OVERDUE_LOOKBACK_DAYS=%p', (value) => {
    expect(() => readConfig('deadlines', { AUDIT_TABLE_NAME: 'audit', ...retryQueue, OVERDUE_LOOKBACK_DAYS: value })).toThrow(
      /OVERDUE_LOOKBACK_DAYS/,
    );
  });
});
