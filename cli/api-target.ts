import { randomBytes } from 'node:crypto';
import { ErasureApiClient, newMessageId, type ApiAnswer } from '../infra/local/signed-client';
import { CliError, EXIT, UnreachableError } from './errors';
import type { Subject } from './subject';

export type { ApiAnswer, Subject };

/** The body of `POST /erasures` as the command line sends it. */
export interface SubmitBody {
  personIds: string[];
  /** A CRM subject: the service erases the persons linked to it (none linked: recorded with a note). */
  subject?: Subject;
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
  link(subject: Subject, personId: string): Promise<ApiAnswer>;
  subject(subject: Subject): Promise<ApiAnswer>;
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
 * stack when the operator holds its webhook secret), by the signed client the tests use. The erasure id
 * is the `webhook-id`.
 */
export class WebhookClient implements ApiTarget {
  readonly label: string;
  private readonly client: ErasureApiClient;

  constructor(baseUrl: string, secret: string, timeoutMs = 30_000) {
    this.client = new ErasureApiClient(baseUrl, secret, timeoutMs);
    this.label = `${baseUrl} (webhook secret)`;
  }

  submit(erasureId: string | undefined, body: SubmitBody): Promise<ApiAnswer> {
    return this.client.erase(body, erasureId ?? newMessageId());
  }

  read(erasureId: string): Promise<ApiAnswer> {
    return this.client.status(erasureId);
  }

  certificate(erasureId: string, options: { html?: boolean } = {}): Promise<ApiAnswer> {
    return this.client.certificate(erasureId, options);
  }

  extend(erasureId: string, extension: { months: number; reason: string }): Promise<ApiAnswer> {
    return this.client.extend(erasureId, extension);
  }

  link(subject: Subject, personId: string): Promise<ApiAnswer> {
    return this.client.link(subject, personId);
  }

  subject(subject: Subject): Promise<ApiAnswer> {
    return this.client.subject(subject);
  }

  /** The local stack's dead letters back to its retry queue (`POST /_local/dead-letters/redrive`, signed). */
  redriveLocal(): Promise<ApiAnswer> {
    return this.client.redriveDeadLetters();
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
