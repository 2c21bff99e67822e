import ky, { isHTTPError, isNetworkError, isTimeoutError, type KyInstance, type RetryOptions } from 'ky';
import type { DeleteOptions, PresenceAnswer, VendorAnswer, VerifikPort } from '../erasure/ports';
import { PERSON_ID_PATTERN } from '../erasure/rules';
import { PERSON_NOT_FOUND, evidenceFrom, vendorCode, vendorMessage } from './delete-response';
import { MAX_RETRY_AFTER_MS, retryAfterMs } from './retry-after';
import type { VerifikPace } from './verifik-pace';

export interface VerifikClientOptions {
  baseUrl: string;
  /** Read before each call (cached by its source); `refresh` re-reads it, once, after a 401. */
  token: (options?: { refresh?: boolean }) => Promise<string>;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** At most this many retries inside one call's time budget. */
  retryLimit: number;
  backoffBaseMs: number;
  backoffLimitMs: number;
  /** The client-side pace (VERIFIK_RATE_LIMIT): every attempt, first or retry, waits for its slot. */
  pace?: VerifikPace;
  fetch?: typeof globalThis.fetch;
}

/** The pace gave no slot before the deadline: the attempt was not sent. */
class NoSlotBeforeDeadline extends Error {}

const TRANSIENT_STATUSES = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];
/** The token could not be read (secret missing or unreachable): no request left the service. */
const TOKEN_UNREADABLE = {
  kind: 'transient',
  attempts: 0,
  message: 'The Verifik token could not be read; nothing was sent to Verifik.',
  uncertain: false,
} as const satisfies VendorAnswer;
/** The invocation's time is used up: nothing was sent. */
const NO_TIME = {
  kind: 'transient',
  attempts: 0,
  message: 'No time left in this invocation; deferred to the retry path.',
  uncertain: false,
} as const satisfies VendorAnswer;
/** Below this, an attempt cannot usefully start. */
const MIN_ATTEMPT_MS = 50;

type Sent =
  | { kind: 'no_time' }
  | { kind: 'ok'; response: Response; attempts: number }
  | { kind: 'failed'; error: unknown; attempts: number; lastFailure: string; uncertain: boolean };

/**
 * Deletes persons at Verifik, and reads them back to verify the deletion. Retries 408, 429, 5xx, timeouts and dropped connections with exponential
 * backoff and full jitter, honouring Retry-After, never past the caller's deadline; never follows a
 * redirect (the token must not travel elsewhere) and never sends `collection`.
 */
export class VerifikClient implements VerifikPort {
  private readonly http: KyInstance;

  constructor(private readonly options: VerifikClientOptions) {
    this.http = ky.create({
      prefix: options.baseUrl,
      redirect: 'manual',
      fetch: options.fetch,
      headers: { accept: 'application/json' },
    });
  }

  /**
   * One DELETE with its retries. A 401 is tried once more if re-reading the token gives a new one
   * (rotated since it was cached), so a rotation needs no redeploy.
   */
  async deletePerson(personId: string, options: DeleteOptions): Promise<VendorAnswer> {
    return this.withToken<VendorAnswer>(
      personId,
      async (token) => {
        const sent = await this.send('delete', personId, token, options);
        if (sent.kind === 'no_time') return NO_TIME;
        if (sent.kind === 'failed') return classifyFailure(sent.error, sent);
        const body: unknown = await sent.response.json().catch(() => undefined);
        return { kind: 'deleted', status: sent.response.status, attempts: sent.attempts, evidence: evidenceFrom(body) };
      },
      (answer) => answer.kind === 'unauthorized' && answer.status === 401,
      TOKEN_UNREADABLE,
    );
  }

  /**
   * One GET of the person after a delete, with the same base URL, encoding, token and retries: a 404
   * with PERSON_NOT_FOUND is `absent`, a 2xx `present`, anything else `unclear`. The body of a 2xx
   * (the person's personal data) is never read.
   */
  async getPerson(personId: string, options: DeleteOptions): Promise<PresenceAnswer> {
    return this.withToken(
      personId,
      async (token): Promise<PresenceAnswer> => {
        const sent = await this.send('get', personId, token, options);
        if (sent.kind === 'no_time') return { kind: 'unclear', attempts: 0, message: NO_TIME.message };
        if (sent.kind === 'ok') {
          await sent.response.body?.cancel();
          return { kind: 'present', status: sent.response.status, attempts: sent.attempts };
        }
        const failure = classifyFailure(sent.error, sent);
        if (failure.kind === 'not_found') return { kind: 'absent', status: 404, attempts: failure.attempts };
        return {
          kind: 'unclear',
          status: failure.status,
          attempts: failure.attempts,
          message: failure.message,
          retryAfterMs: failure.kind === 'transient' ? failure.retryAfterMs : undefined,
        };
      },
      (answer) => answer.kind === 'unclear' && answer.status === 401,
      { kind: 'unclear', attempts: 0, message: TOKEN_UNREADABLE.message },
    );
  }

  /** Runs `call` with the token; once more with a re-read token when the answer says it was refused and the token changed. */
  private async withToken<A extends { attempts: number }>(
    personId: string,
    call: (token: string) => Promise<A>,
    refused: (answer: A) => boolean,
    unreadable: A,
  ): Promise<A> {
    if (!PERSON_ID_PATTERN.test(personId)) throw new TypeError('invalid person id');
    const token = await this.readToken();
    if (token === undefined) return unreadable;
    const answer = await call(token);
    if (!refused(answer)) return answer;
    const fresh = await this.readToken({ refresh: true });
    if (fresh === undefined || fresh === token) return answer;
    const again = await call(fresh);
    return { ...again, attempts: again.attempts + answer.attempts };
  }

