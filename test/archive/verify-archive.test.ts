import { execFile } from 'node:child_process';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAuditStore } from '../../lambda/audit/dynamo-audit-store';
import { FolderArchiveStorage } from '../../lambda/archive/folder-archive-storage';
import { verifyArchive, type FindingKind } from '../../lambda/archive/verify-archive';
import { LocalArchive } from '../../infra/local/local-archive';
import { localDynamoClient } from '../../infra/local/embedded-dynamodb';
import { scanTable } from '../../infra/local/verify-archive';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { silentLog } from '../support/scripted-verifik';

const execFileAsync = promisify(execFile);

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(() => dynamo.close());

/**
 * A folder archive of real writes: the audit store on dynalite, through a client the local stream
 * adapter watches, archived and signed. `outsider` writes to the same table around the adapter, as
 * someone with table access but no part in the service would.
 */
interface Scene {
  root: string;
  dir: string;
  tableName: string;
  publicKey: KeyObject;
  publicKeyFile: string;
  outsider: DynamoDBClient;
  watched: DynamoDBClient;
  verify(): Promise<Awaited<ReturnType<typeof verifyArchive>>>;
  kinds(): Promise<FindingKind[]>;
  close(): Promise<void>;
}

async function scene(): Promise<Scene> {
  const root = await mkdtemp(path.join(tmpdir(), 'verify-archive-'));
  const dir = path.join(root, 'archive');
  const { tableName } = await dynamo.newTable();
  const watched = localDynamoClient(dynamo.endpoint);
  const archive = await LocalArchive.start({ client: watched, tableName, dir, logger: silentLog });
  const store = new DynamoAuditStore(watched, tableName);

  await store.createRequest({
    erasureId: 'e1',
    personIds: ['p1', 'p2'],
    fingerprint: 'f'.repeat(64),
    receivedAt: '2026-11-29T10:00:00.000Z',
    dueAt: '2026-12-29T10:00:00.000Z',
    expiresAt: 1_984_000_000,
    requestedBy: 'crm',
  });
  for (const personId of ['p1', 'p2']) {
    await store.claimPerson('e1', personId, {
      owner: 'o1',
      leaseUntil: Date.now() + 60_000,
      now: Date.now(),
      receivedAt: '2026-11-29T10:00:00.000Z',
      expiresAt: 1_984_000_000,
    });
    await archive.idle();
  }
  await store.settlePerson('e1', 'p1', 'o1', {
    outcome: 'erased',
    attempts: 1,
    vendorStatus: 200,
    completedAt: '2026-11-29T10:00:01.000Z',
    evidence: { signature: 'Certified by Verifik.co' },
    updatedAt: '2026-11-29T10:00:01.000Z',
  });
  await store.settlePerson('e1', 'p2', 'o1', {
    outcome: 'already_erased',
    attempts: 1,
    vendorStatus: 404,
    completedAt: '2026-11-29T10:00:01.000Z',
    updatedAt: '2026-11-29T10:00:01.000Z',
  });
  await archive.digest();
  await store.advanceRetryStep('e1', undefined, 's1');
  await archive.close();

  const publicKeyFile = archive.publicKeyFile;
  const publicKey = createPublicKey(await readFile(publicKeyFile, 'utf8'));
  const outsider = localDynamoClient(dynamo.endpoint);
  const verify = () =>
    verifyArchive({ storage: new FolderArchiveStorage(dir), publicKey, tableItems: scanTable(outsider, tableName) });
  return {
    root,
    dir,
    tableName,
    publicKey,
    publicKeyFile,
    outsider,
    watched,
    verify,
    kinds: async () => (await verify()).findings.map((finding) => finding.kind),
    close: async () => {
      outsider.destroy();
      watched.destroy();
      await rm(root, { recursive: true, force: true });
    },
  };
}

