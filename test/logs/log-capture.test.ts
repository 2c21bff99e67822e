/**
 * What the service writes to its logs, captured at DEBUG over every route and outcome: webhook
 * POST/GET, portal POST/GET, certificates (JSON, HTML, 409 pending, portal), direct invoke erase/get, signature failures, 400/403/404/409/413/415,
 * Verifik 200 in both documented shapes, 404, 401, 429, 5xx, retries through the worker, a dead
 * letter and its redrive, extensions (webhook and portal, granted and refused), and the GET that
 * verifies a delete (a person still present, an unclear answer verified by the worker), subject links and
 * reads (webhook and portal, 400/401), an erasure by subject, the HubSpot hook (200 through the retry
 * path, 401, 400) with its client secret and signatures forbidden, and callbacks (delivered, retried
 * after a 5xx and a dropped connection, refused before anything is recorded).
 *
 * Everything written to process.stdout and process.stderr is captured (Powertools' Logger and Metrics
 * write through a node:console Console bound to those streams, unless POWERTOOLS_DEV routes them to
 * the global console, which is why it is unset here). Each scenario is its own test, on a fresh
 * harness (table, Verifik sandbox, token, secrets, pepper), with the setup it needs run and captured
 * in the same test; at its end the test checks everything captured since it began against the rules
 * below (test/support/log-capture.ts). The capture is checked to be non-empty and each step to hold
 * the messages it must produce, so the checks cannot pass vacuously.
 *
 * The rules asserted:
 * 1. No secret or personal data anywhere in the output: the Verifik token, the certificate private key
 *    (PEM, its lines, its JWK `d`), the callback signing secret and every callback signature sent,
 *    every callbackUrl (only its host may be logged), every webhook secret and
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
 * On a GET and an extension the erasure named is the one in the path (not the message's webhook-id); a direct
 * invocation's rejections carry the `erasureId` its event names.
 */
process.env.TEST_LOG_LEVEL = 'DEBUG';
delete process.env.POWERTOOLS_DEV;
// Capture the embedded-metric-format output too (jest's setup disables it for the other tests).
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

import type { SQSEvent } from 'aws-lambda';
import { createHmac, randomBytes } from 'node:crypto';
import { httpEvent, lambdaContext } from '../../infra/local/api-gateway';
import { signedHeaders } from '../../infra/local/signed-client';
import { encodeRetryMessage } from '../../lambda/queue/retry-message';
import { newWebhookSecret } from '../../infra/local/signed-client';
import { CallbackReceiver } from '../support/callback-receiver';
import { PORTAL_PRINCIPAL, useHarness } from '../support/http-harness';
import { LogCapture } from '../support/log-capture';

// The first retry comes 2 s after a request, not 50 ms: otherwise, on a busy machine, the retry
// worker can claim a person before the request's own call does, and an erasure the test expects
// answered inline (200) is answered 202 while the worker finishes it. No scenario here is about a
// slow Verifik, so its timeout leaves room for a cold, busy process too.
const env: Record<string, string> = {
  RETRY_SCHEDULE: '2,0.05,0.05',
  INLINE_BUDGET_MS: '10000',
  VERIFIK_RETRY_LIMIT: '1',
  VERIFIK_TIMEOUT_MS: '5000',
  CALLBACK_RETRY_SCHEDULE: '0.05,0.05,0.05',
};
const t = useHarness(env);
// The callbacks' receiver on loopback; the harness of each test (started after this) admits its host.
let receiver: CallbackReceiver;
beforeAll(async () => {
  receiver = await CallbackReceiver.start();
  env.CALLBACK_ALLOWED_HOSTS = receiver.host;
});
afterAll(() => receiver.close());

const tag = () => randomBytes(6).toString('hex');
const id = () => `log_${tag()}`;

/** What a recorded erasure answered at once writes. */
const ANSWERED = ['erasure recorded', 'person settled', 'erasure answered'];
const REJECTED = ['request rejected'];

let log: LogCapture;
beforeEach(() => {
  log = new LogCapture(t.api);
});
afterEach(() => log.stop());

