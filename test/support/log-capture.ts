import { createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { newMessageId, signedContent, signedGetPayload, signedHeaders } from '../../infra/local/signed-client';
import type { Answer, Harness } from './http-harness';

/** The lines written while one step of a test ran. */
export interface Window {
  name: string;
  /** The erasure every line of this step must carry; undefined: no id is known (rule 3 of log-capture.test.ts). */
  erasureId: string | undefined;
  /** Messages this step must write, so the checks over its lines cannot pass vacuously. */
  expected: readonly string[];
  lines: string[];
  /** A subject route (a link, a read): no erasure is handled, so no line may name one (rule 3). */
  subjectRoute?: boolean;
}

/**
 * Captures everything written to process.stdout and process.stderr from its creation until
 * `expectRulesKept`, and remembers every secret and piece of personal data the test sends, so
 * none of them may appear in what was written.
 */
export class LogCapture {
  readonly windows: Window[] = [];
  readonly forbidden: { what: string; value: string }[];
  private readonly chunks: string[] = [];
  /** How many writes each stream received. */
  readonly writes = { stdout: 0, stderr: 0 };
  private readonly restore: (() => void)[];

  constructor(private readonly api: Harness) {
    this.forbidden = [
      { what: 'Verifik token', value: api.env.VERIFIK_TOKEN! },
      { what: 'pepper', value: api.env.SUBJECT_REF_PEPPER! },
      { what: 'HubSpot client secret', value: api.env.HUBSPOT_CLIENT_SECRET! },
      ...api.secrets.flatMap((s) => [
        { what: 'webhook secret', value: s },
        { what: 'webhook secret key (base64)', value: s.slice('whsec_'.length) },
      ]),
      ...certificateKeySecrets(api.certificateKey.privateKeyPath),
      { what: 'callback secret', value: api.env.CALLBACK_SECRET! },
      { what: 'callback secret key (base64)', value: api.env.CALLBACK_SECRET!.slice('whsec_'.length) },
    ];
    const sink = (stream: 'stdout' | 'stderr') =>
      ((chunk: string | Uint8Array) => {
        this.writes[stream] += 1;
        this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      }) as typeof process.stdout.write;
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(sink('stdout'));
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(sink('stderr'));
    this.restore = [() => out.mockRestore(), () => err.mockRestore()];
  }

  /** Stops capturing (idempotent): later writes go to the terminal again. */
  stop() {
    for (const restore of this.restore.splice(0)) restore();
  }

  forbid(what: string, value: string) {
    this.forbidden.push({ what, value });
  }

  rememberBody(raw: string) {
    if (raw.length === 0) return;
    this.forbid('raw request body', raw);
    this.forbid('raw request body (JSON-escaped)', JSON.stringify(raw).slice(1, -1));
  }

  /** A fresh subjectRef, remembered as forbidden in the logs. */
  subjectRef() {
    const value = `crm-contact-SUBJ${randomBytes(6).toString('hex')}`;
    this.forbid('subjectRef', value);
    return value;
  }

  /** A signed webhook call whose headers and body are remembered as forbidden in the logs. */
  signed(
    method: 'POST' | 'GET' | 'PUT',
    path: string,
    raw: string,
    {
      id = newMessageId(),
      secret = this.api.secrets[0]!,
      headers = {},
    }: { id?: string; secret?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const signature = signedHeaders(secret, { id, body: signedContent(method, path, raw) });
    this.forbidSignature(signature['webhook-signature']);
    this.rememberBody(raw);
    return this.api.send(method, path, raw, { unsigned: true, headers: { ...signature, ...headers } });
  }

  /** The webhook-signature header and each signature in it. */
  forbidSignature(header: string) {
    this.forbid('webhook-signature header', header);
    for (const entry of header.split(' ')) this.forbid('signature', entry.slice(3));
  }

  erase(body: unknown, id: string, headers?: Record<string, string>) {
    return this.signed('POST', '/erasures', JSON.stringify(body), { id, headers });
  }

  /** A signed extension of an erasure's due date. */
  extend(erasureId: string, body: unknown) {
    return this.signed('POST', `/erasures/${encodeURIComponent(erasureId)}/extension`, JSON.stringify(body));
  }

  /** A direct invocation whose event is remembered as forbidden in the logs. */
  invoke(event: Record<string, unknown>) {
    this.rememberBody(JSON.stringify(event));
    return this.api.invoke(event);
  }

  /** Runs one step and keeps the lines written meanwhile, the retry worker's included. */
  async scenario(
    name: string,
    erasureId: string | undefined,
    expected: readonly string[],
    run: () => Promise<void>,
    { subjectRoute = false }: { subjectRoute?: boolean } = {},
  ) {
    const from = this.chunks.length;
    await run();
    await this.api.retryQueue.idle();
    await this.api.callbackQueue.idle();
    const lines = this.chunks
      .slice(from)
      .join('')
      .split('\n')
      .filter((line) => line.length > 0);
    const window: Window = { name, erasureId, expected, lines, subjectRoute };
    this.windows.push(window);
    return window;
  }

  /**
   * Stops capturing, then checks everything written since the capture began: it is not empty, each
   * step wrote what it must, no secret or personal data leaked, every line is one JSON object, and
   * every line of a step carries the erasure it handled.
   */
  expectRulesKept() {
    this.stop();
    const all = this.chunks.join('');

    // The capture works, so the checks below can fail: INFO goes to stdout, WARN to stderr, and each
    // step's messages were seen.
    expect(this.writes.stdout + this.writes.stderr).toBeGreaterThan(0);
    const missing = this.windows.flatMap((w) =>
      w.expected
        .filter((message) => !w.lines.some((line) => line.includes(`"message":"${message}"`)))
        .map((m) => `${w.name}: ${m}`),
    );
    expect(missing).toEqual([]);

    // Rule 1: no secret or personal data anywhere in the output.
    expect(this.forbidden.map((f) => f.what)).toEqual(
      expect.arrayContaining([
        'Verifik token',
        'pepper',
        'HubSpot client secret',
        'webhook secret',
        'webhook secret key (base64)',
        'certificate private key',
        'certificate private key (JWK d)',
        'callback secret',
        'callback secret key (base64)',
      ]),
    );
    const leaks = this.forbidden.filter(({ value }) => value.length >= 8 && all.includes(value));
    expect(leaks).toEqual([]);

    // Rule 2: every line is one JSON object.
    const bad = all
      .split('\n')
      .filter((line) => line.length > 0)
      .filter((line) => {
        try {
          const parsed: unknown = JSON.parse(line);
          return typeof parsed !== 'object' || parsed === null || Array.isArray(parsed);
        } catch {
          return true;
        }
      });
    expect(bad).toEqual([]);

    // Rule 3: correlation.
    expect(violations(this.windows)).toEqual([]);
  }
}

interface LogLine {
  message?: string;
  level?: string;
  erasureId?: string;
  status?: number;
  _aws?: unknown;
}

/** The lines of each window that break rule 3, described. */
function violations(windows: Window[]): string[] {
  const found: string[] = [];
  for (const window of windows) {
    for (const raw of window.lines) {
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        continue; // reported by rule 2
      }
      if (line._aws !== undefined) continue;
      if (window.subjectRoute) {
        if (line.erasureId !== undefined) found.push(`${window.name}: a subject route names erasure ${line.erasureId}: ${raw}`);
      } else if (window.erasureId !== undefined) {
        if (line.erasureId !== window.erasureId)
          found.push(`${window.name}: erasureId ${line.erasureId ?? '(none)'} instead of ${window.erasureId}: ${raw}`);
      } else if (line.erasureId !== undefined) {
        found.push(`${window.name}: no erasure id is known, yet the line says erasureId ${line.erasureId}: ${raw}`);
      } else if (!(
        line.message === 'request rejected' &&
        typeof line.status === 'number' &&
        line.status >= 400 &&
        line.status < 500
      )) {
        found.push(`${window.name}: only a 4xx rejection may lack erasureId: ${raw}`);
      }
    }
  }
  return found;
}

/** The certificate private key in every form it could leak in: the PEM, each of its base64 lines, the JWK's `d`. */
function certificateKeySecrets(path: string): { what: string; value: string }[] {
  const pem = readFileSync(path, 'utf8');
  const d = createPrivateKey(pem).export({ format: 'jwk' }).d!;
  return [
    { what: 'certificate private key', value: pem.trim() },
    ...pem
      .split('\n')
      .filter((line) => line.length > 0 && !line.startsWith('-----'))
      .map((line) => ({ what: 'certificate private key (PEM line)', value: line })),
    { what: 'certificate private key (JWK d)', value: d },
  ];
}
