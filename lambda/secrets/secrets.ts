import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SECRET_ARN_VARIABLE } from '../config';
import { SecretUnavailableError } from '../errors';

/**
 * The secrets of the service, read when first needed and cached. Never logged, never in an
 * error, never in the audit trail.
 */
export interface Secrets {
  /** `refresh` bypasses the cache: used once after Verifik answers 401, to pick up a rotated token. */
  verifikToken(options?: { refresh?: boolean }): Promise<string>;
  /** Every active webhook secret (`whsec_…`), for rotation. */
  webhookSecrets(): Promise<readonly string[]>;
  pepper(): Promise<string>;
  /** The HubSpot app's client secret: the key of HubSpot's v3 webhook signatures. */
  hubspotClientSecret(): Promise<string>;
  /** The key that signs callbacks (`whsec_…`), one at a time; only the delivery function reads it. */
  callbackSecret(): Promise<string>;
}

const KEY = /^(whsec_)?([A-Za-z0-9+/]+={0,2})$/;

/**
 * Splits and checks a space-separated list of webhook keys, each `whsec_<base64>` or the bare base64
 * (what Secrets Manager generates: it cannot add a prefix), and returns them as `whsec_…`.
 */
export function parseWebhookSecrets(value: string, source: string): readonly string[] {
  const keys = value
    .split(/\s+/)
    .filter(Boolean)
    .map((entry) => KEY.exec(entry)?.[2]);
  if (keys.length === 0 || !keys.every((key) => key !== undefined && Buffer.from(key, 'base64').length >= 16)) {
    throw new Error(`${source} must hold one or more space-separated whsec_<base64, at least 16 bytes> secrets`);
  }
  return Object.freeze(keys.map((key) => `whsec_${key}`));
}

type Reader = (options?: { refresh?: boolean }) => Promise<string>;

/**
 * Where each secret comes from: AWS Secrets Manager when `<NAME>_SECRET_ARN` is set (the cloud),
 * otherwise the plain environment variable (the local stack and tests).
 */
export function secretsFromEnvironment(
  env: NodeJS.ProcessEnv,
  { provider, maxAgeSeconds = 300 }: { provider?: SecretsProvider; maxAgeSeconds?: number } = {},
): Secrets {
  let secretsManager = provider;
  const reader = (plain: string, arnVariable: string): Reader => {
    const arn = env[arnVariable];
    if (arn) {
      return async (options) => {
        secretsManager ??= new SecretsProvider();
        let value: unknown;
        try {
          value = await secretsManager.get(arn, { maxAge: maxAgeSeconds, forceFetch: options?.refresh === true });
        } catch (error) {
          throw new SecretUnavailableError(plain, error);
        }
        if (typeof value !== 'string' || value.length === 0) throw new SecretUnavailableError(plain);
        return value;
      };
    }
    return async () => {
      const value = env[plain];
      if (!value) throw new SecretUnavailableError(plain);
      return value;
    };
  };
  return new CheckedSecrets({
    token: reader('VERIFIK_TOKEN', SECRET_ARN_VARIABLE.VERIFIK_TOKEN),
    webhook: reader('WEBHOOK_SECRET', SECRET_ARN_VARIABLE.WEBHOOK_SECRET),
    pepper: reader('SUBJECT_REF_PEPPER', SECRET_ARN_VARIABLE.SUBJECT_REF_PEPPER),
    hubspot: reader('HUBSPOT_CLIENT_SECRET', SECRET_ARN_VARIABLE.HUBSPOT_CLIENT_SECRET),
    callback: reader('CALLBACK_SECRET', SECRET_ARN_VARIABLE.CALLBACK_SECRET),
  });
}

/** Checks each secret's shape once per value read; a malformed one is a configuration error (503). */
class CheckedSecrets implements Secrets {
  private parsedWebhook: { raw: string; secrets: readonly string[] } | undefined;

  private parsedCallback: { raw: string; secret: string } | undefined;

  constructor(private readonly read: { token: Reader; webhook: Reader; pepper: Reader; hubspot: Reader; callback: Reader }) {}

  verifikToken(options?: { refresh?: boolean }): Promise<string> {
    return this.read.token(options);
  }

  async webhookSecrets(): Promise<readonly string[]> {
    const raw = await this.read.webhook();
    if (this.parsedWebhook?.raw !== raw) {
      try {
        this.parsedWebhook = { raw, secrets: parseWebhookSecrets(raw, 'WEBHOOK_SECRET') };
      } catch (error) {
        throw new SecretUnavailableError('WEBHOOK_SECRET', error);
      }
    }
    return this.parsedWebhook.secrets;
  }

  hubspotClientSecret(): Promise<string> {
    return this.read.hubspot();
  }

  async callbackSecret(): Promise<string> {
    const raw = await this.read.callback();
    if (this.parsedCallback?.raw !== raw) {
      let secrets: readonly string[] = [];
      try {
        secrets = parseWebhookSecrets(raw, 'CALLBACK_SECRET');
      } catch (error) {
        throw new SecretUnavailableError('CALLBACK_SECRET', error);
      }
      if (secrets.length !== 1) throw new SecretUnavailableError('CALLBACK_SECRET');
      this.parsedCallback = { raw, secret: secrets[0]! };
    }
    return this.parsedCallback.secret;
  }

  async pepper(): Promise<string> {
    const pepper = await this.read.pepper();
    if (pepper.length < 16) throw new SecretUnavailableError('SUBJECT_REF_PEPPER');
    return pepper;
  }
}
