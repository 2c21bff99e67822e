/** The three secrets of the service. Never logged, never in an error, never in the audit trail. */
export interface Secrets {
  verifikToken(): Promise<string>;
  /** Every active webhook secret (`whsec_…`), for rotation. */
  webhookSecrets(): Promise<readonly string[]>;
  pepper(): Promise<string>;
}

const WHSEC = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

/** Splits and checks a space-separated list of `whsec_` secrets. */
export function parseWebhookSecrets(value: string, source: string): readonly string[] {
  const secrets = value.split(/\s+/).filter(Boolean);
  if (secrets.length === 0 || !secrets.every((s) => WHSEC.test(s) && Buffer.from(s.slice(6), 'base64').length >= 16)) {
    throw new Error(`${source} must hold one or more space-separated whsec_<base64, at least 16 bytes> secrets`);
  }
  return Object.freeze(secrets);
}

/** Secrets from the environment: the local stack and tests. */
export class EnvSecrets implements Secrets {
  private readonly values: { token: string; webhook: readonly string[]; pepper: string };

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const token = env.VERIFIK_TOKEN;
    const pepper = env.SUBJECT_REF_PEPPER;
    if (!token) throw new Error('VERIFIK_TOKEN is not set');
    if (!pepper || pepper.length < 16) throw new Error('SUBJECT_REF_PEPPER must be at least 16 characters');
    this.values = { token, webhook: parseWebhookSecrets(env.WEBHOOK_SECRET ?? '', 'WEBHOOK_SECRET'), pepper };
  }

  async verifikToken() {
    return this.values.token;
  }
  async webhookSecrets() {
    return this.values.webhook;
  }
  async pepper() {
    return this.values.pepper;
  }
}
