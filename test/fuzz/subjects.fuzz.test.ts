/**
 * Fuzzes the subject routes (`PUT /subjects/{source}/{subjectId}/persons/{personId}`, `GET
 * /subjects/{source}/{subjectId}` and their portal twins), `POST /erasures` naming a subject, and
 * `POST /hooks/hubspot`: path segments (valid, near-valid, malformed percent-encoding, control
 * characters), bodies, signatures (right, for another path, stale, none) and the IAM principal.
 * Oracle: docs/api.md "Subjects" and docs/crm-integration.md "HubSpot". No answer is a 5xx, none calls
 * Verifik, and only an accepted erasure arms the retry path.
 */
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { newMessageId, signedContent } from '../../infra/local/signed-client';
import { PORTAL_PRINCIPAL, useHarness } from '../support/http-harness';
import {
  anyBodyText,
  assertNoSideEffects,
  assertPrototypeClean,
  assertThat,
  checkAnswer,
  eventWith,
  fuzz,
  nastyString,
  rawApp,
  sideEffects,
  signedHeaders,
  validPersonId,
} from './fuzz-support';

// The retry path never runs during a property: an erasure it records stays pending, Verifik uncalled.
const t = useHarness({ RETRY_SCHEDULE: '3600' });

const SOURCE = /^[a-z][a-z0-9-]{0,31}$/;
const isSubjectId = (value: string) => value.isWellFormed() && /^[^\p{Cc}\p{Cs}]{1,128}$/u.test(value);
const decoded = (segment: string): string | null => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
};

/** A raw path segment: a value percent-encoded as a client would, or raw text an attacker would send. */
const segmentOf = (value: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 4, arbitrary: value.filter((v) => v.isWellFormed() && v.length > 0).map(encodeURIComponent) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%00', 'a%07b', '%2F', '..', '%25', '%ED%A0%80', 'x'.repeat(129)),
    },
  );
const source = segmentOf(fc.oneof(fc.stringMatching(SOURCE), fc.constantFrom('hubspot', 'HubSpot', '9x', 'a'.repeat(33), '-a')));
const subjectId = segmentOf(
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 140 }) },
    { weight: 1, arbitrary: nastyString },
  ),
);
const personId = segmentOf(fc.oneof(validPersonId, nastyString));
const principal = fc.option(fc.constantFrom(PORTAL_PRINCIPAL), { freq: 4, nil: null });