/** An erasure Verifik answered 200 in its first documented shape: what the scenarios on a recorded erasure start from. */
async function erasedErasure() {
  const { sandbox } = t.api;
  const erasureId = id();
  const person = sandbox.createPerson();
  const body = { personIds: [person], subjectRef: log.subjectRef(), reason: 'gdpr-art-17', requestedBy: 'crm' };
  const window = await log.scenario('POST, Verifik 200 (first shape)', erasureId, ANSWERED, async () => {
    sandbox.script(person, {
      status: 200,
      body: { success: true, message: 'Person deleted successfully', data: { _id: person } },
    });
    expect((await log.erase(body, erasureId)).status).toBe(200);
  });
  return { erasureId, body, window };
}

/** An erasure the worker gave up on after Verifik answered 500 every time: in the dead-letter queue. */
async function deadLetteredErasure() {
  const { sandbox } = t.api;
  const erasureId = id();
  const person = sandbox.createPerson();
  await log.scenario(
    'POST, Verifik 500 always: worker gives up, dead letter',
    erasureId,
    ['erasure recorded', 'erasure retry scheduled', 'retry handled', 'erasure dead-lettered'],
    async () => {
      sandbox.responder = (personId) => (personId === person ? { status: 500, body: { error: 'boom' } } : undefined);
      expect((await log.erase({ personIds: [person] }, erasureId)).status).toBe(202);
    },
  );
  sandbox.responder = undefined;
  expect((await t.api.get(erasureId)).body.status).toBe('failed');
  return erasureId;
}

/** An erasure recorded through the portal under an Idempotency-Key. */
async function portalErasure() {
  const key = `portal_${tag()}`;
  await log.scenario('portal POST 200 with Idempotency-Key', key, ANSWERED, async () => {
    const body = { personIds: ['portal_person_1'], subjectRef: log.subjectRef() };
    log.rememberBody(JSON.stringify(body));
    expect((await t.api.portal('POST', '/portal/erasures', body, { headers: { 'idempotency-key': key } })).status).toBe(200);
  });
  return key;
}

/** An erasure recorded by a direct invocation naming its id. */
async function invokedErasure() {
  const erasureId = `inv_${tag()}`;
  await log.scenario('invoke erase 200', erasureId, ANSWERED, async () => {
    expect(
      (
        await log.invoke({
          erasureId,
          personIds: ['invoke_person_1'],
          subjectRef: log.subjectRef(),
          requestedBy: PORTAL_PRINCIPAL,
        })
      ).statusCode,
    ).toBe(200);
  });
  return erasureId;
}

