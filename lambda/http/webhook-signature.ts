import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidSignatureError } from '../errors';

const TOLERANCE_S = 5 * 60;

/**
 * Standard Webhooks verification over the exact bytes received, against every active secret
 * (rotation), 5 minutes either way.
 *
 * Not the `standardwebhooks` library's `verify`: it signs a string and turns a Buffer into one with
 * `toString()` first, so a byte that is not UTF-8 reads as U+FFFD and a signature over other bytes
 * passes. What it accepts is kept: the HMAC over `{id}.{timestamp as a number}.{payload}`, each
 * `v1,<base64>` entry of the space-separated list compared as text in constant time.
 */
export class WebhookVerifier {
  private cache: { secrets: readonly string[]; keys: Buffer[] } | undefined;

  constructor(private readonly secrets: () => Promise<readonly string[]>) {}

  async verify(payload: Uint8Array, headers: Record<string, string | undefined>): Promise<void> {
    const id = headers['webhook-id'];
    const timestamp = headers['webhook-timestamp'];
    const signature = headers['webhook-signature'];
    if (!id || !timestamp || !signature) throw new InvalidSignatureError();
    // The spec's timestamp is whole Unix seconds; the library would also read "123abc" as 123.
    if (!/^\d{1,12}$/.test(timestamp)) throw new InvalidSignatureError();
    const seconds = Number(timestamp);
    if (Math.abs(Math.floor(Date.now() / 1000) - seconds) > TOLERANCE_S) throw new InvalidSignatureError();

    const signed = Buffer.concat([Buffer.from(`${id}.${seconds}.`, 'utf8'), payload]);
    const offered = signature
      .split(' ')
      .map((entry) => entry.split(','))
      .filter(([version, value]) => version === 'v1' && value)
      .map(([, value]) => Buffer.from(value!, 'utf8'));
    for (const key of await this.keys()) {
      const expected = Buffer.from(createHmac('sha256', key).update(signed).digest('base64'), 'utf8');
      if (offered.some((value) => value.length === expected.length && timingSafeEqual(value, expected))) return;
    }
    throw new InvalidSignatureError();
  }

  /** The HMAC keys: the base64 part of each `whsec_` secret (checked when the secrets are read). */
  private async keys(): Promise<Buffer[]> {
    const secrets = await this.secrets();
    if (this.cache?.secrets !== secrets) {
      const keys = secrets.map((secret) => Buffer.from(secret.replace(/^whsec_/, ''), 'base64'));
      // An empty key would make anyone's HMAC valid.
      if (keys.some((key) => key.length === 0)) throw new TypeError('WebhookVerifier: an empty webhook key');
      this.cache = { secrets, keys };
    }
    return this.cache.keys;
  }
}