describe('fuzz: subjects and the HubSpot hook', () => {
  it('answers every subject link and read as the contract says, and never reaches Verifik', async () => {
    const send = rawApp(t.dynamo, t.api);
    await fuzz(
      'subject route x source x subjectId x personId x body x signature x principal',
      fc.record({
        put: fc.boolean(),
        portal: fc.boolean(),
        source,
        subjectId,
        personId,
        body: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: anyBodyText }),
        signing: fc.constantFrom('right', 'right', 'right', 'otherPath', 'none'),
        who: principal,
      }),
      async (c) => {
        const path = `${c.portal ? '/portal' : ''}/subjects/${c.source}/${c.subjectId}${c.put ? `/persons/${c.personId}` : ''}`;
        const method = c.put ? 'PUT' : 'GET';
        const headers: Record<string, string> = {};
        if (!c.portal && c.signing !== 'none') {
          const signedPath = c.signing === 'otherPath' ? '/subjects/hubspot/someone-else/persons/p1' : path;
          Object.assign(
            headers,
            signedHeaders(t.api.secrets[0]!, { id: newMessageId(), body: signedContent(method, signedPath, c.body) }),
          );
        }
        const event = eventWith({ method, path: '/', headers, body: Buffer.from(c.body, 'utf8'), rawPath: path });
        if (c.portal && c.who !== null) {
          Object.assign(event.requestContext, {
            authorizer: {
              iam: { accessKey: 'AKIA', accountId: '123456789012', callerId: 'AIDA', userArn: c.who, userId: 'AIDA' },
            },
          });
        }
        const before = sideEffects(t.api);

        const answer = await send(event);

        const context = { ...c, path, body: c.body.slice(0, 200) };
        if (answer.status === 201) assertThat(c.put && Array.isArray(answer.body.persons), 'a 201 only for a new link', context);
        else checkAnswer(answer, t.api, context);
        assertNoSideEffects(t.api, before, context);
        assertPrototypeClean();
        const allowed = expectedSubjectAnswer(c, c.put);
        assertThat(allowed.includes(answer.status), `answered ${answer.status}, allowed ${allowed}`, { answer, context });
        return answer.status;
      },
      400,
    );
  }, 180_000);

  it('erases by subject only a well-formed subject, and one with no link calls nobody', async () => {
    await fuzz(
      'POST /erasures subject',
      fc.oneof(
        fc.record({
          source: fc.oneof(fc.stringMatching(SOURCE), nastyString),
          id: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 140 }), nastyString),
        }),
        fc.anything(),
      ),
      async (subject) => {
        const before = sideEffects(t.api);
        const answer = await t.api.post({ subject });
        const context = { subject };
        checkAnswer(answer, t.api, context);
        const valid =
          typeof subject === 'object' &&
          subject !== null &&
          !Array.isArray(subject) &&
          typeof (subject as { source?: unknown }).source === 'string' &&
          SOURCE.test((subject as { source: string }).source) &&
          typeof (subject as { id?: unknown }).id === 'string' &&
          isSubjectId((subject as { id: string }).id);
        assertThat(
          answer.status === (valid ? 200 : 400),
          `answered ${answer.status} for a ${valid ? 'valid' : 'malformed'} subject`,
          { answer, context },
        );
        if (valid)
          assertThat(
            answer.body.persons.length === 0 && answer.body.status === 'completed',
            'no link: completed, no person',
            answer,
          );
        assertThat(t.api.sandbox.calls.length === before.calls, 'no Verifik call', context);
        if (!valid) assertNoSideEffects(t.api, before, context);
        return answer.status;
      },
      200,
    );
  }, 180_000);

  it('answers every HubSpot batch as the contract says, records only verified well-formed ones, and never calls Verifik', async () => {
    const send = rawApp(t.dynamo, t.api);
    const secret = t.api.env.HUBSPOT_CLIENT_SECRET!;
    const host = 'abc123defg.execute-api.eu-central-1.amazonaws.com';
    const id = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 2 ** 40 }) }, { weight: 1, arbitrary: fc.jsonValue() });
    const event = fc.record(
      {
        subscriptionType: fc.oneof(
          {
            weight: 4,
            arbitrary: fc.constantFrom('contact.privacyDeletion', 'contact.deletion', 'contact.propertyChange', 'deal.creation'),
          },
          { weight: 1, arbitrary: fc.jsonValue() },
        ),
        portalId: id,
        objectId: id,
        eventId: fc.nat(),
      },
      { requiredKeys: [] },
    );
    const batch = fc.oneof(
      { weight: 4, arbitrary: fc.array(event, { maxLength: 6 }).map((events) => JSON.stringify(events)) },
      { weight: 1, arbitrary: anyBodyText },
    );
    await fuzz(
      'hubspot batch x signature',
      fc.record({ body: batch, signing: fc.constantFrom('right', 'right', 'right', 'wrongKey', 'stale', 'otherUri', 'none') }),
      async ({ body, signing }) => {
        const timestamp = signing === 'stale' ? Date.now() - 10 * 60_000 : Date.now();
        const uri = signing === 'otherUri' ? `https://${host}/hooks/other` : `https://${host}/hooks/hubspot`;
        const key = signing === 'wrongKey' ? `${secret}x` : secret;
        const headers: Record<string, string> = { host, 'content-type': 'application/json' };
        if (signing !== 'none') {
          headers['x-hubspot-signature-v3'] = createHmac('sha256', key)
            .update(`POST${uri}${body}${timestamp}`, 'utf8')
            .digest('base64');
          headers['x-hubspot-request-timestamp'] = String(timestamp);
        }
        const before = sideEffects(t.api);

        const hook = eventWith({ method: 'POST', path: '/hooks/hubspot', headers, body: Buffer.from(body, 'utf8') });
        // API Gateway's own host name: the URI HubSpot signed.
        hook.requestContext.domainName = host;
        const answer = await send(hook);

        const context = { body: body.slice(0, 300), signing };
        checkAnswer(answer, t.api, context);
        assertPrototypeClean();
        const verdict = hubSpotVerdict(body);
        const allowed =
          Buffer.byteLength(body) > 64 * 1024 ? [413] : signing !== 'right' ? [401] : verdict === 'malformed' ? [400] : [200];
        assertThat(allowed.includes(answer.status), `answered ${answer.status}, allowed ${allowed}`, { answer, context });
        assertThat(t.api.sandbox.calls.length === before.calls, 'the hook never calls Verifik', context);
        if (answer.status !== 200 || verdict === 0) assertNoSideEffects(t.api, before, context);
        if (answer.status === 200)
          assertThat(answer.body.erasures.length === verdict, `${verdict} erasures`, { answer, context });
        return answer.status;
      },
      400,
    );
  }, 180_000);
});

/** docs/api.md "Subjects": the statuses a subject route may answer. */
function expectedSubjectAnswer(
  c: { portal: boolean; source: string; subjectId: string; personId: string; body: string; signing: string; who: string | null },
  put: boolean,
): number[] {
  if (c.portal && c.who === null) return [403];
  // Size is checked before the signature (docs/api.md).
  if (Buffer.byteLength(c.body) > 64 * 1024) return [413];
  if (!c.portal && c.signing !== 'right') return [401];
  if (put && c.body !== '') return [400];
  const [s, id, p] = [decoded(c.source), decoded(c.subjectId), decoded(c.personId)];
  if (s === null || !SOURCE.test(s) || id === null || !isSubjectId(id)) return [400];
  if (put && (p === null || !/^[A-Za-z0-9_-]{1,64}$/.test(p))) return [400];
  return put ? [200, 201] : [200];
}

/** How many erasures a HubSpot body asks for (privacy deletions of distinct contacts), or 'malformed'. */
function hubSpotVerdict(text: string): number | 'malformed' {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'malformed';
  }
  if (!Array.isArray(value) || value.length === 0) return 'malformed';
  const contacts = new Set<string>();
  for (const event of value) {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'malformed';
    const { subscriptionType, portalId, objectId } = event as Record<string, unknown>;
    if (typeof subscriptionType !== 'string' || subscriptionType.length > 128) return 'malformed';
    if (subscriptionType !== 'contact.privacyDeletion') continue;
    const positive = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
    if (!positive(portalId) || !positive(objectId)) return 'malformed';
    contacts.add(`${portalId}:${objectId}`);
  }
  return contacts.size;
}