describe('logs at DEBUG over every route and outcome', () => {
  describe('webhook POST, by Verifik answer', () => {
    it('POST, Verifik 200 (first shape)', async () => {
      const { window } = await erasedErasure();

      // What goes to stdout is captured, metrics included (embedded metric format).
      expect(log.writes.stdout).toBeGreaterThan(0);
      expect(window.lines.some((line) => line.includes('"_aws"'))).toBe(true);
      log.expectRulesKept();
    });

    it('POST, Verifik 200 (second shape, signed evidence)', async () => {
      const e = id();
      await log.scenario('POST, Verifik 200 (second shape, signed evidence)', e, ANSWERED, async () => {
        const p = t.api.sandbox.createPerson();
        t.api.sandbox.script(p, {
          status: 200,
          body: {
            id: 'RQ1',
            data: { _id: p },
            signature: { message: 'Certified by Verifik.co', dateTime: new Date().toUTCString() },
          },
        });
        const answer = await log.erase({ personIds: [p], subjectRef: log.subjectRef() }, e);
        expect(answer.body.persons[0]).toMatchObject({ outcome: 'erased', evidence: { signature: 'Certified by Verifik.co' } });
      });
      log.expectRulesKept();
    });

    it('POST, Verifik 404', async () => {
      const e = id();
      await log.scenario('POST, Verifik 404', e, ANSWERED, async () => {
        expect((await log.erase({ personIds: ['gone_person_1'], subjectRef: log.subjectRef() }, e)).body.persons[0].outcome).toBe(
          'already_erased',
        );
      });
      log.expectRulesKept();
    });

    it('POST, Verifik 429 then 200 (inline retry)', async () => {
      const e = id();
      await log.scenario('POST, Verifik 429 then 200 (inline retry)', e, ANSWERED, async () => {
        const p = t.api.sandbox.createPerson();
        t.api.sandbox.script(p, { status: 429, headers: { 'retry-after': '0' } });
        expect((await log.erase({ personIds: [p] }, e)).body.persons[0].outcome).toBe('erased');
      });
      log.expectRulesKept();
    });
  });

  describe('retries through the worker', () => {
    it('POST, Verifik 503 until the worker succeeds', async () => {
      const e = id();
      await log.scenario(
        'POST, Verifik 503 until the worker succeeds',
        e,
        ['erasure recorded', 'erasure answered', 'retry handled', 'person settled'],
        async () => {
          const p = t.api.sandbox.createPerson();
          t.api.sandbox.script(p, { status: 503 }, { status: 503 });
          expect((await log.erase({ personIds: [p], subjectRef: log.subjectRef() }, e)).status).toBe(202);
        },
      );
      expect((await t.api.get(e)).body.status).toBe('completed');
      log.expectRulesKept();
    });

    it('POST, Verifik 500 always: worker gives up, dead letter', async () => {
      await deadLetteredErasure();
      log.expectRulesKept();
    });

    it('redrive of the dead letter', async () => {
      const deadLettered = await deadLetteredErasure();

      await log.scenario(
        'redrive of the dead letter',
        deadLettered,
        ['erasure redriven from the dead-letter queue', 'person settled', 'retry handled'],
        async () => {
          expect(t.api.retryQueue.redriveDeadLetters()).toBe(1);
        },
      );
      log.expectRulesKept();
    });

    it('POST, Verifik 401 (token refused) through the worker to failed', async () => {
      const e = id();
      await log.scenario(
        'POST, Verifik 401 (token refused) through the worker to failed',
        e,
        ['erasure recorded', 'erasure retry scheduled', 'retry handled', 'erasure dead-lettered'],
        async () => {
          const p = t.api.sandbox.createPerson();
          t.api.sandbox.responder = (personId) =>
            personId === p ? { status: 401, body: { error: 'Unauthorized', message: 'UNAUTHORIZED' } } : undefined;
          expect((await log.erase({ personIds: [p] }, e)).status).toBe(202);
        },
      );
      t.api.sandbox.responder = undefined;
      log.expectRulesKept();
    });

    it('worker message for a terminal erasure', async () => {
      const { erasureId: erased } = await erasedErasure();

      await log.scenario('worker message for a terminal erasure', erased, ['retry handled'], async () => {
        const event = {
          Records: [
            {
              messageId: 'm0',
              receiptHandle: 'r0',
              body: encodeRetryMessage({ erasureId: erased, attempt: 0, notBefore: 0 }),
              attributes: {},
              messageAttributes: {},
            },
          ],
        } as unknown as SQSEvent;
        expect(await t.api.worker(event, lambdaContext(10_000))).toEqual({ batchItemFailures: [] });
      });
      log.expectRulesKept();
    });

    it('POST redelivery of a recorded message', async () => {
      const { erasureId: erased, body } = await erasedErasure();

      await log.scenario(
        'POST redelivery of a recorded message',
        erased,
        ['erasure redelivered', 'erasure answered'],
        async () => {
          expect((await log.erase(body, erased)).status).toBe(200);
        },
      );
      log.expectRulesKept();
    });
  });

  describe('webhook GET', () => {
    it('GET 200', async () => {
      const { erasureId: erased } = await erasedErasure();

      await log.scenario('GET 200', erased, [], async () => {
        expect((await log.signed('GET', `/erasures/${erased}`, '')).status).toBe(200);
      });
      log.expectRulesKept();
    });

    it('GET 404 (well-formed unknown id)', async () => {
      const unknown = id();
      await log.scenario('GET 404 (well-formed unknown id)', unknown, REJECTED, async () => {
        expect((await log.signed('GET', `/erasures/${unknown}`, '')).status).toBe(404);
      });
      log.expectRulesKept();
    });

    it('GET 400 (malformed id)', async () => {
      await log.scenario('GET 400 (malformed id)', undefined, REJECTED, async () => {
        expect((await log.signed('GET', '/erasures/bad%20id', '')).status).toBe(400);
      });
      log.expectRulesKept();
    });
  });

  describe('certificates', () => {
    const ISSUED = ['certificate issued'];

    it('certificate 200 (JSON, signed GET)', async () => {
      const { erasureId: erased } = await erasedErasure();
      await log.scenario('certificate 200 (JSON)', erased, ISSUED, async () => {
        const answer = await log.signed('GET', `/erasures/${erased}/certificate`, '');
        expect(answer.status).toBe(200);
        expect(answer.body.jws).toMatch(/\.\./);
      });
      log.expectRulesKept();
    });

    it('certificate 200 (HTML)', async () => {
      const { erasureId: erased } = await erasedErasure();
      await log.scenario('certificate 200 (HTML)', erased, ISSUED, async () => {
        const path = `/erasures/${erased}/certificate`;
        const signature = signedHeaders(t.api.secrets[0]!, { id: id(), body: `GET ${path}` });
        log.forbidSignature(signature['webhook-signature']);
        const result = await t.api.http(
          httpEvent({ method: 'GET', url: path, headers: { ...signature, accept: 'text/html' } }),
          lambdaContext(29_000),
        );
        expect(result.statusCode).toBe(200);
        expect(result.body).toContain('Certificate of erasure');
      });
      log.expectRulesKept();
    });

    it('certificate 409 while the erasure is pending', async () => {
      const e = id();
      const person = t.api.sandbox.createPerson();
      t.api.sandbox.script(person, { status: 403 });
      await log.scenario('certificate 409 while pending', e, ['erasure recorded', 'erasure answered', ...REJECTED], async () => {
        expect((await log.erase({ personIds: [person], subjectRef: log.subjectRef() }, e)).status).toBe(202);
        expect((await log.signed('GET', `/erasures/${e}/certificate`, '')).status).toBe(409);
      });
      log.expectRulesKept();
    });

    it('certificate 404 and portal certificate 200', async () => {
      const unknown = id();
      await log.scenario('certificate 404', unknown, REJECTED, async () => {
        expect((await log.signed('GET', `/erasures/${unknown}/certificate`, '')).status).toBe(404);
      });
      const portalKey = await portalErasure();
      await log.scenario('portal certificate 200', portalKey, ISSUED, async () => {
        expect((await t.api.portal('GET', `/portal/erasures/${portalKey}/certificate`, undefined)).status).toBe(200);
      });
      log.expectRulesKept();
    });
  });

  describe('rejections on POST /erasures', () => {
    it('401 wrong secret (well-formed webhook-id)', async () => {
      const e = id();
      await log.scenario('401 wrong secret (well-formed webhook-id)', e, REJECTED, async () => {
        const answer = await log.signed(
          'POST',
          '/erasures',
          JSON.stringify({ personIds: ['p1'], subjectRef: log.subjectRef() }),
          { id: e, secret: newWebhookSecret() },
        );
        expect(answer.status).toBe(401);
      });
      log.expectRulesKept();
    });

    it('401 no signature headers', async () => {
      await log.scenario('401 no signature headers', undefined, REJECTED, async () => {
        const raw = JSON.stringify({ personIds: ['p1'], subjectRef: log.subjectRef() });
        log.rememberBody(raw);
        expect((await t.api.send('POST', '/erasures', raw, { unsigned: true })).status).toBe(401);
      });
      log.expectRulesKept();
    });

    it('401 stale timestamp', async () => {
      const e = id();
      await log.scenario('401 stale timestamp', e, REJECTED, async () => {
        const raw = JSON.stringify({ personIds: ['p1'] });
        const headers = signedHeaders(t.api.secrets[1]!, { id: e, body: raw, timestamp: new Date(Date.now() - 3_600_000) });
        log.forbidSignature(headers['webhook-signature']);
        log.rememberBody(raw);
        expect((await t.api.send('POST', '/erasures', raw, { unsigned: true, headers })).status).toBe(401);
      });
      log.expectRulesKept();
    });

    it('400 schema violation', async () => {
      const e = id();
      await log.scenario('400 schema violation', e, REJECTED, async () => {
        expect((await log.erase({ personIds: ['../../etc/passwd'], subjectRef: log.subjectRef() }, e)).status).toBe(400);
      });
      log.expectRulesKept();
    });

    it('400 malformed JSON', async () => {
      const e = id();
      await log.scenario('400 malformed JSON', e, REJECTED, async () => {
        expect(
          (await log.signed('POST', '/erasures', `{"personIds": ["p1"], "subjectRef": "${log.subjectRef()}"`, { id: e })).status,
        ).toBe(400);
      });
      log.expectRulesKept();
    });

    it('400 malformed webhook-id', async () => {
      await log.scenario('400 malformed webhook-id', undefined, REJECTED, async () => {
        expect((await log.erase({ personIds: ['p1'], subjectRef: log.subjectRef() }, 'bad id/1')).status).toBe(400);
      });
      log.expectRulesKept();
    });

    it('409 same webhook-id, different body', async () => {
      const { erasureId: erased } = await erasedErasure();

      await log.scenario('409 same webhook-id, different body', erased, REJECTED, async () => {
        expect((await log.erase({ personIds: ['someone_else'], subjectRef: log.subjectRef() }, erased)).status).toBe(409);
      });
      log.expectRulesKept();
    });

    it('413 body over 64 KiB', async () => {
      const e = id();
      await log.scenario('413 body over 64 KiB', e, REJECTED, async () => {
        expect(
          (await log.erase({ personIds: ['p1'], subjectRef: log.subjectRef(), padding: 'x'.repeat(66_000) }, e)).status,
        ).toBe(413);
      });
      log.expectRulesKept();
    });

    it('415 text/plain', async () => {
      const e = id();
      await log.scenario('415 text/plain', e, REJECTED, async () => {
        expect(
          (await log.erase({ personIds: ['p1'], subjectRef: log.subjectRef() }, e, { 'content-type': 'text/plain' })).status,
        ).toBe(415);
      });
      log.expectRulesKept();
    });

    it('404 unknown route', async () => {
      await log.scenario('404 unknown route', undefined, REJECTED, async () => {
        expect((await t.api.send('DELETE', '/erasures', '', { unsigned: true })).status).toBe(404);
      });
      log.expectRulesKept();
    });
  });

  describe('portal routes', () => {
    it('portal POST 200 with Idempotency-Key', async () => {
      await portalErasure();
      log.expectRulesKept();
    });

    it('portal POST 200 without a key (generated id)', async () => {
      let generated: string | undefined;
      const window = await log.scenario('portal POST 200 without a key (generated id)', 'generated', ANSWERED, async () => {
        const body = { personIds: ['portal_person_2'], subjectRef: log.subjectRef() };
        log.rememberBody(JSON.stringify(body));
        const answer = await t.api.portal('POST', '/portal/erasures', body);
        expect(answer.status).toBe(200);
        generated = answer.body.erasureId;
      });
      window.erasureId = generated;
      log.expectRulesKept();
    });

    it('portal GET 200', async () => {
      const portalKey = await portalErasure();

      await log.scenario('portal GET 200', portalKey, [], async () => {
        expect((await t.api.portal('GET', `/portal/erasures/${portalKey}`, undefined)).status).toBe(200);
      });
      log.expectRulesKept();
    });

    it('portal GET 404', async () => {
      const portalUnknown = id();
      await log.scenario('portal GET 404', portalUnknown, REJECTED, async () => {
        expect((await t.api.portal('GET', `/portal/erasures/${portalUnknown}`, undefined)).status).toBe(404);
      });
      log.expectRulesKept();
    });

    it('portal POST 403 without an IAM principal', async () => {
      const portalKey = await portalErasure();

      await log.scenario('portal POST 403 without an IAM principal', portalKey, REJECTED, async () => {
        expect(
          (
            await t.api.portal(
              'POST',
              '/portal/erasures',
              { personIds: ['p1'] },
              { principal: null, headers: { 'idempotency-key': portalKey } },
            )
          ).status,
        ).toBe(403);
      });
      log.expectRulesKept();
    });

    it('portal POST 400 without a key', async () => {
      await log.scenario('portal POST 400 without a key', undefined, REJECTED, async () => {
        const body = { personIds: [], subjectRef: log.subjectRef() };
        log.rememberBody(JSON.stringify(body));
        expect((await t.api.portal('POST', '/portal/erasures', body)).status).toBe(400);
      });
      log.expectRulesKept();
    });

    it('portal POST 409', async () => {
      const portalKey = await portalErasure();

      await log.scenario('portal POST 409', portalKey, REJECTED, async () => {
        expect(
          (
            await t.api.portal(
              'POST',
              '/portal/erasures',
              { personIds: ['other_person'] },
              { headers: { 'idempotency-key': portalKey, 'content-type': 'application/json' } },
            )
          ).status,
        ).toBe(409);
      });
      log.expectRulesKept();
    });
  });

  describe('direct invoke', () => {
    it('invoke erase 200', async () => {
      await invokedErasure();
      log.expectRulesKept();
    });

    it('invoke get 200', async () => {
      const invokeId = await invokedErasure();

      await log.scenario('invoke get 200', invokeId, [], async () => {
        expect((await log.invoke({ action: 'get', erasureId: invokeId })).statusCode).toBe(200);
      });
      log.expectRulesKept();
    });

    it('invoke get 404', async () => {
      const invokeUnknown = id();
      await log.scenario('invoke get 404', invokeUnknown, REJECTED, async () => {
        expect((await log.invoke({ action: 'get', erasureId: invokeUnknown })).statusCode).toBe(404);
      });
      log.expectRulesKept();
    });

    it('invoke erase 409', async () => {
      const invokeId = await invokedErasure();

      await log.scenario('invoke erase 409', invokeId, REJECTED, async () => {
        expect(
          (await log.invoke({ erasureId: invokeId, personIds: ['invoke_person_2'], subjectRef: log.subjectRef() })).statusCode,
        ).toBe(409);
      });
      log.expectRulesKept();
    });

    it('invoke erase 400 (named id, bad body)', async () => {
      const invokeBad = id();
      await log.scenario('invoke erase 400 (named id, bad body)', invokeBad, REJECTED, async () => {
        expect((await log.invoke({ erasureId: invokeBad, personIds: ['a/b'], subjectRef: log.subjectRef() })).statusCode).toBe(
          400,
        );
      });
      log.expectRulesKept();
    });

    it('invoke 400 (no id, not an erasure)', async () => {
      await log.scenario('invoke 400 (no id, not an erasure)', undefined, REJECTED, async () => {
        expect((await log.invoke({ action: 'purge', subjectRef: log.subjectRef() })).statusCode).toBe(400);
      });
      log.expectRulesKept();
    });

    it('invoke erase 200 without an id (generated)', async () => {
      let invokeGenerated: string | undefined;
      const window = await log.scenario('invoke erase 200 without an id (generated)', 'generated', ANSWERED, async () => {
        const result = await log.invoke({ personIds: ['invoke_person_3'], subjectRef: log.subjectRef() });
        expect(result.statusCode).toBe(200);
        invokeGenerated = (result.body as { erasureId: string }).erasureId;
      });
      window.erasureId = invokeGenerated;
      log.expectRulesKept();
    });
  });

  describe('the statutory clock: extensions', () => {
    const EXTENSION = { months: 1, reason: 'several systems hold data' };

    it('extension 200 (webhook)', async () => {
      const { erasureId } = await erasedErasure();
      await log.scenario('extension 200 (webhook)', erasureId, ['due date extended'], async () => {
        expect((await log.extend(erasureId, EXTENSION)).status).toBe(200);
      });
      log.expectRulesKept();
    });

    it('extension 409 (a second, different one)', async () => {
      const { erasureId } = await erasedErasure();
      await log.scenario('extension 200 before the second', erasureId, ['due date extended'], async () => {
        expect((await log.extend(erasureId, EXTENSION)).status).toBe(200);
      });
      await log.scenario(
        'extension 409 (a second, different one)',
        erasureId,
        ['extension refused: the erasure was extended already', ...REJECTED],
        async () => {
          expect((await log.extend(erasureId, { months: 2, reason: 'another' })).status).toBe(409);
        },
      );
      log.expectRulesKept();
    });

    it('extension 400 (bad body), 404 (unknown id) and 401 (signed over the body alone)', async () => {
      const { erasureId } = await erasedErasure();
      await log.scenario('extension 400 (bad body)', erasureId, REJECTED, async () => {
        expect((await log.extend(erasureId, { months: 3, reason: 'r', note: 'extra' })).status).toBe(400);
      });
      const unknown = id();
      await log.scenario('extension 404 (unknown id)', unknown, REJECTED, async () => {
        expect((await log.extend(unknown, EXTENSION)).status).toBe(404);
      });
      await log.scenario('extension 401 (signed over the body alone)', erasureId, REJECTED, async () => {
        const raw = JSON.stringify(EXTENSION);
        const signature = signedHeaders(t.api.secrets[0]!, { id: id(), body: raw });
        log.forbidSignature(signature['webhook-signature']);
        const answer = await t.api.send('POST', `/erasures/${erasureId}/extension`, raw, { unsigned: true, headers: signature });
        expect(answer.status).toBe(401);
      });
      log.expectRulesKept();
    });

    it('portal extension 200', async () => {
      const key = await portalErasure();
      await log.scenario('portal extension 200', key, ['due date extended'], async () => {
        log.rememberBody(JSON.stringify(EXTENSION));
        expect((await t.api.portal('POST', `/portal/erasures/${key}/extension`, EXTENSION)).status).toBe(200);
      });
      log.expectRulesKept();
    });
  });

  describe('verified absence', () => {
    it('POST, Verifik 200 but the GET still finds the person (STILL_PRESENT)', async () => {
      const e = id();
      await log.scenario('POST, Verifik 200 but the GET still finds the person', e, ANSWERED, async () => {
        const p = t.api.sandbox.createPerson();
        t.api.sandbox.script(p, { status: 200, body: { success: true, data: { _id: p } } });
        t.api.sandbox.scriptGet(p, { status: 200, body: { data: { _id: p, name: 'Jane Doe' } } });
        log.forbid('the person Verifik returned', 'Jane Doe');
        const answer = await log.erase({ personIds: [p], subjectRef: log.subjectRef() }, e);
        expect(answer.body.persons[0].lastError).toMatch(/^STILL_PRESENT/);
      });
      log.expectRulesKept();
    });

    it('POST, the GET gets no clear answer: the worker verifies', async () => {
      const e = id();
      await log.scenario(
        'POST, the GET gets no clear answer: the worker verifies',
        e,
        [...ANSWERED, 'retry handled'],
        async () => {
          const p = t.api.sandbox.createPerson();
          t.api.sandbox.scriptGet(p, { status: 503 }, { status: 503 });
          expect((await log.erase({ personIds: [p] }, e)).status).toBe(202);
        },
      );
      expect((await t.api.get(e)).body.persons[0]).toMatchObject({ outcome: 'erased', verifiedAbsentAt: expect.any(String) });
      log.expectRulesKept();
    });
  });

  describe('subjects and the HubSpot hook', () => {
    const linkPath = (subjectId: string, personId: string) =>
      `/subjects/portal/${encodeURIComponent(subjectId)}/persons/${personId}`;

    it('subject link 201 and 200, reads (webhook and portal), and their 400 and 401', async () => {
      const subjectId = log.subjectRef();
      const person = t.api.sandbox.createPerson();
      await log.scenario(
        'subject link and read',
        undefined,
        ['subject linked', 'subject already linked'],
        async () => {
          expect((await log.signed('PUT', linkPath(subjectId, person), '')).status).toBe(201);
          expect((await log.signed('PUT', linkPath(subjectId, person), '')).status).toBe(200);
          expect((await log.signed('GET', `/subjects/portal/${encodeURIComponent(subjectId)}`, '')).status).toBe(200);
          const portal = `/portal/subjects/portal/${encodeURIComponent(subjectId)}`;
          expect((await t.api.portal('PUT', `${portal}/persons/${person}x`, undefined)).status).toBe(201);
          expect((await t.api.portal('GET', portal, undefined)).status).toBe(200);
        },
        { subjectRoute: true },
      );
      await log.scenario('subject link 400 and 401', undefined, REJECTED, async () => {
        expect((await log.signed('PUT', `/subjects/Portal/${encodeURIComponent(subjectId)}/persons/${person}`, '')).status).toBe(
          400,
        );
        const answer = await t.api.send('PUT', linkPath(subjectId, person), '', { unsigned: true });
        expect(answer.status).toBe(401);
      });
      log.expectRulesKept();
    });

    it('POST by subject: the linked persons erased', async () => {
      const subjectId = log.subjectRef();
      const person = t.api.sandbox.createPerson();
      expect((await log.signed('PUT', linkPath(subjectId, person), '')).status).toBe(201);
      const erasureId = id();
      await log.scenario('POST by subject', erasureId, ANSWERED, async () => {
        const answer = await log.erase({ subject: { source: 'portal', id: subjectId } }, erasureId);
        expect(answer.body.persons).toEqual([expect.objectContaining({ personId: person, outcome: 'erased' })]);
      });
      log.expectRulesKept();
    });

    it('HubSpot hook 200 (recorded, erased on the retry path), 401 and 400', async () => {
      const secret = t.api.env.HUBSPOT_CLIENT_SECRET!;
      const host = 'abc123defg.execute-api.eu-central-1.amazonaws.com';
      const deliver = (raw: string, key = secret, timestamp = Date.now()) => {
        const signature = createHmac('sha256', key)
          .update(`POSThttps://${host}/hooks/hubspot${raw}${timestamp}`, 'utf8')
          .digest('base64');
        log.forbid('HubSpot signature', signature);
        log.rememberBody(raw);
        return t.api.send('POST', '/hooks/hubspot', raw, {
          unsigned: true,
          headers: { host, 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': String(timestamp) },
        });
      };
      const objectId = 7_000_000 + Math.floor(Math.random() * 1_000_000);
      const person = t.api.sandbox.createPerson();
      expect((await log.signed('PUT', `/subjects/hubspot/${objectId}/persons/${person}`, '')).status).toBe(201);
      const event = (type: string) => ({ subscriptionType: type, portalId: 62515, objectId, eventId: 1, attemptNumber: 0 });
      const batch = JSON.stringify([
        event('contact.privacyDeletion'),
        event('contact.propertyChange'),
        event('contact.privacyDeletion'),
      ]);
      const erasureId = `hubspot:62515:contact:${objectId}`;
      await log.scenario(
        'HubSpot hook 200, erased on the retry path',
        erasureId,
        ['erasure recorded', 'erasure recorded for the retry path', 'retry handled', 'person settled'],
        async () => {
          expect((await deliver(batch)).body).toEqual({ erasures: [{ erasureId, status: 'pending' }], ignored: 1 });
        },
      );
      expect((await t.api.get(erasureId)).body).toMatchObject({ status: 'completed' });
      await log.scenario('HubSpot hook 401 (wrong secret, stale) and 400 (malformed)', undefined, REJECTED, async () => {
        expect((await deliver(batch, `${secret}-wrong`)).status).toBe(401);
        expect((await deliver(batch, secret, Date.now() - 6 * 60_000)).status).toBe(401);
        expect((await deliver('[{"subscriptionType":"contact.privacyDeletion","portalId":1}]')).status).toBe(400);
      });
      log.expectRulesKept();
    });
  });

  describe('callbacks', () => {
    /** A callbackUrl with a path and query a caller might think private: only its host may reach the logs. */
    const callbackUrl = () => {
      const url = receiver.url(`/hooks/${tag()}?tenant=TENANT${tag()}`);
      log.forbid('callbackUrl', url);
      log.forbid('callbackUrl path and query', url.slice(url.indexOf('/hooks/')));
      return url;
    };
    /** Every signature the receiver got is forbidden too. */
    const forbidReceived = () => {
      for (const callback of receiver.received) log.forbidSignature(String(callback.headers['webhook-signature']));
    };
    beforeEach(() => receiver.reset());

    it('POST with callbackUrl, delivered', async () => {
      const e = id();
      await log.scenario(
        'POST with callbackUrl, delivered',
        e,
        [...ANSWERED, 'callback enqueued', 'callback delivered'],
        async () => {
          const answer = await log.erase({ personIds: [t.api.sandbox.createPerson()], callbackUrl: callbackUrl() }, e);
          expect(answer.status).toBe(200);
        },
      );
      // At least once: on a busy machine the retry chain may announce it too (the same event id).
      expect(receiver.received.length).toBeGreaterThanOrEqual(1);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
      forbidReceived();
      log.expectRulesKept();
    });

    it('POST with callbackUrl, the receiver answers 503, then drops the connection, then 200', async () => {
      const e = id();
      receiver.answer(503, 'drop', 200);
      await log.scenario(
        'callback retried',
        e,
        ['callback enqueued', 'callback not delivered', 'callback delivered'],
        async () => {
          await log.erase({ personIds: [t.api.sandbox.createPerson()], callbackUrl: callbackUrl() }, e);
        },
      );
      expect(receiver.received.length).toBeGreaterThanOrEqual(3);
      forbidReceived();
      log.expectRulesKept();
    });

    it('POST with a callbackUrl not on the allowlist (400)', async () => {
      const e = id();
      await log.scenario('callbackUrl refused', e, REJECTED, async () => {
        const url = `https://attacker.example.net/steal/${tag()}?token=SECRET${tag()}`;
        log.forbid('refused callbackUrl', url);
        expect((await log.erase({ personIds: ['p1'], callbackUrl: url }, e)).status).toBe(400);
      });
      log.expectRulesKept();
    });
  });
});
