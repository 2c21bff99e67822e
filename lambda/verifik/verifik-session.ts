import ky, { isHTTPError, isNetworkError, isTimeoutError, type KyInstance } from 'ky';
// The namespace import lets the bundler leave out zod's locales (a third of the bundle).
import * as z from 'zod';
import { PERSON_NOT_FOUND, vendorCode, vendorMessage } from './delete-response';

/** What Verifik said to a renewal, in words fit for logs: never the token. */
export type RenewalAnswer =
  | { kind: 'renewed'; token: string }
  /** 401/403: the token is expired or revoked; only a new login by the account owner helps. */
  | { kind: 'refused'; reason: string }
  /** A timeout, a dropped connection, a 5xx or 429, or a body without a token: try again later. */
  | { kind: 'failed'; reason: string };

/** Whether Verifik accepts a token, from a call that reads nothing and changes nothing. */
export type ProbeAnswer = { kind: 'accepted' } | { kind: 'refused'; reason: string } | { kind: 'unclear'; reason: string };

export interface VerifikSessionOptions {
  baseUrl: string;
  timeoutMs: number;
  fetch?: typeof globalThis.fetch;
}

/** A MongoDB ObjectId no Verifik person has: reading it answers 404 PERSON_NOT_FOUND with a good token, 401 without. */
export const PROBE_PERSON_ID = '000000000000000000000000';
/** A renewed token is valid this many months (Verifik's `expiresIn`); the rotation runs well inside that. */
export const RENEWAL_MONTHS = 1;

const renewalBody = z.object({ accessToken: z.string().min(1).max(8192) });

/**
 * Verifik's session calls, for the token rotation: renewal (`GET /v2/auth/session?origin=refresh`)
 * and a harmless probe that a token works. No retries here: a failed rotation is retried by the
 * next run, with the current token still in place. Never `POST /v2/auth/renew-and-revoke`: it would
 * revoke every other token of the account.
 */
export class VerifikSession {
  private readonly http: KyInstance;

  constructor(private readonly options: VerifikSessionOptions) {
    this.http = ky.create({
      prefix: options.baseUrl,
      redirect: 'manual',
      fetch: options.fetch,
      retry: 0,
      timeout: options.timeoutMs,
      headers: { accept: 'application/json' },
    });
  }

  async renew(token: string): Promise<RenewalAnswer> {
    try {
      const body: unknown = await this.http
        .get('v2/auth/session', {
          searchParams: { origin: 'refresh', expiresIn: String(RENEWAL_MONTHS) },
          headers: { authorization: `Bearer ${token}` },
        })
        .json();
      const parsed = renewalBody.safeParse(body);
      if (!parsed.success) return { kind: 'failed', reason: 'Verifik answered the renewal without an accessToken' };
      return { kind: 'renewed', token: parsed.data.accessToken };
    } catch (error) {
      if (isHTTPError(error) && (error.response.status === 401 || error.response.status === 403)) {
        return { kind: 'refused', reason: vendorMessage(error.response.status, error.data) };
      }
      return { kind: 'failed', reason: describe(error, 'renewal') };
    }
  }

  /** Reads a person that cannot exist: 404 PERSON_NOT_FOUND (or, improbably, 200) means the token was accepted. */
  async probe(token: string): Promise<ProbeAnswer> {
    try {
      await this.http.get(`v2/face-recognition/persons/${PROBE_PERSON_ID}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { kind: 'accepted' };
    } catch (error) {
      if (isHTTPError(error)) {
        const { status } = error.response;
        if (status === 404 && vendorCode(error.data) === PERSON_NOT_FOUND) return { kind: 'accepted' };
        const reason = vendorMessage(status, error.data);
        if (status === 401 || status === 403) return { kind: 'refused', reason };
        return { kind: 'unclear', reason };
      }
      return { kind: 'unclear', reason: describe(error, 'probe') };
    }
  }
}

function describe(error: unknown, call: string): string {
  if (isHTTPError(error)) return vendorMessage(error.response.status, error.data);
  if (isTimeoutError(error)) return `Verifik did not answer the ${call} in time`;
  if (isNetworkError(error)) return `The connection to Verifik failed during the ${call}`;
  if (error instanceof SyntaxError) return `Verifik answered the ${call} with a body that is not JSON`;
  return `The ${call} call to Verifik failed`;
}
