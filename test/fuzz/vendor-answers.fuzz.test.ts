/**
 * Fuzzes what Verifik may answer and what an operator may configure, through the real handler:
 * a 404 is `already_erased` only with Verifik's PERSON_NOT_FOUND in its body, whatever else a 404
 * carries; any Retry-After (huge, negative, fractional, a date, text) parks a person at most an hour
 * and never turns into a 5xx; only a bare origin is accepted as Verifik's base URL.
 */
import fc from 'fast-check';
import { readConfig } from '../../lambda/config';
import { assertThat, checkAnswer, fuzz, useFuzzHarness } from './fuzz-support';

const t = useFuzzHarness();
let run = 0;

const code = fc.oneof(
  fc.constant('PERSON_NOT_FOUND'),
  fc.constantFrom('NOT_FOUND', 'ROUTE_NOT_FOUND', 'person_not_found', 'PERSON_NOT_FOUND ', 'Person not found'),
  fc.string({ maxLength: 40 }),
);
/** A 404 body: Verifik's, a near miss, another JSON shape, HTML, text or nothing. */
const notFoundBody = fc.oneof(
  fc.record({ error: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }), message: code }),
  fc.record({ code }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom('<html><body>404 Not Found</body></html>', '', 'Not Found'),
);

describe('fuzz: what Verifik answers', () => {
  it('records a 404 as already_erased exactly when its body carries PERSON_NOT_FOUND, otherwise as failed', async () => {
    await fuzz(
      'Verifik 404 bodies',
      notFoundBody,
      async (body) => {
        const id = t.api.sandbox.createPerson(`nf${(run += 1)}`);
        t.api.sandbox.script(id, { status: 404, body });
        const answer = await t.api.post({ personIds: [id] });
        checkAnswer(answer, t.api, { body });
        const [person] = answer.body.persons;
        const proves =
          typeof body === 'object' &&
          body !== null &&
          !Array.isArray(body) &&
          ((body as { message?: unknown }).message === 'PERSON_NOT_FOUND' ||
            (body as { code?: unknown }).code === 'PERSON_NOT_FOUND');
        assertThat(
          person.outcome === (proves ? 'already_erased' : 'failed'),
          `${person.outcome} for a 404 with ${JSON.stringify(body)}`,
          {
            person,
          },
        );
        assertThat(person.vendorStatus === 404, 'the vendor status is kept', { person });
        return person.outcome;
      },
      300,
    );
  });

  it('never answers 5xx for any Retry-After, and never parks a person longer than an hour', async () => {
    const header = fc.oneof(
      fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
      fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
      fc.double({ noNaN: false }).map(String),
      fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
      fc.string({ maxLength: 30 }).filter((s) => !/[\r\n]/.test(s) && /^[\x20-\x7e]*$/.test(s)),
    );
    await fuzz(
      'Retry-After values on a 429',
      header,
      async (retryAfter) => {
        const id = t.api.sandbox.createPerson(`ra${(run += 1)}`);
        t.api.sandbox.script(
          id,
          { status: 429, headers: { 'retry-after': retryAfter } },
          { status: 429, headers: { 'retry-after': retryAfter } },
        );
        const before = Date.now();
        const answer = await t.api.post({ personIds: [id] });
        checkAnswer(answer, t.api, { retryAfter });
        assertThat(answer.status === 200 || answer.status === 202, `status ${answer.status}`, { retryAfter, answer });
        const stored = (await t.api.store.getErasure(answer.body.erasureId))!.persons[0]!;
        if (stored.retryAfter !== undefined) {
          const wait = Date.parse(stored.retryAfter) - before;
          assertThat(wait <= 3_600_000 + (Date.now() - before), `parked ${wait} ms for Retry-After ${retryAfter}`, { stored });
        }
        return stored.outcome;
      },
      200,
    );
  });
});

describe('fuzz: VERIFIK_BASE_URL', () => {
  it('accepts only a bare origin: https, or http on loopback, and nothing after the port', async () => {
    const host = fc.constantFrom('api.verifik.co', 'localhost', '127.0.0.1', '[::1]', 'example.org');
    const url = fc.record({
      scheme: fc.constantFrom('https', 'http', 'ftp', 'HTTPS'),
      host,
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      tail: fc.oneof(
        { weight: 3, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constantFrom('/', '/v2', '/v2/', '?collection=c1', '#x', '/v2?collection=c1', '//x') },
        { weight: 1, arbitrary: fc.webPath() },
      ),
    });
    await fuzz(
      'base URLs',
      url,
      async ({ scheme, host: h, port, tail }) => {
        const value = `${scheme}://${h}${port === undefined ? '' : `:${port}`}${tail}`;
        let accepted: boolean;
        try {
          readConfig('worker', { AUDIT_TABLE_NAME: 'audit', VERIFIK_TOKEN: 'token', VERIFIK_BASE_URL: value });
          accepted = true;
        } catch {
          accepted = false;
        }
        const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(h);
        const defaultPort = (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80);
        const bare = tail === '' && !defaultPort;
        const expected = bare && (scheme === 'https' || (scheme === 'http' && loopback));
        assertThat(accepted === expected, `${value}: ${accepted ? 'accepted' : 'refused'}`, { value });
        return accepted ? 'accepted' : 'refused';
      },
      1_000,
    );
  });
});
