import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signedRequestLine } from '../../lambda/http/signature-check';
import { requestTarget } from './api-gateway';
import { LOCAL_REDRIVE_PATH } from './local-routes';

/** A new webhook signing key, `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Standard Webhooks headers for one message, signed with the given `whsec_` secret. `body` is what is
 * signed: the body of a POST, `signedGetPayload(path)` for a GET.
 */
export function signedHeaders(
  secret: string,
  { id, body, timestamp = new Date() }: { id: string; body: string; timestamp?: Date },
) {
  const signature = new Webhook(secret).sign(id, timestamp, body);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

/** What a signed GET signs: its request line `GET {path}`, the path exactly as sent (no query string). */
export const signedGetPayload = (target: string) => signedRequestLine('GET', requestTarget(target).rawPath);

/**
 * What a signed call signs: a GET its request line; `POST /erasures` its body; a POST on a record's
 * path (`/erasures/{id}/extension`) its request line, a line feed, then its body.
 */
export function signedContent(method: string, target: string, body: string): string {
  if (method === 'GET') return signedGetPayload(target);
  const { rawPath } = requestTarget(target);
  return rawPath === '/erasures' ? body : `${signedRequestLine(method, rawPath)}\n${body}`;
}

export const newMessageId = () => `msg_${randomBytes(12).toString('base64url')}`;

/** `/subjects/{source}/{subjectId}`, the subject id percent-encoded (it may hold any printable character). */
export const subjectPath = ({ source, id }: { source: string; id: string }, portal = false) =>
  `${portal ? '/portal' : ''}/subjects/${encodeURIComponent(source)}/${encodeURIComponent(id)}`;

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A caller of the webhook API, as a CRM would be: signs every request. Used by the CLI, tests and benchmarks. */
export class ErasureApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly secret: string,
    /** Gives up on a request after this long (the command line's --timeout); none by default. */
    private readonly timeoutMs?: number,
  ) {}

  async erase(
    request: {
      personIds?: string[];
      subject?: { source: string; id: string };
      subjectRef?: string;
      reason?: string;
      requestedBy?: string;
    },
    id = newMessageId(),
  ): Promise<ApiAnswer> {
    const body = JSON.stringify(request);
    return this.send('POST', '/erasures', { id, body });
  }

  /** The erasure's one extension of its due date (signed over the request line and the body). */
  async extend(erasureId: string, extension: { months: number; reason: string }): Promise<ApiAnswer> {
    return this.send('POST', `/erasures/${encodeURIComponent(erasureId)}/extension`, {
      id: newMessageId(),
      body: JSON.stringify(extension),
    });
  }

  async status(erasureId: string): Promise<ApiAnswer> {
    return this.send('GET', `/erasures/${encodeURIComponent(erasureId)}`, { id: newMessageId(), body: '' });
  }

  /** The signed certificate of erasure: JSON, or the printable HTML page. */
  async certificate(erasureId: string, { html = false } = {}): Promise<ApiAnswer> {
    const path = `/erasures/${encodeURIComponent(erasureId)}/certificate`;
    return this.send('GET', path, { id: newMessageId(), body: '' }, html ? { accept: 'text/html' } : {});
  }

  /** Links a CRM subject to a Verifik person (signed over the request line and the empty body): 201 new, 200 already linked. */
  async link(subject: { source: string; id: string }, personId: string): Promise<ApiAnswer> {
    return this.send('PUT', `${subjectPath(subject)}/persons/${encodeURIComponent(personId)}`, { id: newMessageId(), body: '' });
  }

  /** A subject's linked persons and the erasures that named it. */
  async subject(subject: { source: string; id: string }): Promise<ApiAnswer> {
    return this.send('GET', subjectPath(subject), { id: newMessageId(), body: '' });
  }

  /** The local stack's dead letters back to its retry queue (signed over the request line and the empty body). */
  async redriveDeadLetters(): Promise<ApiAnswer> {
    return this.send('POST', LOCAL_REDRIVE_PATH, { id: newMessageId(), body: '' });
  }

  private async send(
    method: string,
    path: string,
    { id, body }: { id: string; body: string },
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer> {
    const url = new URL(path, this.baseUrl);
    // A signed path is the one fetch sends, after URL parsing, not the one asked for.
    const signed = signedContent(method, url.pathname, body);
    const response = await fetch(url, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
        ...signedHeaders(this.secret, { id, body: signed }),
      },
      body: body || undefined,
      signal: this.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }
}
