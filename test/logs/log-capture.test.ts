/**
 * What the service writes to its logs, captured at DEBUG over every route and outcome: webhook
 * POST/GET, portal POST/GET, direct invoke erase/get, signature failures, 400/403/404/409/413/415,
 * Verifik 200 in both documented shapes, 404, 401, 429, 5xx, retries through the worker, a dead
 * letter and its redrive.
 *
 * Everything written to process.stdout and process.stderr is captured (Powertools' Logger and Metrics
 * write through a node:console Console bound to those streams, unless POWERTOOLS_DEV routes them to
 * the global console, which is why it is unset here). The capture is checked to be non-empty and to
 * hold the messages these scenarios must produce, so the assertions below cannot pass vacuously.
 *
 * The rules asserted:
 * 1. No secret or personal data anywhere in the output: the Verifik token, every webhook secret and
 *    its base64 key, every webhook-signature header sent (and each signature in it), every
 *    subjectRef sent, the pepper, and every raw request body (as sent and JSON-escaped).
 * 2. Every line is one JSON object.
 * 3. Correlation: every log line written while handling an erasure carries `erasureId`, equal to
 *    the erasure being handled. The erasure being handled is the one the caller names when the name
 *    is well-formed (webhook-id on POST /erasures, the path id on GET, Idempotency-Key on portal
 *    POST, `erasureId` in an invoke event), or the one the service generated once it has recorded
 *    it (portal/invoke without a key). A line may lack `erasureId` only when no erasure id is known:
 *    a `request rejected` warning (4xx) for a request that names no well-formed id (no signature
 *    headers, a malformed id, an unknown route, a portal call without a key rejected before it is
 *    recorded). An unverified but well-formed webhook-id on a request whose signature fails counts
 *    as named. Metric blobs (embedded metric format, `_aws`) are not log lines and carry no id.
 *
 * On a GET the erasure named is the one in the path (not the GET message's webhook-id); a direct
 * invocation's rejections carry the `erasureId` its event names.
 */
process.env.TEST_LOG_LEVEL = 'DEBUG';
delete process.env.POWERTOOLS_DEV;
// Capture the embedded-metric-format output too (jest's setup disables it for the other tests).
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

