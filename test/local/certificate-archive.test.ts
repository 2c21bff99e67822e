import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { localDynamoClient } from '../../infra/local/embedded-dynamodb';
import { CHANGED_REASON, rewriteRequestBehindService } from '../support/behind-the-service';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack';
import { ARCHIVE_DIGEST_PATH } from '../../infra/local/local-routes';
import { ErasureApiClient } from '../../infra/local/signed-client';
import type { SignedCertificate } from '../../lambda/certificate/verify-certificate';
import { runScript } from '../support/run-script';

const quiet = { logger: new Logger({ logLevel: 'SILENT' }) };

/** `npm run verify-certificate -- …` as an auditor runs it. */
const verifyCertificate = (...args: string[]) => runScript('scripts/verify-certificate.ts', ...args);

describe('a certificate names the archive batch and the signed digest that hold its erasure', () => {
  let root: string;
  let dir: string;
  let stack: LocalStack;
  let api: ErasureApiClient;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'certificate-archive-'));
    dir = path.join(root, 'archive');
    stack = await startLocalStack(
      { PORT: '0', ARCHIVE_DIR: dir, CERTIFICATE_KEY_FILE: path.join(root, 'certificate-key.pem') },
      quiet,
    );
    api = new ErasureApiClient(stack.url, stack.env.WEBHOOK_SECRET!);
  });
  afterEach(async () => {
    await stack.close();
    await rm(root, { recursive: true, force: true });
  });

  const certificateOf = async (erasureId: string) => {
    const answer = await api.certificate(erasureId);
    expect(answer.status).toBe(200);
    return answer.body as SignedCertificate;
  };
  const signDigest = async () => {
    const answer = await fetch(new URL(ARCHIVE_DIGEST_PATH, stack.url), { method: 'POST' });
    expect(answer.status).toBe(200);
    return (await answer.json()) as { digest: number; lastBatch: number };
  };

  it('awaits the hourly digest, then names it; the auditor checks both offline and catches a changed batch', async () => {
    const erased = await api.erase({ personIds: stack.sandboxPersons.slice(0, 2), reason: 'gdpr-art-17' });
    expect(erased.body).toMatchObject({ status: 'completed' });
    const erasureId = (erased.body as { erasureId: string }).erasureId;

    const before = await certificateOf(erasureId);
    expect(before.certificate.archive).toMatchObject({ state: 'awaiting-digest', digest: null });
    const batch = before.certificate.archive.batch!;
    expect(batch.key).toBe(`batches/${String(batch.sequence).padStart(12, '0')}.json`);
    expect(before.certificate.archive.note).toMatch(/no signed digest covers it yet/);

    // A digest of an unrelated later erasure too, so the first digest covering this one must be found, not the last.
    const first = await signDigest();
    expect(first.digest).toBe(1);
    expect(first.lastBatch).toBeGreaterThanOrEqual(batch.sequence);
    expect((await api.erase({ personIds: [stack.sandboxPersons[2]!] })).body).toMatchObject({ status: 'completed' });
    expect(await signDigest()).toMatchObject({ digest: 2 });

    const signed = await certificateOf(erasureId);
    expect(signed.certificate.archive).toMatchObject({
      state: 'covered',
      batch,
      digest: { sequence: 1, key: 'digests/000000000001.json' },
    });
    const digestBytes = await readFile(path.join(dir, 'digests', '000000000001.json'));
    const { createHash } = await import('node:crypto');
    expect(signed.certificate.archive.digest!.sha256).toBe(createHash('sha256').update(digestBytes).digest('hex'));

    const certificateFile = path.join(root, 'certificate.json');
    await writeFile(certificateFile, JSON.stringify(signed));
    const keys = [stack.certificateKey!.publicKeyPath, '--archive', dir, '--archive-key', stack.archive!.publicKeyFile];
    const good = await verifyCertificate(certificateFile, ...keys);
    expect(good).toMatchObject({ code: 0, stderr: '' });
    expect(good.stdout).toContain(`ok: digest 1 is signed by the archive key`);
    expect(good.stdout).toContain(
      `ok: the archive up to batch ${batch.sequence} holds the erasure and its 2 person(s) as certified`,
    );

    // One byte of the certified batch changed: the certificate's signature still holds, its archive link does not.
    const batchFile = path.join(dir, batch.key);
    const bytes = await readFile(batchFile, 'utf8');
    const changed = bytes.replace(/"(INSERT|MODIFY)"/, '"CHANGE"');
    expect(changed).not.toBe(bytes);
    await writeFile(batchFile, changed);
    const tampered = await verifyCertificate(certificateFile, ...keys);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('valid: certificate of erasure');
    expect(tampered.stderr).toContain(`ARCHIVE: batch ${batch.key} has changed`);
    // A hang guard, not a bound: the command line is started twice (tsx compiles it each time).
  }, 120_000);

  it('names nothing while the table states what the archive never saw', async () => {
    const erased = await api.erase({ personIds: [stack.sandboxPersons[0]!] });
    const erasureId = (erased.body as { erasureId: string }).erasureId;
    await signDigest();
    expect((await certificateOf(erasureId)).certificate.archive.state).toBe('covered');

    // A write behind the service's back (another client: the local stream capture does not see it).
    const client = localDynamoClient(stack.dynamoEndpoint);
    try {
      await rewriteRequestBehindService(client, stack.env.AUDIT_TABLE_NAME!, erasureId);
    } finally {
      client.destroy();
    }
    const certificate = (await certificateOf(erasureId)).certificate;
    expect(certificate.erasure.reason).toBe(CHANGED_REASON);
    expect(certificate.archive).toMatchObject({ state: 'not-archived', batch: null, digest: null });
    expect(certificate.archive.note).toMatch(/does not hold this erasure as certified here yet/);
  });
});
