/**
 * Fuzzes the certificate routes through the real handler: signed GETs of
 * `/erasures/{id}/certificate` with captured signatures replayed on other paths (the record's and
 * other certificates'), ids in every encoding, any Accept header; the portal twin with and without an
 * IAM principal; and the HTML rendering with arbitrary stored text.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { certificateHtml, escapeHtml } from '../../lambda/certificate/certificate-html';
import { certificateModel } from '../../lambda/certificate/certificate-model';
import { readPublicKey, verifyCertificate } from '../../lambda/certificate/verify-certificate';
import { prefersHtml } from '../../lambda/http/http-app';
import { answerOf, type Answer } from '../support/http-harness';
import {
  GET_PATH_FORMS,
  anyErasureId,
  assertNoSideEffects,
  assertThat,
  fuzz,
  getEvent,
  getPathForm,
  getRequestLine,
  erasureIdInPath,
  isGetRoute,
  secretsOf,
  sideEffects,
  signedHeaders,
  validErasureId,
  type GetPathForm,
  useFuzzHarness,
} from './fuzz-support';
import { lambdaContext } from '../../infra/local/api-gateway';

const t = useFuzzHarness();
let counter = 0;
const unique = () => `c${(counter += 1)}`;

const TERMINAL = ['done', 'urn:crm:contact:1', 'A-_.:9', '..'];
const PENDING = 'still-pending';
const CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_signature',
  403: 'forbidden',
  404: 'not_found',
  409: 'erasure_pending',
};
const ACCEPT = fc.oneof(
  fc.constantFrom(
    undefined,
    'application/json',
    'text/html',
    '*/*',
    'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    'application/json, text/html;q=0.5',
    'text/html;q=0',
    'text/html;q=abc',
    'image/png',
  ),
  fc.string({ maxLength: 40 }),
);

async function record() {
  for (const id of TERMINAL) expect((await t.api.post({ personIds: [t.api.sandbox.createPerson()] }, { id })).status).toBe(200);
  t.api.sandbox.script('locked', { status: 403 });
  expect((await t.api.post({ personIds: ['locked'] }, { id: PENDING })).status).toBe(202);
}

/** The certificate path of an id in one of the record path's forms (a trailing slash form keeps it). */
function certificatePath(form: GetPathForm, id: string): string {
  const base = GET_PATH_FORMS[form](id);
  return base.endsWith('/') ? `${base}certificate` : `${base}/certificate`;
}

/** The contract's answer for a certificate GET on `path` whose signature is valid. */
function expectedCertificate(path: string): { status: number; erasureId?: string } {
  const named = erasureIdInPath(path, /^\/erasures\/([^/]+)\/certificate\/?$/);
  if (!('erasureId' in named)) return named;
  if (named.erasureId === PENDING) return { status: 409 };
  return TERMINAL.includes(named.erasureId) ? { status: 200, erasureId: named.erasureId } : { status: 404 };
}

const privateKeyBody = () =>
  readFileSync(t.api.certificateKey.privateKeyPath, 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('-----'));

/** Every answer: a known status, JSON errors with the contract's codes, no secret and no private key anywhere. */
async function assertCertificateAnswer(
  raw: { statusCode?: number; headers?: Record<string, unknown>; body?: string },
  wanted: { status: number; erasureId?: string } | { oneOf: number[] },
  accept: string | undefined,
  context: unknown,
): Promise<number> {
  const status = raw.statusCode ?? 0;
  const where = { status, body: raw.body?.slice(0, 300), context };
  const text = JSON.stringify(raw);
  for (const secret of [...secretsOf(t.api), ...privateKeyBody()])
    assertThat(!text.includes(secret), 'no secret or private key in an answer', where);
  if ('oneOf' in wanted) assertThat(wanted.oneOf.includes(status), `answered ${status}, allowed ${wanted.oneOf}`, where);
  else assertThat(status === wanted.status, `answered ${status}, wanted ${wanted.status}`, where);
  if (status !== 200) {
    const answer: Answer = answerOf(raw);
    assertThat(
      answer.body?.error === CODES[status] && typeof answer.body.message === 'string',
      'a JSON error with the code',
      where,
    );
    return status;
  }
  const erasureId = 'erasureId' in wanted ? wanted.erasureId : undefined;
  if (prefersHtml(accept)) {
    assertThat(raw.headers?.['content-type'] === 'text/html; charset=utf-8', 'HTML when the caller prefers it', where);
    assertThat(raw.body?.startsWith('<!doctype html>'), 'an HTML document', where);
    return status;
  }
  const answer = answerOf(raw);
  assertThat(/^application\/json/.test(answer.headers['content-type'] ?? ''), 'JSON by default', where);
  const key = readPublicKey(Buffer.from(JSON.stringify(t.api.certificateKey.jwk)));
  const verified = await verifyCertificate(answer.body, key);
  if (erasureId !== undefined)
    assertThat(verified.certificate.erasure.erasureId === erasureId, 'the certificate of the erasure in the path', where);
  return status;
}

