import { PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { randomUUID } from 'node:crypto';
import { VerifikSandbox } from '../../infra/local/verifik-sandbox';
import { composeRotation } from '../../lambda/compose';
import { CHECK_TOKEN_EVENT, createRotationHandler, sameSecret } from '../../lambda/rotation/rotation-handler';
import { tokenExpiry } from '../../lambda/rotation/token-expiry';
import { NEW_TOKEN_NEEDED, ROTATION_STEPS, type RotationStep } from '../../lambda/rotation/token-rotation';
import { CURRENT, PENDING } from '../../lambda/rotation/token-store';
import { secretsFromEnvironment } from '../../lambda/secrets/secrets';
import { SERVICE_NAME } from '../../lambda/names';
import { fakeSecretsManager } from '../support/fake-secrets-manager';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:verifik-token-AbCdEf';
const DAY_S = 86_400;
const TIMEOUT_MS = 500;

let sandbox: VerifikSandbox;
let secretsManager: ReturnType<typeof fakeSecretsManager>;
let output: string[];
let metricsSpy: jest.SpyInstance;
let handler: ReturnType<typeof createRotationHandler>;
/** Every token this test has seen: none may appear in what the function wrote. */
let tokens: string[];

beforeEach(async () => {
  sandbox = await VerifikSandbox.start({ tokenLifetimeSeconds: 30 * DAY_S });
  secretsManager = fakeSecretsManager(SECRET_ARN, sandbox.token);
  tokens = [sandbox.token];
  output = [];
  const capture = ((chunk: string | Uint8Array) => {
    output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  const metrics = new Metrics({ namespace: 'VerifikErasureTest', serviceName: SERVICE_NAME });
  metricsSpy = jest.spyOn(metrics, 'addMetric');
  handler = createRotationHandler(
    composeRotation(
      { VERIFIK_BASE_URL: sandbox.url, VERIFIK_TIMEOUT_MS: String(TIMEOUT_MS), VERIFIK_TOKEN_SECRET_ARN: SECRET_ARN },
      { logger: new Logger({ serviceName: SERVICE_NAME }), metrics },
    ),
  );
});

afterEach(async () => {
  jest.restoreAllMocks();
  secretsManager.mock.restore();
  await sandbox.close();
  const written = output.join('');
  for (const token of tokens) expect(written).not.toContain(token);
});

/** What RotateSecret does, then each step as Secrets Manager invokes the function. */
const startRotation = () => secretsManager.secret.startRotation();
const step = (Step: RotationStep, versionId: string) => handler({ Step, SecretId: SECRET_ARN, ClientRequestToken: versionId });
const rotate = async (versionId: string) => {
  for (const name of ROTATION_STEPS) await step(name, versionId);
};
const current = () => secretsManager.secret.value({ stage: CURRENT });
const renewals = () => sandbox.calls.filter((call) => call.path === '/v2/auth/session');
const metric = (name: string) =>
  metricsSpy.mock.calls.filter(([metricName]) => metricName === name).map((call) => call[2] as number);
const logLines = () =>
  output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { message: string; level: string; reason?: string });

describe('the Verifik token rotation (Secrets Manager steps against the sandbox)', () => {
  it('renews the token with the current one, tests it and makes it current; the old one keeps working', async () => {
    const before = sandbox.token;
    const versionId = startRotation();
    await rotate(versionId);

    const renewed = await current();
    expect(renewed).toBeDefined();
    expect(renewed).not.toBe(before);
    tokens.push(renewed!);
    expect(sandbox.accepts(renewed!)).toBe(true);
    expect(sandbox.accepts(before)).toBe(true);
    // The renewal was asked with the current token, and the query Verifik documents.
    expect(renewals()).toHaveLength(1);
    expect(renewals()[0]!.authorization).toBe(`Bearer ${before}`);
    expect(renewals()[0]!.query).toBe('?origin=refresh&expiresIn=1');
    // The renewed version is AWSCURRENT (and still AWSPENDING, as Secrets Manager leaves it); the old one AWSPREVIOUS.
    const versions = await secretsManager.secret.versions();
    expect(versions.find((v) => v.versionId === versionId)!.stages).toEqual(expect.arrayContaining([CURRENT, PENDING]));
    expect(versions.find((v) => v.stages.includes('AWSPREVIOUS'))).toBeDefined();
    // Days left published before (the old token) and after (the new one): about 30 each.
    expect(metric('VerifikTokenDaysLeft').length).toBeGreaterThanOrEqual(2);
    for (const days of metric('VerifikTokenDaysLeft')) expect(days).toBeGreaterThan(29);
    expect(metric('TokenRotationFailed')).toEqual([]);
  });

  it('the functions read the renewed token from the secret without a redeploy (cache, and a re-read after 401)', async () => {
    const readers = secretsFromEnvironment({ VERIFIK_TOKEN_SECRET_ARN: SECRET_ARN }, { maxAgeSeconds: 300 });
    const before = await readers.verifikToken();
    await rotate(startRotation());
    const renewed = (await current())!;
    tokens.push(renewed);
    // Cached until its age runs out; the Verifik client's re-read after a 401 bypasses the cache.
    expect(await readers.verifikToken()).toBe(before);
    expect(await readers.verifikToken({ refresh: true })).toBe(renewed);
  });

  it('is idempotent: every step may run again (Secrets Manager retries a step), with one renewal at Verifik', async () => {
    const versionId = startRotation();
    for (const name of ROTATION_STEPS) {
      await step(name, versionId);
      await step(name, versionId);
    }
    await rotate(versionId);
    expect(renewals()).toHaveLength(1);
    expect(secretsManager.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(secretsManager.mock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
    tokens.push((await current())!);
    expect(metric('TokenRotationFailed')).toEqual([]);
  });

  it('an expired token cannot be renewed: the rotation fails, days left 0, the log says what the operator must do', async () => {
    const expired = await sandbox.issueToken(-60);
    tokens.push(expired);
    secretsManager.mock.restore();
    secretsManager = fakeSecretsManager(SECRET_ARN, expired);
    const versionId = startRotation();
    await expect(step('createSecret', versionId)).rejects.toThrow(/expired or was revoked/);
    expect(await current()).toBe(expired);
    expect(await secretsManager.secret.value({ versionId, stage: PENDING })).toBeUndefined();
    expect(metric('VerifikTokenDaysLeft')).toContain(0);
    expect(metric('TokenRotationFailed')).toEqual([1]);
    const failure = logLines().find((line) => line.level === 'ERROR');
    expect(failure?.reason).toContain(NEW_TOKEN_NEEDED);
    expect(failure?.reason).toContain('TOKEN_EXPIRED');
  });

  it('a revoked token is refused the same way, and the scheduled check reports 0 days left', async () => {
    sandbox.revoke(sandbox.token);
    await expect(step('createSecret', startRotation())).rejects.toThrow(/expired or was revoked/);
    await handler(CHECK_TOKEN_EVENT);
    expect(metric('VerifikTokenDaysLeft')).toEqual([expect.any(Number), 0, 0]);
    expect(logLines().filter((line) => line.message === NEW_TOKEN_NEEDED)).toHaveLength(1);
  });

  it.each([
    [
      'a 5xx',
      { status: 503, body: { error: 'Service Unavailable', message: 'UNAVAILABLE' } },
      /renewal failed: Verifik answered 503/,
    ],
    [
      'a timeout',
      { status: 200, body: {}, delayMs: TIMEOUT_MS * 4 },
      /renewal failed: Verifik did not answer the renewal in time/,
    ],
    ['a dropped connection', { drop: true as const }, /renewal failed: The connection to Verifik failed/],
    ['a body without accessToken', { status: 200, body: { tokenType: 'bearer' } }, /without an accessToken/],
    ['a token that is not a JWT', { status: 200, body: { accessToken: 'not-a-jwt', tokenType: 'bearer' } }, /not a JWT/],
  ])('%s from the renewal keeps the current token; the next run renews it', async (_what, answer, message) => {
    const before = sandbox.token;
    sandbox.scriptSession(answer);
    const versionId = startRotation();
    await expect(step('createSecret', versionId)).rejects.toThrow(message);
    expect(await current()).toBe(before);
    expect(metric('TokenRotationFailed')).toEqual([1]);
    // Until it is renewed, the functions go on with the current token.
    expect(sandbox.accepts(before)).toBe(true);

    // The scheduled check finishes the rotation that failed.
    await handler(CHECK_TOKEN_EVENT);
    const renewed = (await current())!;
    tokens.push(renewed);
    expect(renewed).not.toBe(before);
    expect(sandbox.accepts(renewed)).toBe(true);
  });

  it('refuses a renewed token that has already expired', async () => {
    const dead = await sandbox.issueToken(-1);
    tokens.push(dead);
    sandbox.scriptSession({ status: 200, body: { accessToken: dead, tokenType: 'bearer' } });
    const versionId = startRotation();
    await expect(step('createSecret', versionId)).rejects.toThrow(/renewed token expired at .*; it was not stored/);
    expect(await secretsManager.secret.value({ versionId, stage: PENDING })).toBeUndefined();
    expect(await current()).toBe(sandbox.token);
  });

  it('testSecret refuses a renewed token Verifik does not accept, and the current token stays', async () => {
    const before = sandbox.token;
    const versionId = startRotation();
    await step('createSecret', versionId);
    await step('setSecret', versionId);
    const pending = (await secretsManager.secret.value({ versionId, stage: PENDING }))!;
    tokens.push(pending);
    sandbox.revoke(pending);
    await expect(step('testSecret', versionId)).rejects.toThrow(/did not accept the renewed token: Verifik answered 401/);
    expect(await current()).toBe(before);
  });

  it.each([['createSecret'], ['setSecret'], ['testSecret']] as const)(
    'a rotation interrupted after %s is finished by the next check, with no second renewal',
    async (last) => {
      const before = sandbox.token;
      const versionId = startRotation();
      for (const name of ROTATION_STEPS.slice(0, ROTATION_STEPS.indexOf(last) + 1)) await step(name, versionId);
      // Interrupted: the current token is untouched and usable throughout.
      expect(await current()).toBe(before);
      expect(sandbox.accepts(before)).toBe(true);

      await handler(CHECK_TOKEN_EVENT);
      const renewed = (await current())!;
      tokens.push(renewed);
      expect(renewed).toBe(await secretsManager.secret.value({ versionId, stage: PENDING }));
      expect(renewals()).toHaveLength(1);
      expect(logLines().map((line) => line.message)).toContain('Finishing an interrupted rotation');
    },
  );

  it('the check publishes the days left of the token in use, and logs an error for a token without an expiry', async () => {
    await handler(CHECK_TOKEN_EVENT);
    expect(metric('VerifikTokenDaysLeft')).toEqual([expect.closeTo(30, 1)]);

    const opaque = `opaque-${randomUUID()}`;
    tokens.push(opaque);
    await sandbox.close();
    sandbox = await VerifikSandbox.start({ token: opaque });
    secretsManager.mock.restore();
    secretsManager = fakeSecretsManager(SECRET_ARN, opaque);
    handler = createRotationHandler(
      composeRotation(
        { VERIFIK_BASE_URL: sandbox.url, VERIFIK_TOKEN_SECRET_ARN: SECRET_ARN },
        { logger: new Logger({ serviceName: SERVICE_NAME }), metrics: new Metrics({ namespace: 'VerifikErasureTest' }) },
      ),
    );
    await handler(CHECK_TOKEN_EVENT);
    expect(logLines().map((line) => line.message)).toContain(
      'The token is not a JWT with an exp claim: its expiry cannot be known',
    );
  });

  it('refuses to rotate any other secret, and any other event', async () => {
    const other = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-XyZ123';
    await expect(handler({ Step: 'createSecret', SecretId: other, ClientRequestToken: randomUUID() })).rejects.toThrow(
      /other than the Verifik token/,
    );
    await expect(handler({ Step: 'dropSecret', SecretId: SECRET_ARN, ClientRequestToken: randomUUID() })).rejects.toThrow(
      /not a rotation step/,
    );
    await expect(handler({ action: 'rotate-everything' })).rejects.toThrow(/not a rotation step/);
    await expect(step('createSecret', randomUUID())).rejects.toThrow(/is not a version of the token secret/);
    expect(renewals()).toHaveLength(0);
  });
});

describe('sameSecret', () => {
  it('matches the configured ARN, or the ARN of the configured name, and nothing else', () => {
    expect(sameSecret(SECRET_ARN, SECRET_ARN)).toBe(true);
    expect(sameSecret('verifik-token', SECRET_ARN)).toBe(true);
    expect(sameSecret('verifik', SECRET_ARN)).toBe(false);
    expect(sameSecret('verifik-token-AbCdEf', SECRET_ARN)).toBe(false);
    expect(sameSecret(SECRET_ARN.replace('AbCdEf', 'ZZZZZZ'), SECRET_ARN)).toBe(false);
  });
});

describe('tokenExpiry', () => {
  it('reads exp from a JWT without verifying it, and nothing from anything else', async () => {
    const token = await sandbox.issueToken(DAY_S);
    tokens.push(token);
    expect(tokenExpiry(token)!.getTime()).toBeGreaterThan(Date.now());
    expect(tokenExpiry('not.a.jwt')).toBeUndefined();
    expect(tokenExpiry('')).toBeUndefined();
  });
});
