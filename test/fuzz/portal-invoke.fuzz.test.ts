/**
 * Fuzzes the callers inside AWS through the real handlers: the portal routes (with a valid IAM
 * principal, with none, with garbage) and the direct-invoke handler with arbitrary events.
 */
import fc from 'fast-check';
import { PORTAL_PRINCIPAL, type Answer } from '../support/http-harness';
import {
  IdempotencyModel,
  MAX_BODY_BYTES,
  anyBodyText,
  anyErasureId,
  assertNoSideEffects,
  assertOutcome,
  assertPrototypeClean,
  assertThat,
  bodyVerdict,
  checkAnswer,
  contentType,
  expectedPost,
  fuzz,
  invokeAnswers,
  isErasureId,
  mediaVerdict,
  nearValidBody,
  sideEffects,
  valueVerdict,
  wrongType,
  type Outcome,
  useFuzzHarness,
} from './fuzz-support';

const t = useFuzzHarness();

const principal = fc.oneof(
  { weight: 6, arbitrary: fc.constant<string | null>(PORTAL_PRINCIPAL) },
  { weight: 1, arbitrary: fc.constant<string | null>(null) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<string | null>(
      '',
      'not-an-arn',
      ' arn:aws:iam::123456789012:user/x',
      'ARN:aws:iam::123456789012:user/x',
      'arn:aws:iam::123456789012:user/privacy-bot',
      'arn:aws:sts::123456789012:assumed-role/other/session',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
);

const authorized = (p: string | null): p is string => typeof p === 'string' && p.startsWith('arn:');

describe('fuzz: portal routes', () => {
  it('refuses a call without an IAM principal with 403, and otherwise answers like the webhook route, recording the principal as requestedBy', async () => {
    const model = new IdempotencyModel();
    await fuzz(
      'portal POST/GET x IAM principal x body x content-type x Idempotency-Key',
      fc.record({
        method: fc.constantFrom('POST', 'POST', 'POST', 'GET'),
        principal,
        body: anyBodyText,
        contentType,
        key: fc.option(fc.oneof(anyErasureId, fc.constantFrom('portal-key-1', 'portal-key-2')), { freq: 2, nil: undefined }),
        pick: fc.nat(),
        getId: anyErasureId,
      }),
      async ({ method, principal: who, body, contentType: type, key, pick, getId }) => {
        const before = sideEffects(t.api);
        const headers: Record<string, string> = {};
        if (key !== undefined) headers['idempotency-key'] = key;
        if (method === 'GET') {
          const known = model.ids();
          const id = known.length > 0 && pick % 3 === 0 ? known[pick % known.length]! : getId;
          const answer = await t.api.portal('GET', `/portal/erasures/${encodeURIComponent(id)}`, undefined, {
            principal: who,
            headers,
          });
          const context = { who, id };
          checkAnswer(answer, t.api, context);
          assertNoSideEffects(t.api, before, context);
          const found = model.has(id) ? 200 : 404;
          // The route is matched on the path exactly as sent (API Gateway's rawPath: nothing resolved or normalised) before any check.
          const param = /^\/portal\/erasures\/([^/]+)\/?$/.exec(`/portal/erasures/${encodeURIComponent(id)}`)?.[1];
          // An id that needs URL-encoding (':' included) is decoded by the handler.
          const allowed = param === undefined ? [404] : !authorized(who) ? [403] : isErasureId(id) ? [found] : [400];
          assertThat(allowed.includes(answer.status), `portal GET answered ${answer.status}, allowed ${allowed}`, {
            answer,
            context,
          });
          return `GET-${answer.status}`;
        }
        headers['content-type'] = type ?? '';
        const answer = await t.api.portal('POST', '/portal/erasures', body, { principal: who, headers });
        const context = { who, body: body.slice(0, 300), type, key };
        let expected: Outcome;
        if (!authorized(who)) expected = { statuses: new Set([403]) };
        else {
          expected = expectedPost({
            bytes: Buffer.byteLength(body),
            media: mediaVerdict(type === undefined || type === '' ? undefined : type),
            signature: 'ok',
            erasureId: key === undefined ? { kind: 'generated' } : { kind: 'named', value: key },
            verdict: bodyVerdict(body),
            requestedBy: who,
            model,
          });
        }
        const status = assertOutcome(answer, expected, t.api, before, model, context);
        if (status === 202)
          assertThat(
            answer.headers.location === `/portal/erasures/${encodeURIComponent(answer.body.erasureId)}`,
            'portal Location',
            answer,
          );
        if (status < 300 && key === undefined)
          assertThat(/^erasure_[0-9a-f-]{36}$/.test(answer.body.erasureId), 'a generated erasure id', answer);
        assertPrototypeClean();
        return `POST-${status}`;
      },
      1500,
    );
  }, 300_000);
});

/** An invoke result as an Answer, after the JSON round trip Lambda puts it through. */
function asAnswer(result: unknown): Answer {
  const json = JSON.stringify(result);
  assertThat(json !== undefined, 'the invoke result is JSON');
  const parsed = JSON.parse(json) as { statusCode: number; body: unknown };
  assertThat(Object.keys(parsed).sort().join(',') === 'body,statusCode', 'the invoke result is {statusCode, body}', parsed);
  const answer = { status: parsed.statusCode, headers: { 'content-type': 'application/json' }, body: parsed.body };
  invokeAnswers.add(answer);
  return answer;
}

const action = fc.oneof(
  { weight: 6, arbitrary: fc.constant<unknown>(undefined) },
  { weight: 3, arbitrary: fc.constant<unknown>('erase') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>('get', 'ERASE', 'Get', 'delete', '', ' erase', null, 1, ['erase'], { erase: true }),
  },
);

describe('fuzz: direct invoke', () => {
  it('answers every event with {statusCode, body}: a record for a valid erase or get, a JSON error otherwise, never a 5xx or a throw', async () => {
    const model = new IdempotencyModel();
    const event = fc.oneof(
      { weight: 2, arbitrary: fc.jsonValue().map((v) => ({ kind: 'json' as const, event: v as unknown })) },
      {
        weight: 6,
        arbitrary: fc
          .record({
            body: nearValidBody,
            action,
            erasureId: fc.option(fc.oneof({ weight: 4, arbitrary: anyErasureId }, { weight: 1, arbitrary: wrongType }), {
              freq: 2,
              nil: undefined,
            }),
          })
          .map(({ body, action: a, erasureId }) => {
            const value = JSON.parse(body) as Record<string, unknown>;
            if (a !== undefined) value.action = a;
            if (erasureId !== undefined) value.erasureId = erasureId;
            return { kind: 'erase' as const, event: value as unknown };
          }),
      },
      {
        weight: 2,
        arbitrary: fc
          .record({ pick: fc.nat(), id: fc.oneof(anyErasureId, wrongType) })
          .map(({ pick, id }) => ({ kind: 'get' as const, pick, id })),
      },
      {
        weight: 1,
        arbitrary: fc.integer({ min: -8, max: 8 }).map((delta) => {
          const head = { personIds: ['p1'], padding: '' };
          const room = MAX_BODY_BYTES + delta - Buffer.byteLength(JSON.stringify(head));
          return { kind: 'sized' as const, event: { ...head, padding: 'x'.repeat(Math.max(0, room)) } as unknown };
        }),
      },
    );
    await fuzz(
      'direct invoke events',
      event,
      async (generated) => {
        let input: unknown;
        if (generated.kind === 'get') {
          const known = model.ids();
          const id = known.length > 0 && generated.pick % 2 === 0 ? known[generated.pick % known.length] : generated.id;
          input = { action: 'get', erasureId: id };
        } else input = generated.event;
        const before = sideEffects(t.api);
        const answer = asAnswer(await t.api.invoke(input));
        const expected = expectedInvoke(input, model);
        const context = { input: JSON.stringify(input)?.slice(0, 400) };
        const status = assertOutcome(answer, expected, t.api, before, model, context);
        if (status === 200 && (input as { action?: unknown }).action === 'get') {
          assertThat(answer.body.erasureId === (input as { erasureId: unknown }).erasureId, 'get returns the record asked for', {
            answer,
            context,
          });
        }
        assertPrototypeClean();
        return `${generated.kind}-${status}`;
      },
      1500,
    );
  }, 300_000);
});

/** docs/api.md: the body of POST /erasures plus an optional erasureId; `{"action":"get"}` reads. */
function expectedInvoke(event: unknown, model: IdempotencyModel): Outcome {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { statuses: new Set([400]) };
  const bytes = Buffer.byteLength(JSON.stringify(event));
  if (bytes > MAX_BODY_BYTES) return { statuses: new Set([413]) };
  const { action: a = 'erase', erasureId, ...body } = event as Record<string, unknown>;
  if (a === 'get') {
    if (!isErasureId(erasureId)) return { statuses: new Set([400]) };
    if (!model.has(erasureId)) return { statuses: new Set([404]) };
    return { statuses: new Set([200]), accepted: undefined };
  }
  if (a !== 'erase') return { statuses: new Set([400]) };
  if (erasureId !== undefined && typeof erasureId !== 'string') return { statuses: new Set([400]) };
  return expectedPost({
    bytes,
    media: 'json',
    signature: 'ok',
    erasureId: erasureId === undefined ? { kind: 'generated' } : { kind: 'named', value: erasureId },
    verdict: valueVerdict(body),
    model,
  });
}