describe('fuzz: certificate routes', () => {
  it('reads a certificate only with a signature over its own request line: any other path is a 401, its own path is the contract’s answer', async () => {
    await record();
    const before = sideEffects(t.api);
    const anyPath = fc.record({
      kind: fc.constantFrom('certificate', 'certificate', 'record'),
      id: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TERMINAL, PENDING) }, { weight: 1, arbitrary: anyErasureId }),
      form: getPathForm,
    });
    const pathOf = ({ kind, id, form }: { kind: string; id: string; form: GetPathForm }) =>
      id.isWellFormed() || form === 'raw'
        ? kind === 'record'
          ? GET_PATH_FORMS[form](id)
          : certificatePath(form, id)
        : `/erasures/x/certificate`;
    await fuzz(
      'signed certificate GET: signed paths x replayed paths x Accept',
      fc.record({
        signed: anyPath,
        replays: fc.array(anyPath, { minLength: 1, maxLength: 3 }),
        accept: ACCEPT,
        secret: fc.constantFrom(0, 1),
      }),
      async ({ signed, replays, accept, secret }) => {
        const signedPath = pathOf(signed);
        const headers = {
          ...signedHeaders(t.api.secrets[secret]!, { id: unique(), body: getRequestLine(signedPath) }),
          ...(accept === undefined ? {} : { accept }),
        };
        const labels: number[] = [];
        for (const path of [signedPath, ...replays.map(pathOf)]) {
          // The record's GET route (`/erasures/certificate` is the record named "certificate") is fuzzed in webhook-headers.
          if (!/\/certificate\/?$/.test(path) || isGetRoute(path)) continue;
          const same = Buffer.from(path, 'utf8').equals(Buffer.from(signedPath, 'utf8')) && path.isWellFormed();
          const contract = expectedCertificate(path);
          const routed = /^\/erasures\/[^/]+\/certificate\/?$/.test(path);
          const wanted = !routed || same ? contract : { status: 401 };
          const raw = await t.api.http(getEvent(path, headers), lambdaContext(29_000));
          labels.push(await assertCertificateAnswer(raw, wanted, accept, { signedPath, path, accept }));
        }
        return labels.join(',');
      },
      300,
    );
    assertNoSideEffects(t.api, before);
  }, 300_000);

  it('answers the portal twin to an IAM caller whatever the id and Accept, and 403 to anyone without the IAM identity', async () => {
    await record();
    const before = sideEffects(t.api);
    await fuzz(
      'portal certificate GET: ids x Accept x principal',
      fc.record({
        id: fc.oneof(
          { weight: 2, arbitrary: fc.constantFrom(...TERMINAL, PENDING) },
          { weight: 1, arbitrary: validErasureId },
          { weight: 1, arbitrary: anyErasureId },
        ),
        accept: ACCEPT,
        principal: fc.constantFrom(undefined, null),
      }),
      async ({ id, accept, principal }) => {
        if (!id.isWellFormed()) return 'skip';
        const path = `/portal${certificatePath('encoded', id)}`;
        const answer = await t.api
          .portal('GET', path, undefined, {
            principal,
            headers: accept === undefined ? {} : { accept },
          })
          .catch((error: unknown) => {
            // The harness parses JSON only: an HTML answer surfaces here and is checked below.
            if (!String(error).includes('not JSON')) throw error;
            return undefined;
          });
        const contract = expectedCertificate(path.slice('/portal'.length));
        const wanted = principal === null ? [403] : [contract.status];
        if (answer === undefined) {
          assertThat(principal !== null && contract.status === 200 && prefersHtml(accept), 'only a certificate may be HTML', {
            id,
            accept,
          });
          return 'html';
        }
        assertThat(wanted.includes(answer.status), `answered ${answer.status}, wanted ${wanted}`, {
          id,
          accept,
          principal,
          answer,
        });
        if (answer.status >= 400) assertThat(answer.body.error === CODES[answer.status], 'the code', answer);
        return answer.status;
      },
      200,
    );
    assertNoSideEffects(t.api, before);
  }, 300_000);

  it('escapes any stored text in the HTML: the page has the same tags whatever the stored text', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 60 });
    const hostile = fc.oneof(
      text,
      fc.constantFrom('<script>x</script>', '"><img src=x>', "'onmouseover='x", '&lt;', '</style>', '<!--', ']]>'),
    );
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, (reason, requestedBy, lastError, note) => {
        const render = (values: string[]) => {
          const [r, b, e, n] = values as [string, string, string, string];
          const model = certificateModel(
            {
              erasureId: 'x',
              status: 'failed',
              receivedAt: '2026-11-28T10:00:00.000Z',
              dueAt: '2026-12-28T10:00:00.000Z',
              reason: r,
              requestedBy: b,
              persons: [{ personId: 'p1', outcome: 'failed', attempts: 1, lastError: e, note: n, evidence: { signature: n } }],
            },
            { organizationName: b, issuedAt: new Date(0) },
          );
          return certificateHtml({ certificate: model, jws: 'a..b' });
        };
        const values = [reason, requestedBy, lastError, note];
        const html = render(values);
        // The same page with harmless text in place of each value: the tags must be exactly the same.
        const benign = render(values.map((v) => (v === '' ? '' : 'v')));
        const tags = (page: string) => page.match(/<[^>]*>/g) ?? [];
        expect(tags(html)).toEqual(tags(benign));
        for (const value of values) expect(html).toContain(escapeHtml(value));
      }),
      { numRuns: 500 },
    );
  });
});
