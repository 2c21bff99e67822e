/**
 * Fuzzes ids through the real handler: person ids in the body (path traversal, `%2F`,
 * `?collection=`, unicode, control characters, lengths 0..200), webhook-ids (the erasure id), and
 * erasure ids in the GET path, both as a client would send them (URL-encoded or not) and as raw
 * paths API Gateway might pass on.
 */
import fc from 'fast-check';
import {
  IdempotencyModel,
  anyErasureId,
  anyPersonId,
  assertNoSideEffects,
  assertOutcome,
  assertThat,
  bodyVerdict,
  checkAnswer,
  eventWith,
  expectedPost,
  fuzz,
  getRequestLine,
  isErasureId,
  nastyString,
  rawApp,
  sideEffects,
  signedHeaders,
  validErasureId,
  useFuzzHarness,
} from './fuzz-support';

const t = useFuzzHarness();
let counter = 0;
const unique = () => `i${(counter += 1)}`;

describe('fuzz: ids', () => {
  it('sends Verifik only well-formed person ids, URL-encoded, one DELETE each, never with a collection; rejects any other id with 400 and no call', async () => {
    const model = new IdempotencyModel();
    await fuzz(
      'person ids in the body',
      fc.record({
        ids: fc.array(fc.oneof({ weight: 1, arbitrary: anyPersonId }, { weight: 1, arbitrary: nastyString }), {
          minLength: 1,
          maxLength: 3,
        }),
        shorthand: fc.boolean(),
        existing: fc.boolean(),
      }),
      async ({ ids, shorthand, existing }) => {
        const body = shorthand ? { personId: ids[0] } : { personIds: ids };
        const text = JSON.stringify(body);
        const verdict = bodyVerdict(text);
        if (verdict.kind === 'valid' && existing) for (const id of verdict.request.personIds) t.api.sandbox.createPerson(id);
        const erasureId = unique();
        const before = sideEffects(t.api);
        const answer = await t.api.post(undefined, { rawBody: text, id: erasureId });
        const expected = expectedPost({
          bytes: Buffer.byteLength(text),
          media: 'json',
          signature: 'ok',
          erasureId: { kind: 'named', value: erasureId },
          verdict,
          model,
        });
        const status = assertOutcome(answer, expected, t.api, before, model, { body });
        if (verdict.kind === 'valid') {
          const calls = t.api.sandbox.calls.slice(before.calls);
          const wanted = verdict.request.personIds;
          const deletes = calls.filter((call) => call.method === 'DELETE');
          const gets = calls.filter((call) => call.method === 'GET');
          assertThat(deletes.length === wanted.length, `one DELETE per distinct id (${deletes.length} for ${wanted.length})`, {
            calls,
            wanted,
          });
          // Verified absence: one GET per person Verifik deleted, none after a 404 to the DELETE.
          assertThat(gets.length === (existing ? wanted.length : 0), `one GET per deleted person (${gets.length})`, {
            calls,
            existing,
          });
          for (const call of calls) {
            assertThat(call.method === 'DELETE' || call.method === 'GET', 'only DELETE and the GET that verifies it', call);
            assertThat(call.query === '', 'no query string (never `collection`)', call);
            assertThat(
              call.path === `/v2/face-recognition/persons/${encodeURIComponent(call.personId ?? '')}`,
              'the id is the one path segment, URL-encoded',
              call,
            );
            assertThat(wanted.includes(call.personId ?? ''), 'only ids the request named', { call, wanted });
            assertThat(call.authorization === `Bearer ${t.api.env.VERIFIK_TOKEN}`, 'the token travels only as the bearer', call);
          }
          const outcomes = (answer.body.persons as { outcome: string }[]).map((p) => p.outcome);
          assertThat(
            outcomes.every((o) => o === (existing ? 'erased' : 'already_erased')),
            `outcomes ${outcomes} for existing=${existing}`,
            answer.body,
          );
        }
        return `${verdict.kind}-${status}`;
      },
      1000,
    );
  }, 300_000);

  it('takes a well-formed webhook-id as the erasure id and answers 400 (401 when empty, as a missing header) to any other', async () => {
    const model = new IdempotencyModel();
    await fuzz(
      'webhook-ids (erasure ids), lengths 0..200',
      fc.oneof(
        { weight: 2, arbitrary: anyErasureId },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 }).map((n) => `${unique()}${'m'.repeat(n)}`.slice(0, n)) },
        { weight: 1, arbitrary: validErasureId.map((id) => `${unique()}.${id}`.slice(0, 128)) },
      ),
      async (erasureId) => {
        const text = JSON.stringify({ personIds: ['p1'] });
        const before = sideEffects(t.api);
        const answer = await t.api.post(undefined, { rawBody: text, id: erasureId });
        const expected = expectedPost({
          bytes: text.length,
          media: 'json',
          signature: erasureId === '' ? 'bad' : 'ok',
          erasureId: { kind: 'named', value: erasureId },
          verdict: bodyVerdict(text),
          model,
        });
        const status = assertOutcome(answer, expected, t.api, before, model, { erasureId });
        return `${isErasureId(erasureId) ? 'well-formed' : 'malformed'}-${status}`;
      },
      800,
    );
  }, 300_000);

  it('reads GET /erasures/{id} for any path: 200 for a recorded id, 404 for an unknown id or route, 400 for a malformed id, never a 5xx or a Verifik call', async () => {
    const send = rawApp(t.dynamo, t.api);
    // Recorded erasures with every character an erasure id may hold, and the shortest and longest.
    const recorded = ['plain', 'a:b', 'x.y', 'urn:crm:contact:1', 'A-_.:9', '..', '.', 'm'.repeat(128), '-'];
    for (const id of recorded) expect((await t.api.post({ personIds: ['p1'] }, { id })).status).toBe(200);
    const calls = t.api.sandbox.calls.length;

    const segment = fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...recorded) },
      { weight: 3, arbitrary: anyErasureId },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '../../auth/session',
          '..%2F..%2Fx',
          'p1?collection=c1',
          'p1%3Fcollection%3Dc1',
          '%2e%2e',
          'a%2Fb',
          '%',
          '%E0%A4%A',
          '%zz',
          '%00',
          'x/',
          '/x',
          '',
        ),
      },
    );
    await fuzz(
      'GET /erasures/{erasureId} path ids (encoded, raw, raw paths)',
      fc.record({
        id: segment,
        form: fc.constantFrom('encoded', 'raw', 'double', 'rawPath'),
        suffix: fc.constantFrom('', '', '', '/', '?collection=c1', '#x'),
      }),
      async ({ id, form, suffix }) => {
        const seg =
          form === 'encoded' ? encodeURIComponent(id) : form === 'double' ? encodeURIComponent(encodeURIComponent(id)) : id;
        const url = `/erasures/${seg}${suffix}`;
        const before = sideEffects(t.api);
        let path: string;
        let answer;
        if (form === 'rawPath') {
          // As API Gateway would pass a path it did not normalise: no URL parsing at all.
          path = url.split('?')[0]!;
          const headers = signedHeaders(t.api.secrets[0]!, { id: unique(), body: getRequestLine(path) });
          answer = await send(eventWith({ method: 'GET', path: '/', headers, rawPath: path }));
        } else {
          // The local API Gateway passes the path exactly as sent: everything before the first `?`.
          path = url.split('?')[0]!;
          answer = await t.api.send('GET', url, '');
        }
        const context = { id, form, suffix, path };
        checkAnswer(answer, t.api, context);
        assertNoSideEffects(t.api, before, context);
        const param = /^\/erasures\/([^/]+)\/?$/.exec(path)?.[1];
        let allowed: number[];
        if (param === undefined) allowed = [404];
        else if (isErasureId(param)) allowed = [recorded.includes(param) ? 200 : 404];
        else {
          // docs/api.md names the id in the path; a client URL-encodes it and the handler decodes it.
          let decoded: string | undefined;
          try {
            decoded = decodeURIComponent(param);
          } catch {
            decoded = undefined;
          }
          allowed = isErasureId(decoded) ? [recorded.includes(decoded) ? 200 : 404] : [400];
        }
        assertThat(allowed.includes(answer.status), `GET ${path} answered ${answer.status}, allowed ${allowed}`, {
          answer,
          context,
        });
        if (answer.status === 200)
          assertThat(
            recorded.includes(answer.body.erasureId) &&
              (answer.body.erasureId === param || answer.body.erasureId === decodeURIComponent(param!)),
            'the record asked for',
            { answer, context },
          );
        return `${form}-${answer.status}`;
      },
      1000,
    );
    expect(t.api.sandbox.calls).toHaveLength(calls);
  }, 300_000);
});