const batchFile = (s: Scene, sequence: number) => path.join(s.dir, 'batches', `${String(sequence).padStart(12, '0')}.json`);
const digestFile = (s: Scene, sequence: number) => path.join(s.dir, 'digests', `${String(sequence).padStart(12, '0')}.json`);
const key = (sk: string) => ({ pk: { S: 'ERASURE#e1' }, sk: { S: sk } });

describe('verify, against a folder archive of real writes', () => {
  let s: Scene;
  beforeEach(async () => {
    s = await scene();
  });
  afterEach(() => s.close());

  it('passes an untouched archive and table: chain, signatures and every item', async () => {
    const report = await s.verify();

    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ digests: 2, items: 3 });
    expect(report.batches).toBeGreaterThanOrEqual(2);
    expect(report.records).toBe(6);
  });

  it('finds a changed item: a terminal outcome rewritten around the archive', async () => {
    await s.outsider.send(
      new UpdateItemCommand({
        TableName: s.tableName,
        Key: key('PERSON#p2'),
        UpdateExpression: 'SET outcome = :erased',
        ExpressionAttributeValues: { ':erased': { S: 'erased' } },
      }),
    );

    const report = await s.verify();

    expect(report.findings).toEqual([
      { kind: 'changed-item', detail: expect.stringContaining('ERASURE#e1 / PERSON#p2 differs') },
    ]);
  });

  it('finds an item the archive never saw', async () => {
    await s.outsider.send(
      new PutItemCommand({
        TableName: s.tableName,
        Item: { ...key('PERSON#p9'), outcome: { S: 'erased' }, personId: { S: 'p9' } },
      }),
    );

    expect(await s.kinds()).toEqual(['unseen-item']);
  });

  it('finds an item deleted without an archived removal', async () => {
    await s.outsider.send(new DeleteItemCommand({ TableName: s.tableName, Key: key('PERSON#p1') }));

    expect(await s.kinds()).toEqual(['missing-item']);
  });

  it('finds a missing batch', async () => {
    await unlink(batchFile(s, 1));

    const kinds = await s.kinds();

    expect(kinds).toContain('missing-batch');
    expect((await s.verify()).findings.find((f) => f.kind === 'missing-batch')!.detail).toBe(
      'batches/000000000001.json is missing',
    );
  });

  it('expects no batch before --from-batch: after the retention the oldest batches and digests expire', async () => {
    await unlink(batchFile(s, 1));
    await unlink(digestFile(s, 1));
    const storage = new FolderArchiveStorage(s.dir);

    const expired = await verifyArchive({
      storage,
      publicKey: s.publicKey,
      tableItems: scanTable(s.outsider, s.tableName),
      fromBatch: 2,
    });
    const strict = await verifyArchive({ storage, publicKey: s.publicKey });

    expect(expired.findings).toEqual([]);
    expect(strict.findings.map((finding) => finding.kind).sort()).toEqual(['missing-batch', 'missing-digest']);
  });

  it('finds a broken link: a batch edited after it was archived', async () => {
    const original = await readFile(batchFile(s, 1), 'utf8');
    await writeFile(batchFile(s, 1), original.replace('"requestedBy":{"S":"crm"}', '"requestedBy":{"S":"dpo"}'));

    const findings = (await s.verify()).findings;

    expect(findings.map((f) => f.kind)).toContain('broken-link');
    expect(findings.find((f) => f.kind === 'broken-link')!.detail).toMatch(
      /^batches\/000000000002\.json names [0-9a-f]{64} as the batch before/,
    );
  });

  it('finds a rebuilt chain: every batch re-linked after an edit no longer matches the signed digest', async () => {
    const { sha256Hex } = await import('../../lambda/archive/archive-format');
    const files = (await new FolderArchiveStorage(s.dir).list('batches/')).map((k) => path.join(s.dir, k));
    let previous: string | null = null;
    for (const [index, file] of files.entries()) {
      const batch = JSON.parse(await readFile(file, 'utf8'));
      if (index === 0) batch.records[0].dynamodb.NewImage.requestedBy = { S: 'dpo' };
      batch.previousHash = previous;
      const text = `${JSON.stringify(batch)}\n`;
      await writeFile(file, text);
      previous = sha256Hex(text);
    }

    const kinds = await s.kinds();

    expect(kinds).toContain('digest-mismatch');
    expect(kinds).not.toContain('broken-link');
  });

  it('finds a bad signature: a digest whose payload was changed', async () => {
    const digest = JSON.parse(await readFile(digestFile(s, 1), 'utf8'));
    digest.payload = digest.payload.replace('"records":', '"records":1');
    await writeFile(digestFile(s, 1), `${JSON.stringify(digest)}\n`);

    expect(await s.kinds()).toContain('bad-signature');
  });

  it('finds a bad signature under another key', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;

    const report = await verifyArchive({ storage: new FolderArchiveStorage(s.dir), publicKey: other });

    expect(report.findings.map((f) => f.kind)).toEqual(['bad-signature', 'bad-signature']);
  });

  it('reports the archived changes the service never makes', async () => {
    const archive = await LocalArchive.start({ client: s.watched, tableName: s.tableName, dir: s.dir, logger: silentLog });
    await s.watched.send(new DeleteItemCommand({ TableName: s.tableName, Key: key('PERSON#p1') }));
    await archive.close();

    const findings = (await s.verify()).findings;

    expect(findings).toEqual([
      { kind: 'suspicious-change', detail: expect.stringContaining('NonTtlRemoval on item ERASURE#e1 / PERSON#p1') },
    ]);
  });

  it('finds an index entry its batch does not bear out: another batch, another hash, a stray file', async () => {
    const entries = (await new FolderArchiveStorage(s.dir).list('index/e1/')).map((key) => path.join(s.dir, key));
    expect(entries.length).toBeGreaterThanOrEqual(2);
    expect(await s.kinds()).toEqual([]);
    // The entry of the last batch names the first batch's hash: a certificate would point at the wrong place.
    const first = JSON.parse(await readFile(entries[0]!, 'utf8')) as { batchHash: string };
    const last = JSON.parse(await readFile(entries.at(-1)!, 'utf8')) as Record<string, unknown>;
    await writeFile(entries.at(-1)!, JSON.stringify({ ...last, batchHash: first.batchHash }));
    // An entry for an erasure the batch never touched.
    await mkdir(path.join(s.dir, 'index', 'e9'), { recursive: true });
    await writeFile(
      path.join(s.dir, 'index', 'e9', path.basename(entries[0]!)),
      JSON.stringify({ ...first, erasureId: 'e9', batch: 1, format: 'verifik-erasure-archive-index/1' }),
    );
    await writeFile(path.join(s.dir, 'index', 'e1', 'notes.txt'), 'stray');

    const findings = (await s.verify()).findings;

    expect(findings).toEqual([
      {
        kind: 'bad-index',
        detail: expect.stringMatching(/^index\/e1\/\d{12}\.json names batch \d+ with a hash that batch does not have$/),
      },
      { kind: 'bad-index', detail: 'index/e1/notes.txt is not an index entry the archiver writes' },
      { kind: 'bad-index', detail: expect.stringContaining('batch 1 holds no change to erasure e9') },
    ]);
  });

  it('exits 0 on a clean archive and 1 naming each finding, from the command line', async () => {
    const run = (extra: string[] = []) =>
      execFileAsync(
        'npx',
        [
          'tsx',
          'infra/local/verify-archive.ts',
          '--folder',
          s.dir,
          '--public-key',
          s.publicKeyFile,
          '--table',
          s.tableName,
          '--endpoint',
          dynamo.endpoint,
          ...extra,
        ],
        { timeout: 30_000 },
      ).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );

    const usage = await run(['--from-batch', '0']);
    const clean = await run();
    await unlink(batchFile(s, 1));
    const tampered = await run();

    expect(usage.code).toBe(2);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^OK: \d+ batches, 6 records, 2 digests, 3 table items compared$/m);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('FINDING missing-batch: batches/000000000001.json is missing');
  });
});
