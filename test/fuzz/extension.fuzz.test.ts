/**
 * Fuzzes `POST /erasures/{erasureId}/extension` and its portal twin: the erasure id in the path
 * (recorded, unknown, malformed, percent-encoded), the body (valid extensions, near-valid ones with
 * mutated fields and extra keys, arbitrary JSON and text), the content type, the signature (over
 * the request line and body, over the body alone, for another path) and the IAM principal. Oracle:
 * docs/api.md, "Extending the due date". No answer may call Verifik or arm the retry path.
 */
import fc from 'fast-check';
import { newMessageId, signedContent } from '../../infra/local/signed-client';
import { PORTAL_PRINCIPAL } from '../support/http-harness';
import {
  anyBodyText,
  anyErasureId,
  assertNoSideEffects,
  assertPrototypeClean,
  assertThat,
  checkAnswer,
  contentType,
  eventWith,
  fuzz,
  MAX_BODY_BYTES,
  hasPrototypeKey,
  isErasureId,
  mediaVerdict,
  rawApp,
  signedHeaders,
  sideEffects,
  useFuzzHarness,
} from './fuzz-support';

const t = useFuzzHarness();

/** The contract's verdict on an extension body: `{months: 1 | 2, reason}`, nothing else. */
function extensionVerdict(text: string): { kind: 'valid'; months: number; reason: string } | { kind: 'invalid' | 'either' } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'utf8').toString('utf8'));
  } catch {
    return { kind: 'invalid' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || hasPrototypeKey(value)) return { kind: 'invalid' };
  const body = value as Record<string, unknown>;
  if (Object.keys(body).sort().join(',') !== 'months,reason') return { kind: 'invalid' };
  const { months, reason } = body;
  if (months !== 1 && months !== 2) return { kind: 'invalid' };
  if (typeof reason !== 'string' || !reason.isWellFormed() || reason.trim() === '') return { kind: 'invalid' };
  const codePoints = [...reason].length;
  if (codePoints > 256) return { kind: 'invalid' };
  // "up to 256 characters": code points or UTF-16 units, both readings accepted.
  if (reason.length > 256) return { kind: 'either' };
  return { kind: 'valid', months, reason };
}

const reason = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t\n', 'a\ud800b', 'r'.repeat(256), 'r'.repeat(257), '😀'.repeat(129)) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }) },
  { weight: 1, arbitrary: fc.jsonValue() },
);
const months = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(1, 2) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(0, 3, -1, 1.5, '1', '2', null, true, [1], 12) },
);
const extensionBody: fc.Arbitrary<string> = fc
  .record(
    {
      months,
      reason,
      extra: fc.option(fc.constantFrom('extendedDueAt', 'dueAt', 'personIds', 'Months', '__proto__', 'constructor'), {
        freq: 5,
        nil: undefined,
      }),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...fields }) => {
    const text = JSON.stringify(fields);
    return extra === undefined
      ? text
      : text.replace(/^\{/, `{"${extra}":${extra === 'constructor' ? '{"prototype":{}}' : '1'},`).replace(',}', '}');
  });
const body = fc.oneof({ weight: 5, arbitrary: extensionBody }, { weight: 1, arbitrary: anyBodyText });

/** How a webhook caller signs: as the contract says, the body alone, for another erasure's path, or not at all. */
const signing = fc.constantFrom('right', 'right', 'right', 'bodyOnly', 'otherPath', 'none');
const principal = fc.option(fc.constantFrom(PORTAL_PRINCIPAL, 'arn:aws:iam::123456789012:user/dpo'), { freq: 4, nil: null });

