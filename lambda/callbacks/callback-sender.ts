import ky, { isTimeoutError, type KyInstance } from 'ky';
import { Webhook } from 'standardwebhooks';
import { SERVICE_NAME } from '../names';
import type { CallbackError } from '../erasure/types';
import type { CallbackEvent } from './callback-event';

/** What one POST of a callback came to. Only the status is kept: the receiver's body is never read. */
export type SendResult = { delivered: true; status: number } | { delivered: false; status?: number; error?: CallbackError };

export interface CallbackSenderOptions {
  /** The signing secret (`whsec_…`), read when needed (cached by its source). */
  secret: () => Promise<string>;
  /** Per-attempt timeout. */
  timeoutMs: number;
  fetch?: typeof globalThis.fetch;
  now?: () => Date;
}

/**
 * POSTs callback events signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`). One attempt per call: the callback queue does the retrying. Redirects are
 * never followed (only the allowlisted URL is ever called) and a 2xx is the only success.
 */
export class CallbackSender {
  private readonly http: KyInstance;
  private readonly now: () => Date;

  constructor(private readonly options: CallbackSenderOptions) {
    this.now = options.now ?? (() => new Date());
    this.http = ky.create({
      redirect: 'manual',
      retry: 0,
      throwHttpErrors: false,
      timeout: options.timeoutMs,
      fetch: options.fetch,
      headers: { 'content-type': 'application/json', 'user-agent': `${SERVICE_NAME}-callbacks` },
    });
  }

  async send(url: string, eventId: string, event: CallbackEvent): Promise<SendResult> {
    const body = JSON.stringify(event);
    const sentAt = this.now();
    const signature = new Webhook(await this.options.secret()).sign(eventId, sentAt, body);
    let response: Response;
    try {
      response = await this.http.post(url, {
        body,
        headers: {
          'webhook-id': eventId,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
      });
    } catch (error) {
      return { delivered: false, error: isTimeoutError(error) ? 'timeout' : 'connection_failed' };
    }
    // The answer's body is not ours to keep, nor worth reading.
    await response.body?.cancel().catch(() => undefined);
    const { status } = response;
    if (status >= 200 && status < 300) return { delivered: true, status };
    return { delivered: false, status, error: status >= 300 && status < 400 ? 'redirect_refused' : undefined };
  }
}
