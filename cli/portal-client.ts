import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  newErasureIdempotencyKey,
  parseAnswer,
  type ApiAnswer,
  type ApiTarget,
  type Subject,
  type SubmitBody,
} from './api-target';
import { subjectPath } from '../infra/local/signed-client';

type SignableRequest = Parameters<SignatureV4['presign']>[0];
type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/**
 * The IAM routes (`/portal/erasures…`) of a deployed stack, each request signed with Signature
 * Version 4 (service `execute-api`) by the AWS SDK's own signer, with the operator's credentials.
 * The erasure id travels as `Idempotency-Key`; the service records the caller's IAM principal as
 * `requestedBy` (a portal cannot name someone else).
 */
export class PortalClient implements ApiTarget {
  private readonly signer: SignatureV4;
  readonly label: string;

  constructor(
    /** The stack's ApiUrl output, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/`. */
    private readonly apiUrl: string,
    options: {
      region: string;
      credentials: Credentials;
      timeoutMs?: number;
      /** Tests: the signing time (SigV4 signatures carry it). */
      now?: () => Date;
      /** Tests: what sends the signed request. */
      fetch?: typeof fetch;
    },
  ) {
    // No x-amz-content-sha256 header: API Gateway hashes the body itself (the header is S3's convention).
    this.signer = new SignatureV4({
      service: 'execute-api',
      region: options.region,
      credentials: options.credentials,
      sha256: Sha256,
      applyChecksum: false,
    });
    this.now = options.now ?? (() => new Date());
    this.fetch = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.label = `${apiUrl} (IAM, region ${options.region})`;
  }

  private readonly now: () => Date;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  submit(erasureId: string | undefined, body: SubmitBody): Promise<ApiAnswer> {
    return this.send('POST', '/portal/erasures', JSON.stringify(body), {
      'idempotency-key': erasureId ?? newErasureIdempotencyKey(),
    });
  }

  read(erasureId: string): Promise<ApiAnswer> {
    return this.send('GET', `/portal/erasures/${encodeURIComponent(erasureId)}`);
  }

  certificate(erasureId: string, { html = false } = {}): Promise<ApiAnswer> {
    return this.send(
      'GET',
      `/portal/erasures/${encodeURIComponent(erasureId)}/certificate`,
      undefined,
      html ? { accept: 'text/html' } : {},
    );
  }

  extend(erasureId: string, extension: { months: number; reason: string }): Promise<ApiAnswer> {
    return this.send('POST', `/portal/erasures/${encodeURIComponent(erasureId)}/extension`, JSON.stringify(extension));
  }

  link(subject: Subject, personId: string): Promise<ApiAnswer> {
    return this.send('PUT', `${subjectPath(subject, true)}/persons/${encodeURIComponent(personId)}`);
  }

  subject(subject: Subject): Promise<ApiAnswer> {
    return this.send('GET', subjectPath(subject, true));
  }

  /** The request as it will be sent, signed: exposed for the signing tests. */
  async signedRequest(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<SignableRequest> {
    const url = new URL(path.replace(/^\//, ''), this.apiUrl.endsWith('/') ? this.apiUrl : `${this.apiUrl}/`);
    const request: SignableRequest = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: {
        host: url.host,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body,
    };
    return this.signer.sign(request, { signingDate: this.now() });
  }

  private async send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    const signed = await this.signedRequest(method, path, body, headers);
    const url = `${signed.protocol}//${signed.headers.host}${signed.path}`;
    // fetch sets Host itself from the URL: the same value that was signed.
    const { host: _host, ...sent } = signed.headers;
    const response = await this.fetch(url, { method, headers: sent, body, signal: AbortSignal.timeout(this.timeoutMs) });
    return parseAnswer(response);
  }
}