describe('fuzz: extensions', () => {
  it('answers every extension as the contract says, by webhook and portal, and never reaches Verifik', async () => {
    const send = rawApp(t.dynamo, t.api);
    const recorded: string[] = [];
    for (const _ of [1, 2, 3]) {
      const erasureId = newMessageId();
      expect((await t.api.post({ personIds: [t.api.sandbox.createPerson()] }, { id: erasureId })).status).toBe(200);
      recorded.push(erasureId);
    }
    /** The extension each recorded erasure holds, once granted. */
    const granted = new Map<string, { months: number; reason: string }>();

    await fuzz(
      'extension route x path id x body x content-type x signature x principal',
      fc.record({
        portal: fc.boolean(),
        pick: fc.nat(),
        otherId: anyErasureId,
        body,
        contentType,
        signing,
        who: principal,
      }),
      async ({ portal, pick, otherId, body: text, contentType: type, signing: how, who }) => {
        const erasureId = pick % 4 === 3 ? otherId : recorded[pick % recorded.length]!;
        const path = `${portal ? '/portal' : ''}/erasures/${encodeURIComponent(erasureId)}/extension`;
        const headers: Record<string, string> = {};
        if (type !== undefined) headers['content-type'] = type;
        if (!portal && how !== 'none') {
          const signed =
            how === 'bodyOnly'
              ? text
              : signedContent('POST', how === 'otherPath' ? '/erasures/someone_else/extension' : path, text);
          Object.assign(headers, signedHeaders(t.api.secrets[0]!, { id: newMessageId(), body: signed }));
        }
        const event = eventWith({ method: 'POST', path, headers, body: Buffer.from(text, 'utf8') });
        if (portal && who !== null) {
          Object.assign(event.requestContext, {
            authorizer: { iam: { accessKey: 'AKIA', accountId: '123456789012', callerId: 'AIDA', userArn: who, userId: 'AIDA' } },
          });
        }
        const before = sideEffects(t.api);

        const answer = await send(event);

        const context = { portal, erasureId, text: text.slice(0, 300), type, how, who };
        checkAnswer(answer, t.api, context);
        assertNoSideEffects(t.api, before, context);
        assertPrototypeClean();
        const allowed = expected({ portal, erasureId, text, type, how, who }, recorded, granted);
        assertThat(allowed.includes(answer.status), `answered ${answer.status}, allowed ${allowed}`, { answer, context });
        if (answer.status === 200) {
          assertThat(answer.body.erasureId === erasureId, 'the record of the erasure named', answer);
          const verdict = extensionVerdict(text);
          const extension = answer.body.extension as { months: number; reason: string; requestedAt: string };
          assertThat(
            typeof answer.body.extendedDueAt === 'string' && answer.body.extendedDueAt > answer.body.dueAt,
            'extendedDueAt after dueAt',
            answer,
          );
          if (!granted.has(erasureId)) granted.set(erasureId, { months: extension.months, reason: extension.reason });
          const held = granted.get(erasureId)!;
          assertThat(extension.months === held.months && extension.reason === held.reason, 'the one extension stands', {
            answer,
            held,
          });
          if (verdict.kind === 'valid')
            assertThat(verdict.months === held.months && verdict.reason === held.reason, 'a 200 only for the extension held', {
              answer,
              held,
            });
        }
        return answer.status;
      },
      600,
    );
    // Some extensions went through, and were refused when asked differently.
    expect(granted.size).toBeGreaterThan(0);
  }, 120_000);
});

/** Every status docs/api.md allows, in the order the checks apply. */
function expected(
  o: { portal: boolean; erasureId: string; text: string; type: string | undefined; how: string; who: string | null },
  recorded: readonly string[],
  granted: ReadonlyMap<string, { months: number; reason: string }>,
): number[] {
  // The router matches the path before any check: an empty id leaves no route.
  if (encodeURIComponent(o.erasureId) === '') return [404];
  if (o.portal && o.who === null) return [403];
  const media = mediaVerdict(o.type === '' ? undefined : o.type);
  const statuses: number[] = [];
  const signatureOk = o.portal || o.how === 'right';
  if (Buffer.byteLength(o.text) > MAX_BODY_BYTES) return [413, ...(media !== 'json' ? [415] : []), ...(signatureOk ? [] : [401])];
  if (media !== 'json') {
    statuses.push(415);
    if (!signatureOk) statuses.push(401);
    if (media === 'not_json') return statuses;
  }
  if (!signatureOk) return [...statuses, 401];
  if (!isErasureId(o.erasureId)) return [...statuses, 400];
  const verdict = extensionVerdict(o.text);
  if (verdict.kind !== 'valid') statuses.push(400);
  if (verdict.kind === 'invalid') return statuses;
  if (!recorded.includes(o.erasureId)) return [...statuses, 404];
  const held = granted.get(o.erasureId);
  if (held === undefined) return [...statuses, 200];
  if (verdict.kind === 'valid' && verdict.months === held.months && verdict.reason === held.reason) return [...statuses, 200];
  return [...statuses, 409, ...(verdict.kind === 'either' ? [200] : [])];
}
