import { randomBytes } from 'node:crypto';
import { newMessageId, signedContent, signedHeaders } from '../infra/local/signed-client';
import { LOCAL_REDRIVE_PATH } from '../infra/local/local-routes';
import { CliError, EXIT, UnreachableError } from './errors';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** The body of `POST /erasures` as the command line sends it. */
export interface SubmitBody {
  personIds: string[];
  subjectRef?: string;
  reason?: string;
  requestedBy?: string;
}

/** Where erasures are sent: a stack's webhook routes (signed with the webhook secret) or its IAM routes. */
export interface ApiTarget {
  /** For messages: the URL and how requests are authenticated. */
  readonly label: string;
  /** `undefined`: the service's own id (webhook: a new message id). */
  submit(erasureId: string | undefined, body: SubmitBody): Promise<ApiAnswer>;
  read(erasureId: string): Promise<ApiAnswer>;
  certificate(erasureId: string, options?: { html?: boolean }): Promise<ApiAnswer>;
  extend(erasureId: string, extension: { months: number; reason: string }): Promise<ApiAnswer>;
}

export const newErasureIdempotencyKey = () => `cli_${randomBytes(12).toString('base64url')}`;

export async function parseAnswer(response: Response): Promise<ApiAnswer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (the certificate's HTML page): keep the text
  }
  return { status: response.status, headers: response.headers, body };
}

/**
 * The webhook routes, signed with Standard Webhooks as a CRM signs them (the local stack, or a deployed
 * stack when the operator holds its webhook secret). The erasure id is the `webhook-id`.
 */
export class WebhookClient implements ApiTarget {
  readonly label: string;

  constructor(
    private readonly baseUrl: string,
    private readonly secret: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.label = `${baseUrl} (webhook secret)`;
  }

  submit(erasureId: string | undefined, body: SubmitBody): Promise<ApiAnswer> {
    return this.send('POST', '/erasures', JSON.stringify(body), erasureId ?? newMessageId());
  }

  read(erasureId: string): Promise<ApiAnswer> {
    return this.send('GET', `/erasures/${encodeURIComponent(erasureId)}`);
  }

  certificate(erasureId: string, { html = false } = {}): Promise<ApiAnswer> {
    return this.send(
      'GET',
      `/erasures/${encodeURIComponent(erasureId)}/certificate`,
      '',
      newMessageId(),
      html ? { accept: 'text/html' } : {},
    );
  }

  extend(erasureId: string, extension: { months: number; reason: string }): Promise<ApiAnswer> {
    return this.send('POST', `/erasures/${encodeURIComponent(erasureId)}/extension`, JSON.stringify(extension));
  }

  /** The local stack's dead letters back to its retry queue (`POST /_local/dead-letters/redrive`, signed). */
  redriveLocal(): Promise<ApiAnswer> {
    return this.send('POST', LOCAL_REDRIVE_PATH);
  }

  private async send(method: string, path: string, body = '', id = newMessageId(), headers: Record<string, string> = {}) {
    const url = new URL(path, this.baseUrl);
    // The signed path is the one fetch sends, after URL parsing.
    const signed = signedContent(method, url.pathname, body);
    const response = await fetch(url, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
        ...signedHeaders(this.secret, { id, body: signed }),
      },
      body: body || undefined,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return parseAnswer(response);
  }
}

/** Calls the target, turning a connection failure or a timeout into UnreachableError (exit 3). */
export async function reach<T>(target: ApiTarget, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    const what =
      error instanceof Error && error.name === 'TimeoutError' ? 'did not answer in time' : `could not be reached${cause}`;
    throw new UnreachableError(`${target.label} ${what}.`, 'start the stack (npm start) or check --url / --stack.', {
      cause: error,
    });
  }
}

/** The service's JSON error (`{error, message}`) as one line. */
export function describeAnswer(answer: ApiAnswer): string {
  const body = answer.body as { error?: unknown; message?: unknown } | undefined;
  const code = typeof body?.error === 'string' ? body.error : undefined;
  const message = typeof body?.message === 'string' ? body.message : undefined;
  return [`HTTP ${answer.status}`, code, message].filter(Boolean).join(' ');
}

/**
 * An answer that says the operator's configuration is wrong for every request alike (exit 3), or
 * that the erasure does not exist (exit 4); `undefined` for the others.
 */
export function configurationProblem(target: ApiTarget, answer: ApiAnswer): CliError | undefined {
  if (answer.status === 401)
    return new CliError(
      `${target.label} refused the signature (${describeAnswer(answer)}).`,
      EXIT.unreachable,
      "set WEBHOOK_SECRET to one of the stack's webhook secrets (npm start prints it), and check this machine's clock.",
    );
  if (answer.status === 403)
    return new CliError(
      `${target.label} refused the call (${describeAnswer(answer)}).`,
      EXIT.unreachable,
      "use AWS credentials allowed execute-api:Invoke on the stack's PortalExecuteApiArn output (against a local stack, use --url and WEBHOOK_SECRET).",
    );
  return undefined;
}

export function notFound(erasureId: string): CliError {
  return new CliError(
    `No erasure ${erasureId}.`,
    EXIT.notFound,
    'check the id (verifik-erasure find --person <id> lists the erasures of a person).',
  );
}
