import { Webhook } from 'standardwebhooks';
import { InvalidSignatureError } from '../errors';

/**
 * Standard Webhooks verification against every active secret (rotation), 5 minutes either way,
 * done by the `standardwebhooks` library; we only add "any of several secrets".
 */
export class WebhookVerifier {
  private cache: { secrets: readonly string[]; verifiers: Webhook[] } | undefined;

  constructor(private readonly secrets: () => Promise<readonly string[]>) {}

  async verify(payload: string, headers: Record<string, string | undefined>): Promise<void> {
    const signed = {
      'webhook-id': headers['webhook-id'] ?? '',
      'webhook-timestamp': headers['webhook-timestamp'] ?? '',
      'webhook-signature': headers['webhook-signature'] ?? '',
    };
    // The spec's timestamp is whole Unix seconds; the library would also read "123abc" as 123.
    if (!/^\d{1,12}$/.test(signed['webhook-timestamp'])) throw new InvalidSignatureError();
    let failure: unknown;
    for (const verifier of await this.verifiers()) {
      try {
        verifier.verify(payload, signed, { jsonParse: false });
        return;
      } catch (error) {
        failure = error;
      }
    }
    throw new InvalidSignatureError(failure);
  }

  private async verifiers(): Promise<Webhook[]> {
    const secrets = await this.secrets();
    if (this.cache?.secrets !== secrets) this.cache = { secrets, verifiers: secrets.map((s) => new Webhook(s)) };
    return this.cache.verifiers;
  }
}