  /** The token, or undefined when it cannot be read: then nothing is sent, and the caller records that. */
  private async readToken(options?: { refresh?: boolean }): Promise<string | undefined> {
    try {
      return await this.options.token(options);
    } catch {
      return undefined;
    }
  }

  /** One call on the person's URL with its retries inside the deadline; the answer or the last failure. */
  private async send(method: 'delete' | 'get', personId: string, token: string, { deadline }: DeleteOptions): Promise<Sent> {
    const { pace } = this.options;
    if (pace && !(await pace(deadline - MIN_ATTEMPT_MS))) return { kind: 'no_time' };
    const remaining = deadline - Date.now();
    if (remaining < MIN_ATTEMPT_MS) return { kind: 'no_time' };
    let attempts = 1;
    let lastFailure = '';
    let uncertain = false;
    try {
      const response = await this.http(`v2/face-recognition/persons/${encodeURIComponent(personId)}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
        timeout: Math.min(this.options.timeoutMs, remaining),
        totalTimeout: remaining,
        retry: this.retryOptions(deadline, method),
        hooks: {
          beforeRetry: [
            async ({ error }) => {
              lastFailure = describe(error);
              if (mayHaveBeenProcessed(error)) uncertain = true;
              if (pace && !(await pace(deadline - MIN_ATTEMPT_MS))) throw new NoSlotBeforeDeadline();
              attempts += 1;
            },
          ],
        },
      });
      return { kind: 'ok', response, attempts };
    } catch (error) {
      return { kind: 'failed', error, attempts, lastFailure, uncertain };
    }
  }

  private retryOptions(deadline: number, method: 'delete' | 'get'): RetryOptions {
    return {
      limit: this.options.retryLimit,
      methods: [method],
      statusCodes: TRANSIENT_STATUSES,
      afterStatusCodes: TRANSIENT_STATUSES,
      delay: (attempt) => this.options.backoffBaseMs * 2 ** (attempt - 1),
      backoffLimit: this.options.backoffLimitMs,
      jitter: true,
      retryOnTimeout: true,
      maxRetryAfter: MAX_RETRY_AFTER_MS,
      // A Retry-After beyond the deadline ends this call at once, so the answer (and its
      // Retry-After) goes to the durable retry path instead of idling out the budget.
      shouldRetry: ({ error }) => {
        if (!isHTTPError(error)) return undefined;
        const wait = retryAfterMs(error.response.headers.get('retry-after'), Date.now());
        return wait !== undefined && Date.now() + wait >= deadline ? false : undefined;
      },
    };
  }
}

function classifyFailure(
  error: unknown,
  { attempts, lastFailure, uncertain }: { attempts: number; lastFailure: string; uncertain: boolean },
): Exclude<VendorAnswer, { kind: 'deleted' }> {
  if (isHTTPError(error)) {
    const { status } = error.response;
    const message = vendorMessage(status, error.data);
    // Only Verifik's own "no such person" proves anything: a 404 from a wrong base URL or a proxy does not.
    if (status === 404 && vendorCode(error.data) === PERSON_NOT_FOUND) return { kind: 'not_found', status, attempts, uncertain };
    if (status === 404) {
      return { kind: 'rejected', status, attempts, message, unexpectedNotFound: true };
    }
    if (status === 401 || status === 403) return { kind: 'unauthorized', status, attempts, message };
    if (TRANSIENT_STATUSES.includes(status)) {
      const wait = retryAfterMs(error.response.headers.get('retry-after'), Date.now());
      return {
        kind: 'transient',
        status,
        attempts,
        message,
        retryAfterMs: wait,
        uncertain: uncertain || mayHaveBeenProcessed(error),
      };
    }
    if (status >= 300 && status < 400) {
      return { kind: 'rejected', status, attempts, message: `Verifik answered a redirect (${status}); not followed.` };
    }
    return { kind: 'rejected', status, attempts, message };
  }
  const what = describe(error);
  const after = lastFailure && lastFailure !== what ? ` (before that: ${lastFailure})` : '';
  return {
    kind: 'transient',
    attempts,
    message: `${what} after ${attempts} attempt(s)${after}`,
    uncertain: uncertain || mayHaveBeenProcessed(error),
  };
}

/**
 * Only 408 and 429 say the request was not processed; a timeout, a dropped connection or a 5xx may
 * hide a deletion. An attempt the pace never let out was not sent at all.
 */
function mayHaveBeenProcessed(error: unknown): boolean {
  if (error instanceof NoSlotBeforeDeadline) return false;
  return !(isHTTPError(error) && (error.response.status === 408 || error.response.status === 429));
}

/** A failure in words fit for the audit trail: no URL, no headers, no token. */
function describe(error: unknown): string {
  if (isHTTPError(error)) return `Verifik answered ${error.response.status}`;
  if (isTimeoutError(error)) return 'Verifik did not answer in time';
  if (isNetworkError(error)) return 'The connection to Verifik failed';
  if (error instanceof NoSlotBeforeDeadline) return 'No slot under VERIFIK_RATE_LIMIT before the deadline';
  return 'The call to Verifik failed';
}
