import { readFile } from 'node:fs/promises';
import { readPublicKey, verifyCertificate } from '../../lambda/certificate/verify-certificate';
import { prefersHtml } from '../../lambda/http/http-app';
import { useHarness } from '../support/http-harness';

const t = useHarness();

const certificatePath = (erasureId: string, portal = false) =>
  `${portal ? '/portal' : ''}/erasures/${encodeURIComponent(erasureId)}/certificate`;
const getCertificate = (erasureId: string, headers: Record<string, string> = {}) =>
  t.api.send('GET', certificatePath(erasureId), '', { headers });

async function erased(erasureId: string, body: Record<string, unknown> = {}) {
  const person = t.api.sandbox.createPerson();
  const answer = await t.api.post({ personIds: [person], reason: 'gdpr-art-17', requestedBy: 'crm', ...body }, { id: erasureId });
  expect(answer.status).toBe(200);
  return person;
}

/** The raw HTML of a certificate (the harness parses only JSON). */
async function html(erasureId: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { httpEvent, lambdaContext } = await import('../../infra/local/api-gateway');
  const { signedHeaders, signedGetPayload, newMessageId } = await import('../../infra/local/signed-client');
  const path = certificatePath(erasureId);
  const result = await t.api.http(
    httpEvent({
      method: 'GET',
      url: path,
      headers: { accept: 'text/html', ...signedHeaders(t.api.secrets[0]!, { id: newMessageId(), body: signedGetPayload(path) }) },
    }),
    lambdaContext(29_000),
  );
  return { status: result.statusCode ?? 0, headers: result.headers ?? {}, body: result.body ?? '' };
}

describe('GET /erasures/{erasureId}/certificate', () => {
  it('answers a signed certificate that verifies offline with the published public key', async () => {
    const person = await erased('cert_ok');
    const answer = await getCertificate('cert_ok');

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.body.certificate).toMatchObject({
      controller: { name: 'Harness Controller GmbH' },
      erasure: { erasureId: 'cert_ok', status: 'completed', requestedBy: 'crm', reason: 'gdpr-art-17' },
      persons: [{ personId: person, outcome: 'erased', vendorStatus: 200 }],
      archive: { state: 'no-archive', batch: null, digest: null },
    });
    const key = readPublicKey(await readFile(t.api.certificateKey.publicKeyPath));
    await expect(verifyCertificate(answer.body, key)).resolves.toMatchObject({ kid: t.api.certificateKey.jwk.kid });
  });

  it('certifies a failed erasure too: it is a final outcome', async () => {
    t.api.sandbox.script('refused', { status: 400, body: { code: 'BAD_REQUEST' } });
    expect((await t.api.post({ personIds: ['refused'] }, { id: 'cert_failed' })).body.status).toBe('failed');
    const answer = await getCertificate('cert_failed');
    expect(answer.status).toBe(200);
    expect(answer.body.certificate).toMatchObject({
      erasure: { status: 'failed' },
      persons: [{ outcome: 'failed', vendorStatus: 400 }],
    });
  });

  it('refuses a pending erasure with 409 erasure_pending', async () => {
    t.api.sandbox.script('locked', { status: 403 });
    expect((await t.api.post({ personIds: ['locked'] }, { id: 'cert_pending' })).status).toBe(202);

    const answer = await getCertificate('cert_pending');

    expect(answer.status).toBe(409);
    expect(answer.body).toEqual({ error: 'erasure_pending', message: expect.stringMatching(/still pending/) });
  });

  it('answers 404 not_found for an unknown erasure and 400 for a malformed id', async () => {
    expect(await getCertificate('never_seen')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await getCertificate('bad id!')).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('is signed over its own request line: unsigned, or a signature made for the record, is 401', async () => {
    await erased('cert_sig');
    const unsigned = await t.api.send('GET', certificatePath('cert_sig'), '', { unsigned: true });
    const { signedHeaders, signedGetPayload } = await import('../../infra/local/signed-client');
    const forRecord = signedHeaders(t.api.secrets[0]!, { id: 'msg_x', body: signedGetPayload('/erasures/cert_sig') });
    const replayed = await t.api.send('GET', certificatePath('cert_sig'), '', { unsigned: true, headers: forRecord });

    expect(unsigned).toMatchObject({ status: 401, body: { error: 'invalid_signature' } });
    expect(replayed).toMatchObject({ status: 401, body: { error: 'invalid_signature' } });
  });

  it('renders printable HTML for Accept: text/html, with a strict content security policy', async () => {
    await erased('cert_html');
    const answer = await html('cert_html');

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(answer.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(answer.body).toMatch(/^<!doctype html>/);
    expect(answer.body).toContain('Certificate of erasure');
    expect(answer.body).toContain('Harness Controller GmbH');
    expect(answer.body).not.toMatch(/<(script|link|img|iframe)\b|https?:\/\//i);
  });

  it('escapes hostile-looking stored values in the HTML', async () => {
    const hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>&amp;\'`';
    await erased('cert_hostile', { reason: hostile, requestedBy: '</dd><style>body{display:none}</style>' });

    const { body } = await html('cert_hostile');

    expect(body).not.toContain('<script>');
    expect(body).not.toContain('<img');
    expect(body).not.toContain('</dd><style>');
    expect(body).toContain(
      '&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;img src=x onerror=alert(2)&#62;&#38;amp;&#39;&#96;',
    );
    expect((body.match(/<style>/g) ?? []).length).toBe(1);
  });
});

describe('GET /portal/erasures/{erasureId}/certificate (IAM)', () => {
  it('answers the same certificate to an IAM caller, and 403 without the IAM identity', async () => {
    await erased('cert_portal');
    const answer = await t.api.portal('GET', certificatePath('cert_portal', true), undefined);
    const anonymous = await t.api.portal('GET', certificatePath('cert_portal', true), undefined, { principal: null });

    expect(answer.status).toBe(200);
    expect(answer.body.certificate.erasure.erasureId).toBe('cert_portal');
    await expect(
      verifyCertificate(answer.body, readPublicKey(Buffer.from(JSON.stringify(t.api.certificateKey.jwk)))),
    ).resolves.toBeDefined();
    expect(anonymous).toMatchObject({ status: 403, body: { error: 'forbidden' } });
  });

  it('refuses a pending erasure with 409 there too', async () => {
    t.api.sandbox.script('locked2', { status: 401 });
    await t.api.portal(
      'POST',
      '/portal/erasures',
      { personIds: ['locked2'] },
      { headers: { 'idempotency-key': 'cert_portal_pending' } },
    );
    expect(await t.api.portal('GET', certificatePath('cert_portal_pending', true), undefined)).toMatchObject({
      status: 409,
      body: { error: 'erasure_pending' },
    });
  });
});

describe('prefersHtml', () => {
  it.each([
    [undefined, false],
    ['application/json', false],
    ['*/*', false],
    ['text/html', true],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['application/json, text/html;q=0.5', false],
    ['text/html;q=0.9, application/json', false],
    ['text/html;q=0', false],
    ['TEXT/HTML', true],
  ])('%p → %p', (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});
