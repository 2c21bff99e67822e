/**
 * Fuzzes valid requests end to end through the real handler, DynamoDB (dynalite) and the Verifik
 * sandbox: generated valid bodies (repeats, the personId shorthand, optional fields in any Unicode,
 * unknown fields), JSON content types, either active secret, timestamps inside the tolerance, and
 * per person a scripted Verifik answer. Each request must answer 200 or 202 with a record whose
 * persons are the deduplicated ids with the outcome Verifik's answer means; the audit trail must
 * hold it (GET, the by-person index, no subjectRef); a redelivery must return the same record without
 * calling Verifik again for a terminal person, and a different request under the same id a 409.
 */
import fc from 'fast-check';
import type { SandboxAnswer } from '../../infra/local/verifik-sandbox';
import {
  JSON_CONTENT_TYPES,
  assertRecord,
  assertStoredSubjectHash,
  assertThat,
  bodyText,
  checkAnswer,
  fuzz,
  hasPrototypeKey,
  secretsOf,
  shortPersonId,
  validErasureId,
  type BodyEntries,
  type ErasureRequest,
  useFuzzHarness,
} from './fuzz-support';

const t = useFuzzHarness();

type Script = 'absent' | 'present' | '503-then-ok' | '429-then-ok' | 'drop-then-ok' | '403' | '400' | '301';
const EXPECTED_OUTCOME: Record<Script, string> = {
  absent: 'already_erased',
  present: 'erased',
  '503-then-ok': 'erased',
  '429-then-ok': 'erased',
  'drop-then-ok': 'erased',
  '403': 'pending',
  '400': 'failed',
  '301': 'failed',
};
const SCRIPTS: Record<Script, SandboxAnswer[]> = {
  absent: [],
  present: [],
  '503-then-ok': [{ status: 503, body: { error: 'busy' } }],
  '429-then-ok': [{ status: 429, headers: { 'retry-after': '0' }, body: { error: 'slow down' } }],
  'drop-then-ok': [{ drop: true }],
  '403': [{ status: 403, body: { error: 'Forbidden', message: 'FORBIDDEN' } }],
  '400': [{ status: 400, body: { error: 'Bad request', message: 'BAD_REQUEST' } }],
  '301': [{ status: 301, headers: { location: 'https://elsewhere.example/steal' } }],
};

const text256 = fc.string({ unit: 'grapheme', maxLength: 256 }).filter((s) => s.length <= 256);
const safeExtraKey = fc
  .string({ maxLength: 12 })
  .filter((k) => !['personIds', 'personId', 'subjectRef', 'reason', 'requestedBy', '__proto__', 'constructor'].includes(k));

const validRequest = fc.record({
  ids: fc.array(shortPersonId, { minLength: 1, maxLength: 5 }),
  repeats: fc.array(fc.nat(), { maxLength: 4 }),
  shorthand: fc.boolean(),
  subjectRef: fc.option(text256, { nil: undefined }),
  reason: fc.option(fc.oneof(fc.constant('gdpr-art-17'), text256), { nil: undefined }),
  requestedBy: fc.option(fc.oneof(fc.constant('crm'), text256), { nil: undefined }),
  // Unknown fields are ignored, except prototype keys at any depth, which the project rejects (400).
  extras: fc.array(
    fc.tuple(
      safeExtraKey,
      fc.jsonValue({ maxDepth: 2 }).filter((v) => !hasPrototypeKey(v)),
    ),
    { maxLength: 2 },
  ),
  contentType: fc.constantFrom(...JSON_CONTENT_TYPES),
  secret: fc.constantFrom(0, 1),
  offsetS: fc.integer({ min: -280, max: 280 }),
  erasureId: validErasureId,
  scripts: fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom<Script>('absent', 'present') },
      { weight: 1, arbitrary: fc.constantFrom<Script>('503-then-ok', '429-then-ok', 'drop-then-ok', '403', '400', '301') },
    ),
    { minLength: 5, maxLength: 5 },
  ),
  redeliver: fc.constantFrom('none', 'same', 'reordered', 'different'),
});