import type { SQSEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { lambdaContext } from '../../infra/local/api-gateway';
import { newMessageId, signedGetPayload, signedHeaders } from '../../infra/local/signed-client';
import { encodeRetryMessage } from '../../lambda/queue/retry-message';
import { PORTAL_PRINCIPAL, newSecret, useHarness, type Answer } from '../support/http-harness';

const t = useHarness({ RETRY_SCHEDULE: '0.05,0.05,0.05', INLINE_BUDGET_MS: '300', VERIFIK_RETRY_LIMIT: '1' });

interface Window {
  name: string;
  /** The erasure every line of this scenario must carry; undefined: no id is known (see rule 3). */
  erasureId: string | undefined;
  lines: string[];
}

interface Captured {
  windows: Window[];
  all: string;
  stdoutWrites: number;
  forbidden: { what: string; value: string }[];
}

let captured: Captured | undefined;

const tag = () => randomBytes(6).toString('hex');

describe('logs at DEBUG over every route and outcome', () => {
  it('runs every scenario and captures what is written to stdout and stderr', async () => {
    const api = t.api;
    const chunks: string[] = [];
    let stdoutWrites = 0;
    const sink = (stream: 'stdout' | 'stderr') =>
      ((chunk: string | Uint8Array) => {
        if (stream === 'stdout') stdoutWrites += 1;
        chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      }) as typeof process.stdout.write;
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(sink('stdout'));
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(sink('stderr'));

    const windows: Window[] = [];
    const forbidden: { what: string; value: string }[] = [
      { what: 'Verifik token', value: api.env.VERIFIK_TOKEN! },
      { what: 'pepper', value: api.env.SUBJECT_REF_PEPPER! },
      ...api.secrets.flatMap((s) => [
        { what: 'webhook secret', value: s },
        { what: 'webhook secret key (base64)', value: s.slice('whsec_'.length) },
      ]),
    ];
    const rememberBody = (raw: string) => {
      if (raw.length === 0) return;
      forbidden.push(
        { what: 'raw request body', value: raw },
        { what: 'raw request body (JSON-escaped)', value: JSON.stringify(raw).slice(1, -1) },
      );
    };
    const subjectRef = () => {
      const value = `crm-contact-SUBJ${tag()}`;
      forbidden.push({ what: 'subjectRef', value });
      return value;
    };

    /** A signed webhook call whose headers and body are remembered as forbidden in the logs. */
    const signed = async (
      method: 'POST' | 'GET',
      path: string,
      raw: string,
      {
        id = newMessageId(),
        secret = api.secrets[0]!,
        headers = {},
      }: { id?: string; secret?: string; headers?: Record<string, string> } = {},
    ): Promise<Answer> => {
      const signature = signedHeaders(secret, { id, body: method === 'GET' ? signedGetPayload(path) : raw });
      forbidden.push({ what: 'webhook-signature header', value: signature['webhook-signature'] });
      for (const entry of signature['webhook-signature'].split(' ')) forbidden.push({ what: 'signature', value: entry.slice(3) });
      rememberBody(raw);
      return api.send(method, path, raw, { unsigned: true, headers: { ...signature, ...headers } });
    };
    const erase = (body: unknown, id: string, headers?: Record<string, string>) =>
      signed('POST', '/erasures', JSON.stringify(body), { id, headers });

    /** Runs one scenario and keeps the lines written meanwhile, the retry worker's included. */
    const scenario = async (name: string, erasureId: string | undefined, run: () => Promise<void>) => {
      const from = chunks.length;
      await run();
      await api.retryQueue.idle();
      const lines = chunks
        .slice(from)
        .join('')
        .split('\n')
        .filter((line) => line.length > 0);
      windows.push({ name, erasureId, lines });
    };

    try {
      const sandbox = api.sandbox;
      const id = () => `log_${tag()}`;

      // Verifik 200, both documented shapes.
      let e = id();
      const firstPerson = sandbox.createPerson();
      const firstBody = { personIds: [firstPerson], subjectRef: subjectRef(), reason: 'gdpr-art-17', requestedBy: 'crm' };
      await scenario('POST, Verifik 200 (first shape)', e, async () => {
        sandbox.script(firstPerson, {
          status: 200,
          body: { success: true, message: 'Person deleted successfully', data: { _id: firstPerson } },
        });
        expect((await erase(firstBody, e)).status).toBe(200);
      });
      const erasedFirst = e;
      e = id();
      await scenario('POST, Verifik 200 (second shape, signed evidence)', e, async () => {
        const p = sandbox.createPerson();
        sandbox.script(p, {
          status: 200,
          body: {
            id: 'RQ1',
            data: { _id: p },
            signature: { message: 'Certified by Verifik.co', dateTime: new Date().toUTCString() },
          },
        });
        const answer = await erase({ personIds: [p], subjectRef: subjectRef() }, e);
        expect(answer.body.persons[0]).toMatchObject({ outcome: 'erased', evidence: { signature: 'Certified by Verifik.co' } });
      });
      e = id();
      await scenario('POST, Verifik 404', e, async () => {
        expect((await erase({ personIds: ['gone_person_1'], subjectRef: subjectRef() }, e)).body.persons[0].outcome).toBe(
          'already_erased',
        );
      });
      e = id();
      await scenario('POST, Verifik 429 then 200 (inline retry)', e, async () => {
        const p = sandbox.createPerson();
        sandbox.script(p, { status: 429, headers: { 'retry-after': '0' } });
        expect((await erase({ personIds: [p] }, e)).body.persons[0].outcome).toBe('erased');
      });
      e = id();
      await scenario('POST, Verifik 503 until the worker succeeds', e, async () => {
        const p = sandbox.createPerson();
        sandbox.script(p, { status: 503 }, { status: 503 });
        expect((await erase({ personIds: [p], subjectRef: subjectRef() }, e)).status).toBe(202);
      });
      expect((await api.get(e)).body.status).toBe('completed');
      e = id();
      const deadPerson = sandbox.createPerson();
      await scenario('POST, Verifik 500 always: worker gives up, dead letter', e, async () => {
        sandbox.responder = (personId) => (personId === deadPerson ? { status: 500, body: { error: 'boom' } } : undefined);
        expect((await erase({ personIds: [deadPerson] }, e)).status).toBe(202);
      });
      sandbox.responder = undefined;
      expect((await api.get(e)).body.status).toBe('failed');
      const deadLettered = e;
      await scenario('redrive of the dead letter', deadLettered, async () => {
        expect(api.retryQueue.redriveDeadLetters()).toBe(1);
      });
      e = id();
      await scenario('POST, Verifik 401 (token refused) through the worker to failed', e, async () => {
        const p = sandbox.createPerson();
        sandbox.responder = (personId) =>
          personId === p ? { status: 401, body: { error: 'Unauthorized', message: 'UNAUTHORIZED' } } : undefined;
        expect((await erase({ personIds: [p] }, e)).status).toBe(202);
      });
      sandbox.responder = undefined;
      await scenario('worker message for a terminal erasure', erasedFirst, async () => {
        const event = {
          Records: [
            {
              messageId: 'm0',
              receiptHandle: 'r0',
              body: encodeRetryMessage({ erasureId: erasedFirst, attempt: 0, notBefore: 0 }),
              attributes: {},
              messageAttributes: {},
            },
          ],
        } as unknown as SQSEvent;
        expect(await api.worker(event, lambdaContext(10_000))).toEqual({ batchItemFailures: [] });
      });
      await scenario('POST redelivery of a recorded message', erasedFirst, async () => {
        expect((await erase(firstBody, erasedFirst)).status).toBe(200);
      });

      // Webhook GET.
      await scenario('GET 200', erasedFirst, async () => {
        expect((await signed('GET', `/erasures/${erasedFirst}`, '')).status).toBe(200);
      });
      const unknown = id();
      await scenario('GET 404 (well-formed unknown id)', unknown, async () => {
        expect((await signed('GET', `/erasures/${unknown}`, '')).status).toBe(404);
      });
      await scenario('GET 400 (malformed id)', undefined, async () => {
        expect((await signed('GET', '/erasures/bad%20id', '')).status).toBe(400);
      });

      // Rejections on POST /erasures.
      e = id();
      await scenario('401 wrong secret (well-formed webhook-id)', e, async () => {
        const answer = await signed('POST', '/erasures', JSON.stringify({ personIds: ['p1'], subjectRef: subjectRef() }), {
          id: e,
          secret: newSecret(),
        });
        expect(answer.status).toBe(401);
      });
      await scenario('401 no signature headers', undefined, async () => {
        const raw = JSON.stringify({ personIds: ['p1'], subjectRef: subjectRef() });
        rememberBody(raw);
        expect((await api.send('POST', '/erasures', raw, { unsigned: true })).status).toBe(401);
      });
      e = id();
      await scenario('401 stale timestamp', e, async () => {
        const raw = JSON.stringify({ personIds: ['p1'] });
        const headers = signedHeaders(api.secrets[1]!, { id: e, body: raw, timestamp: new Date(Date.now() - 3_600_000) });
        forbidden.push({ what: 'webhook-signature header', value: headers['webhook-signature'] });
        rememberBody(raw);
        expect((await api.send('POST', '/erasures', raw, { unsigned: true, headers })).status).toBe(401);
      });
      e = id();
      await scenario('400 schema violation', e, async () => {
        expect((await erase({ personIds: ['../../etc/passwd'], subjectRef: subjectRef() }, e)).status).toBe(400);
      });
      e = id();
      await scenario('400 malformed JSON', e, async () => {
        expect(
          (await signed('POST', '/erasures', `{"personIds": ["p1"], "subjectRef": "${subjectRef()}"`, { id: e })).status,
        ).toBe(400);
      });
      await scenario('400 malformed webhook-id', undefined, async () => {
        expect((await erase({ personIds: ['p1'], subjectRef: subjectRef() }, 'bad id/1')).status).toBe(400);
      });
      await scenario('409 same webhook-id, different body', erasedFirst, async () => {
        expect((await erase({ personIds: ['someone_else'], subjectRef: subjectRef() }, erasedFirst)).status).toBe(409);
      });
      e = id();
      await scenario('413 body over 64 KiB', e, async () => {
        expect((await erase({ personIds: ['p1'], subjectRef: subjectRef(), padding: 'x'.repeat(66_000) }, e)).status).toBe(413);
      });
      e = id();
      await scenario('415 text/plain', e, async () => {
        expect((await erase({ personIds: ['p1'], subjectRef: subjectRef() }, e, { 'content-type': 'text/plain' })).status).toBe(
          415,
        );
      });
      await scenario('404 unknown route', undefined, async () => {
        expect((await api.send('DELETE', '/erasures', '', { unsigned: true })).status).toBe(404);
      });

      // Portal routes.
      const portalKey = `portal_${tag()}`;
      await scenario('portal POST 200 with Idempotency-Key', portalKey, async () => {
        const body = { personIds: ['portal_person_1'], subjectRef: subjectRef() };
        rememberBody(JSON.stringify(body));
        expect((await api.portal('POST', '/portal/erasures', body, { headers: { 'idempotency-key': portalKey } })).status).toBe(
          200,
        );
      });
      let generated: string | undefined;
      await scenario('portal POST 200 without a key (generated id)', 'generated', async () => {
        const body = { personIds: ['portal_person_2'], subjectRef: subjectRef() };
        rememberBody(JSON.stringify(body));
        const answer = await api.portal('POST', '/portal/erasures', body);
        expect(answer.status).toBe(200);
        generated = answer.body.erasureId;
      });
      windows.at(-1)!.erasureId = generated;
      await scenario('portal GET 200', portalKey, async () => {
        expect((await api.portal('GET', `/portal/erasures/${portalKey}`, undefined)).status).toBe(200);
      });
      const portalUnknown = id();
      await scenario('portal GET 404', portalUnknown, async () => {
        expect((await api.portal('GET', `/portal/erasures/${portalUnknown}`, undefined)).status).toBe(404);
      });
      await scenario('portal POST 403 without an IAM principal', portalKey, async () => {
        expect(
          (
            await api.portal(
              'POST',
              '/portal/erasures',
              { personIds: ['p1'] },
              { principal: null, headers: { 'idempotency-key': portalKey } },
            )
          ).status,
        ).toBe(403);
      });
      await scenario('portal POST 400 without a key', undefined, async () => {
        const body = { personIds: [], subjectRef: subjectRef() };
        rememberBody(JSON.stringify(body));
        expect((await api.portal('POST', '/portal/erasures', body)).status).toBe(400);
      });
      await scenario('portal POST 409', portalKey, async () => {
        expect(
          (
            await api.portal(
              'POST',
              '/portal/erasures',
              { personIds: ['other_person'] },
              { headers: { 'idempotency-key': portalKey, 'content-type': 'application/json' } },
            )
          ).status,
        ).toBe(409);
      });

      // Direct invoke.
      const invokeId = `inv_${tag()}`;
      const invoke = (event: Record<string, unknown>) => {
        rememberBody(JSON.stringify(event));
        return api.invoke(event);
      };
      await scenario('invoke erase 200', invokeId, async () => {
        expect(
          (
            await invoke({
              erasureId: invokeId,
              personIds: ['invoke_person_1'],
              subjectRef: subjectRef(),
              requestedBy: PORTAL_PRINCIPAL,
            })
          ).statusCode,
        ).toBe(200);
      });
      await scenario('invoke get 200', invokeId, async () => {
        expect((await invoke({ action: 'get', erasureId: invokeId })).statusCode).toBe(200);
      });
      const invokeUnknown = id();
      await scenario('invoke get 404', invokeUnknown, async () => {
        expect((await invoke({ action: 'get', erasureId: invokeUnknown })).statusCode).toBe(404);
      });
      await scenario('invoke erase 409', invokeId, async () => {
        expect((await invoke({ erasureId: invokeId, personIds: ['invoke_person_2'], subjectRef: subjectRef() })).statusCode).toBe(
          409,
        );
      });
      const invokeBad = id();
      await scenario('invoke erase 400 (named id, bad body)', invokeBad, async () => {
        expect((await invoke({ erasureId: invokeBad, personIds: ['a/b'], subjectRef: subjectRef() })).statusCode).toBe(400);
      });
      await scenario('invoke 400 (no id, not an erasure)', undefined, async () => {
        expect((await invoke({ action: 'purge', subjectRef: subjectRef() })).statusCode).toBe(400);
      });
      let invokeGenerated: string | undefined;
      await scenario('invoke erase 200 without an id (generated)', 'generated', async () => {
        const result = await invoke({ personIds: ['invoke_person_3'], subjectRef: subjectRef() });
        expect(result.statusCode).toBe(200);
        invokeGenerated = (result.body as { erasureId: string }).erasureId;
      });
      windows.at(-1)!.erasureId = invokeGenerated;
    } finally {
      out.mockRestore();
      err.mockRestore();
    }

    captured = { windows, all: chunks.join(''), stdoutWrites, forbidden };
  }, 60_000);

  it('captured the service’s output (the capture works, so the checks below can fail)', () => {
    const { all, stdoutWrites, windows } = captured!;
    expect(stdoutWrites).toBeGreaterThan(20);
    for (const message of [
      'erasure recorded',
      'erasure redelivered',
      'person settled',
      'erasure answered',
      'request rejected',
      'retry handled',
      'erasure retry scheduled',
      'erasure dead-lettered',
      'erasure redriven from the dead-letter queue',
    ]) {
      expect(all).toContain(`"message":"${message}"`);
    }
    // Metrics are in the capture too (embedded metric format).
    expect(all).toContain('"_aws"');
    expect(windows.filter((w) => w.lines.length > 0).length).toBeGreaterThan(25);
  });

  it('never writes a secret, a signature, a subjectRef, the pepper or a raw body', () => {
    const { all, forbidden } = captured!;
    expect(forbidden.length).toBeGreaterThan(50);
    const leaks = forbidden.filter(({ value }) => value.length >= 8 && all.includes(value));
    expect(leaks).toEqual([]);
  });

  it('writes one JSON object per line', () => {
    const { windows } = captured!;
    const bad = windows.flatMap((w) =>
      w.lines.filter((line) => {
        try {
          const parsed: unknown = JSON.parse(line);
          return typeof parsed !== 'object' || parsed === null || Array.isArray(parsed);
        } catch {
          return true;
        }
      }),
    );
    expect(bad).toEqual([]);
  });

  it('labels every line written while handling an erasure with its erasureId (rule 3)', () => {
    expect(violations(captured!.windows)).toEqual([]);
  });
});

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
        continue; // reported by the JSON test
      }
      if (line._aws !== undefined) continue;
      if (window.erasureId !== undefined) {
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
