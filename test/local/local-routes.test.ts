import { Logger } from '@aws-lambda-powertools/logger';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack';
import { ErasureApiClient, newMessageId, signedHeaders } from '../../infra/local/signed-client';
import { readPublicKey, verifyCertificate } from '../../lambda/certificate/verify-certificate';

let stack: LocalStack;
let folder: string;
beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'local-routes-'));
  stack = await startLocalStack(
    { PORT: '0', CERTIFICATE_KEY_FILE: join(folder, 'key.pem'), ORGANIZATION_NAME: 'Local GmbH', VERIFIK_RETRY_LIMIT: '0' },
    { logger: new Logger({ logLevel: 'SILENT' }) },
  );
});
afterAll(async () => {
  await stack.close();
  rmSync(folder, { recursive: true, force: true });
});

/** A GET signed over its whole request target (`GET /export?…`), as the local export route asks. */
const signedGet = (target: string, secret = stack.env.WEBHOOK_SECRET!) =>
  fetch(new URL(target, stack.url), { headers: signedHeaders(secret, { id: newMessageId(), body: `GET ${target}` }) });

describe('the local stack’s own routes', () => {
  it('creates the certificate key at first start, private key 0600, and serves its public half', async () => {
    expect(stack.certificateKey).toMatchObject({ created: true, privateKeyPath: join(folder, 'key.pem') });
    const { stat } = await import('node:fs/promises');
    expect((await stat(join(folder, 'key.pem'))).mode & 0o777).toBe(0o600);

    const answer = await fetch(`${stack.url}/.well-known/certificate-key`);
    const jwk = (await answer.json()) as Record<string, string>;

    expect(answer.headers.get('content-type')).toBe('application/jwk+json');
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: stack.certificateKey!.jwk.kid });
    expect(jwk.d).toBeUndefined();
  });

  it('keeps the key across restarts, so earlier certificates still verify', async () => {
    const client = new ErasureApiClient(stack.url, stack.env.WEBHOOK_SECRET!);
    const erased = await client.erase({ personIds: [stack.sandboxPersons[0]!] }, 'local_cert_1');
    expect(erased.status).toBe(200);
    const certificate = await client.certificate('local_cert_1');
    expect(certificate.status).toBe(200);

    const again = await startLocalStack(
      { PORT: '0', CERTIFICATE_KEY_FILE: join(folder, 'key.pem') },
      { logger: new Logger({ logLevel: 'SILENT' }) },
    );
    try {
      expect(again.certificateKey).toMatchObject({ created: false, jwk: stack.certificateKey!.jwk });
    } finally {
      await again.close();
    }
    const key = readPublicKey(await readFile(stack.certificateKey!.publicKeyPath));
    await expect(verifyCertificate(certificate.body, key)).resolves.toMatchObject({
      certificate: { controller: { name: 'Local GmbH' } },
    });
  });

  it('streams the export over a signed GET, CSV or JSON lines', async () => {
    const client = new ErasureApiClient(stack.url, stack.env.WEBHOOK_SECRET!);
    await client.erase({ personIds: [stack.sandboxPersons[1]!] }, 'local_export_1');
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();

    const csv = await signedGet(`/export?from=${from}&to=${to}&format=csv`);
    const jsonl = await signedGet(`/export?from=${from}&to=${to}&format=jsonl`);

    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(await csv.text()).toMatch(/^erasureId,status,receivedAt,[^\n]*\n(.*\n)*local_export_1,completed,/);
    expect(jsonl.headers.get('content-type')).toBe('application/x-ndjson');
    const records = (await jsonl.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records.map((r) => r.erasureId)).toContain('local_export_1');
  });

  it('refuses an unsigned export, one signed for another query, and a bad range, with JSON errors', async () => {
    const target = '/export?from=2026-01-01&to=2027-01-01&format=csv';
    const unsigned = await fetch(new URL(target, stack.url));
    const other = await fetch(new URL('/export?from=2020-01-01&to=2027-01-01&format=csv', stack.url), {
      headers: signedHeaders(stack.env.WEBHOOK_SECRET!, { id: newMessageId(), body: `GET ${target}` }),
    });
    const reversed = await signedGet('/export?from=2027-01-01&to=2026-01-01');
    const format = await signedGet('/export?from=2026-01-01&to=2027-01-01&format=xml');

    expect([unsigned.status, other.status]).toEqual([401, 401]);
    expect(await unsigned.json()).toMatchObject({ error: 'invalid_signature' });
    expect(reversed.status).toBe(400);
    expect(await reversed.json()).toMatchObject({ error: 'invalid_request', message: 'from must not be after to.' });
    expect(format.status).toBe(400);
  });
});