let run = 0;

describe('fuzz: valid requests', () => {
  it('answers every valid signed request 200/202 with a record of exactly its deduplicated persons, durably recorded and idempotent', async () => {
    await fuzz(
      'valid signed erasures end to end',
      validRequest,
      async (generated) => {
        run += 1;
        // Fresh person and erasure ids per case, so scripts and records never leak between cases.
        const distinct = [...new Set(generated.ids)].map((id) => `r${run}-${id}`.slice(0, 64));
        const named = [...distinct, ...generated.repeats.map((n) => distinct[n % distinct.length]!)];
        const shorthand = generated.shorthand && distinct.length === 1;
        const erasureId = `v${run}.${generated.erasureId}`.slice(0, 128);
        const scriptOf = new Map(distinct.map((id, i) => [id, generated.scripts[i % generated.scripts.length]!]));
        for (const [id, script] of scriptOf) {
          if (script !== 'absent' && script !== '403' && script !== '400' && script !== '301') t.api.sandbox.createPerson(id);
          if (SCRIPTS[script].length > 0) t.api.sandbox.script(id, ...SCRIPTS[script]);
        }

        const entries: BodyEntries = [
          shorthand ? ['personId', JSON.stringify(distinct[0])] : ['personIds', JSON.stringify(named)],
        ];
        for (const field of ['subjectRef', 'reason', 'requestedBy'] as const) {
          if (generated[field] !== undefined) entries.push([field, JSON.stringify(generated[field])]);
        }
        for (const [key, value] of generated.extras) entries.push([key, JSON.stringify(value)]);
        const body = bodyText(entries);
        const request: ErasureRequest = {
          personIds: distinct,
          ...(generated.subjectRef === undefined ? {} : { subjectRef: generated.subjectRef }),
          ...(generated.reason === undefined ? {} : { reason: generated.reason }),
          ...(generated.requestedBy === undefined ? {} : { requestedBy: generated.requestedBy }),
        };
        const sendBody = (text: string) =>
          t.api.post(undefined, {
            rawBody: text,
            id: erasureId,
            secret: t.api.secrets[generated.secret],
            timestamp: new Date(Date.now() + generated.offsetS * 1000),
            headers: { 'content-type': generated.contentType },
          });

        const callsBefore = t.api.sandbox.calls.length;
        const answer = await sendBody(body);
        const context = { body: body.slice(0, 500), erasureId, scripts: Object.fromEntries(scriptOf) };
        checkAnswer(answer, t.api, context);
        assertRecord(answer, erasureId, request, { kind: 'new' }, context);
        const recorded = await t.api.store.getErasure(erasureId);
        assertStoredSubjectHash(recorded?.request, request.subjectRef, t.api.env.SUBJECT_REF_PEPPER!);

        // Each person has the outcome its Verifik answer means; the request status follows.
        const persons = answer.body.persons as { personId: string; outcome: string; vendorStatus?: number; lastError?: string }[];
        for (const person of persons) {
          const script = scriptOf.get(person.personId)!;
          assertThat(person.outcome === EXPECTED_OUTCOME[script], `${person.personId}: ${person.outcome} for ${script}`, {
            person,
            context,
          });
          if (script === '301') assertThat(/redirect/.test(person.lastError ?? ''), 'a redirect is failed, not followed', person);
        }
        const outcomes = persons.map((p) => p.outcome);
        const status = outcomes.includes('pending') ? 'pending' : outcomes.includes('failed') ? 'failed' : 'completed';
        assertThat(answer.body.status === status, `request status ${answer.body.status}, expected ${status}`, {
          answer,
          context,
        });
        assertThat(answer.status === (status === 'pending' ? 202 : 200), `HTTP ${answer.status} for ${status}`, {
          answer,
          context,
        });
        if (answer.status === 202)
          assertThat(
            answer.headers.location === `/erasures/${encodeURIComponent(erasureId)}`,
            'Location of a 202',
            answer.headers,
          );

        // Verifik: only the named persons, each id as one encoded path segment, never a collection,
        // never the redirect target.
        const calls = t.api.sandbox.calls.slice(callsBefore);
        for (const [i, call] of calls.entries()) {
          assertThat(distinct.includes(call.personId ?? ''), 'a call for a person not named', { call, context });
          assertThat(
            (call.method === 'DELETE' || call.method === 'GET') && call.query === '',
            'DELETE or GET without query',
            call,
          );
          // A GET only verifies a DELETE made before it.
          if (call.method === 'GET')
            assertThat(
              calls.slice(0, i).some((c) => c.method === 'DELETE' && c.personId === call.personId),
              'a GET before any DELETE of the person',
              { calls, context },
            );
        }
        for (const id of distinct)
          assertThat(
            calls.some((c) => c.personId === id),
            `no call for ${id}`,
            { calls, context },
          );

        // The audit trail holds it: by id (GET, path as sent unencoded) and by person; no subjectRef.
        const stored = await t.api.store.getErasure(erasureId);
        assertThat(stored !== undefined, 'the erasure is recorded', context);
        const storedText = JSON.stringify(stored);
        assertThat(!Object.hasOwn(stored.request, 'subjectRef'), 'the stored request has no subjectRef', stored);
        for (const secret of secretsOf(t.api)) assertThat(!storedText.includes(secret), 'no secret in the audit trail', context);
        const read = await t.api.send('GET', `/erasures/${erasureId}`, '');
        assertThat(read.status === 200, `GET answered ${read.status}`, { read, context });
        if (status !== 'pending')
          assertThat(JSON.stringify(read.body) === JSON.stringify(answer.body), 'GET returns the record answered', {
            read,
            answer,
          });
        for (const id of distinct) {
          const refs = await t.api.store.erasuresForPerson(id);
          assertThat(
            refs.some((r) => r.erasureId === erasureId),
            `by-person index lacks ${id}`,
            { refs, context },
          );
        }

        // Redelivery.
        if (generated.redeliver !== 'none') {
          const callsBeforeAgain = t.api.sandbox.calls.length;
          let again: BodyEntries = entries;
          if (generated.redeliver === 'reordered' && !shorthand)
            again = [['personIds', JSON.stringify([...named].reverse().concat(named[0]!))], ...entries.slice(1)];
          if (generated.redeliver === 'different')
            again = [['personIds', JSON.stringify([...distinct, `r${run}-extra`])], ...entries.slice(1)];
          const second = await sendBody(bodyText(again));
          checkAnswer(second, t.api, { context, again });
          const newCalls = t.api.sandbox.calls.slice(callsBeforeAgain);
          if (generated.redeliver === 'different') {
            assertThat(second.status === 409, `a different request under the same id answered ${second.status}`, {
              second,
              context,
            });
            assertThat(newCalls.length === 0, 'a 409 called Verifik', newCalls);
          } else {
            assertThat(second.status === 200 || second.status === 202, `redelivery answered ${second.status}`, {
              second,
              context,
            });
            const terminal = persons.filter((p) => p.outcome !== 'pending').map((p) => p.personId);
            assertThat(
              !newCalls.some((c) => terminal.includes(c.personId ?? '')),
              'a redelivery called Verifik for a terminal person',
              { newCalls, terminal },
            );
            if (status !== 'pending')
              assertThat(JSON.stringify(second.body) === JSON.stringify(answer.body), 'a redelivery returns the same record', {
                second,
                answer,
              });
          }
        }
        return `${answer.status}-${status}${generated.redeliver === 'none' ? '' : `+${generated.redeliver}`}`;
      },
      250,
    );
  }, 300_000);
});
