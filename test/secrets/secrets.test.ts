import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes } from 'node:crypto';
import { secretsFromEnvironment } from '../../lambda/secrets/secrets';
import { AppError } from '../../lambda/errors';
import { newWebhookSecret } from '../../infra/local/signed-client';
import { startHarness } from '../support/http-harness';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';

// No Secrets Manager emulator runs here: the SDK client is mocked, everything else is real.
const secretsManager = mockClient(SecretsManagerClient);
const ARNS = {
  VERIFIK_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:verifik-token-AbCdEf',
  WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-AbCdEf',
  SUBJECT_REF_PEPPER_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pepper-AbCdEf',
};
const values: Record<string, string> = {};
const setSecret = (arn: string, value: string) => {
  values[arn] = value;
};

beforeEach(() => {
  secretsManager.reset();
  secretsManager.on(GetSecretValueCommand).callsFake(({ SecretId }: { SecretId: string }) => {
    if (!(SecretId in values))
      throw Object.assign(new Error(`Secrets Manager can't find the specified secret.`), { name: 'ResourceNotFoundException' });
    return { SecretString: values[SecretId], ARN: SecretId, Name: SecretId };
  });
  setSecret(ARNS.VERIFIK_TOKEN_SECRET_ARN, 'token-1');
  setSecret(ARNS.WEBHOOK_SECRET_ARN, `${newWebhookSecret()} ${newWebhookSecret()}`);
  setSecret(ARNS.SUBJECT_REF_PEPPER_SECRET_ARN, randomBytes(32).toString('hex'));
});

const reads = () => secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input.SecretId);

describe('secrets from Secrets Manager', () => {
  it('reads each secret from its ARN once and serves it from the cache afterwards', async () => {
    const secrets = secretsFromEnvironment(ARNS);
    expect(await secrets.verifikToken()).toBe('token-1');
    expect(await secrets.verifikToken()).toBe('token-1');
    expect(await secrets.webhookSecrets()).toHaveLength(2);
    expect(await secrets.pepper()).toBe(values[ARNS.SUBJECT_REF_PEPPER_SECRET_ARN]);
    expect(reads()).toEqual([ARNS.VERIFIK_TOKEN_SECRET_ARN, ARNS.WEBHOOK_SECRET_ARN, ARNS.SUBJECT_REF_PEPPER_SECRET_ARN]);
  });

  it('reads again once the cache lifetime has passed', async () => {
    const secrets = secretsFromEnvironment(ARNS, { maxAgeSeconds: 1 });
    await secrets.verifikToken();
    setSecret(ARNS.VERIFIK_TOKEN_SECRET_ARN, 'token-2');
    expect(await secrets.verifikToken()).toBe('token-1');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await secrets.verifikToken()).toBe('token-2');
  });

  it('bypasses the cache when asked to refresh', async () => {
    const secrets = secretsFromEnvironment(ARNS);
    await secrets.verifikToken();
    setSecret(ARNS.VERIFIK_TOKEN_SECRET_ARN, 'token-2');
    expect(await secrets.verifikToken({ refresh: true })).toBe('token-2');
  });

  it('turns an unreadable or malformed secret into a 503 that names the secret, never its value', async () => {
    setSecret(ARNS.WEBHOOK_SECRET_ARN, 'not-a-whsec-value');
    const secrets = secretsFromEnvironment({
      ...ARNS,
      VERIFIK_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:missing',
    });
    for (const read of [() => secrets.verifikToken(), () => secrets.webhookSecrets()]) {
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ statusCode: 503, code: 'service_unavailable' });
      expect(String((error as Error).message)).not.toContain('not-a-whsec-value');
    }
  });

  it('falls back to plain environment variables where no ARN is set (the local stack)', async () => {
    const secrets = secretsFromEnvironment({
      VERIFIK_TOKEN: 'local-token',
      WEBHOOK_SECRET: newWebhookSecret(),
      SUBJECT_REF_PEPPER: 'p'.repeat(32),
    });
    expect(await secrets.verifikToken()).toBe('local-token');
    expect(reads()).toEqual([]);
  });
});

describe('a rotated Verifik token, end to end', () => {
  let dynamo: TestDynamo;
  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(() => dynamo.close());

  it('verifies webhooks against a key stored without its whsec_ prefix, as the stack generates it', async () => {
    const bare = randomBytes(24).toString('base64').replace(/[+/=]/g, 'A');
    setSecret(ARNS.WEBHOOK_SECRET_ARN, bare);
    const api = await startHarness(dynamo, { ...ARNS, VERIFIK_TOKEN: '', WEBHOOK_SECRET: '', SUBJECT_REF_PEPPER: '' });
    try {
      setSecret(ARNS.VERIFIK_TOKEN_SECRET_ARN, api.sandbox.token);
      expect((await api.post({ personIds: ['gone'] }, { secret: `whsec_${bare}` })).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('is picked up on the first 401 without a redeploy, and the person is erased', async () => {
    const webhook = newWebhookSecret();
    setSecret(ARNS.WEBHOOK_SECRET_ARN, webhook);
    const api = await startHarness(dynamo, { ...ARNS, VERIFIK_TOKEN: '', WEBHOOK_SECRET: '', SUBJECT_REF_PEPPER: '' });
    try {
      // The sandbox accepts the harness's token; the secret holds a stale one until rotation.
      setSecret(ARNS.VERIFIK_TOKEN_SECRET_ARN, 'stale-token');
      const first = await api.post({ personIds: [api.sandbox.createPerson()] }, { secret: webhook });
      expect(first.body.persons[0]).toMatchObject({ outcome: 'pending', vendorStatus: 401 });

      setSecret(ARNS.VERIFIK_TOKEN_SECRET_ARN, api.sandbox.token);
      const id = api.sandbox.createPerson();
      const second = await api.post({ personIds: [id] }, { secret: webhook });

      expect(second.body.persons[0]).toMatchObject({ outcome: 'erased', attempts: 2 });
      expect(api.sandbox.callsFor(id, 'DELETE').map((c) => c.authorization)).toEqual([
        'Bearer stale-token',
        `Bearer ${api.sandbox.token}`,
      ]);
      // The GET that verifies the delete goes out with the renewed token too.
      expect(api.sandbox.callsFor(id, 'GET').map((c) => c.authorization)).toEqual([`Bearer ${api.sandbox.token}`]);
    } finally {
      await api.close();
    }
  });
});

describe('parseWebhookSecrets', () => {
  it('accepts keys with or without the whsec_ prefix (Secrets Manager generates bare ones) and returns them prefixed', async () => {
    const { parseWebhookSecrets } = await import('../../lambda/secrets/secrets');
    const bare = 'A'.repeat(32);
    expect(parseWebhookSecrets(`${bare} whsec_${'B'.repeat(32)}`, 'x')).toEqual([`whsec_${bare}`, `whsec_${'B'.repeat(32)}`]);
  });

  it.each(['', 'whsec_', 'whsec_short', 'not base64 !', 'whsec_AAAA'])('refuses %p', async (value) => {
    const { parseWebhookSecrets } = await import('../../lambda/secrets/secrets');
    expect(() => parseWebhookSecrets(value, 'WEBHOOK_SECRET')).toThrow('WEBHOOK_SECRET');
  });
});
