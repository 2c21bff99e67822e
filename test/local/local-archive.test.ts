import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { FolderArchiveStorage } from '../../lambda/archive/folder-archive-storage';
import { verifyArchive } from '../../lambda/archive/verify-archive';
import { localDynamoClient } from '../../infra/local/embedded-dynamodb';
import { rewriteRequestBehindService } from '../support/behind-the-service';
import { startLocalStack } from '../../infra/local/local-stack';
import { ErasureApiClient } from '../../infra/local/signed-client';
import { scanTable } from '../../infra/local/verify-archive';

const quiet = { logger: new Logger({ logLevel: 'SILENT' }) };

describe('the local stack archives every change of the audit table', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'local-archive-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('through the same archiver as the cloud, into a folder that verifies against the table', async () => {
    const dir = path.join(root, 'archive');
    const stack = await startLocalStack({ PORT: '0', ARCHIVE_DIR: dir }, quiet);
    const client = localDynamoClient(stack.dynamoEndpoint);
    try {
      const api = new ErasureApiClient(stack.url, stack.env.WEBHOOK_SECRET!);
      const answer = await api.erase({ personIds: stack.sandboxPersons.slice(0, 2) });
      expect(answer.status).toBe(200);
      await stack.archive!.digest();
      const publicKey = createPublicKey(await readFile(stack.archive!.publicKeyFile, 'utf8'));
      const verify = () =>
        verifyArchive({
          storage: new FolderArchiveStorage(dir),
          publicKey,
          tableItems: scanTable(client, stack.env.AUDIT_TABLE_NAME!),
        });

      const clean = await verify();
      expect(clean.findings).toEqual([]);
      // The request and two persons, each person's item written once with its outcome (INSERT).
      expect(clean).toMatchObject({ records: 3, items: 3, digests: 1 });

      const erasureId = (answer.body as { erasureId: string }).erasureId;
      await rewriteRequestBehindService(client, stack.env.AUDIT_TABLE_NAME!, erasureId);
      expect((await verify()).findings.map((finding) => finding.kind)).toEqual(['changed-item']);
    } finally {
      client.destroy();
      await stack.close();
    }
    expect(existsSync(path.join(dir, 'digests', '000000000002.json'))).toBe(true);
    expect(existsSync(`${dir}-key.pem`)).toBe(true);
  });

  it('in a temporary folder by default, removed when the stack stops', async () => {
    const stack = await startLocalStack({ PORT: '0' }, quiet);
    const dir = stack.archive!.dir;
    expect(dir.startsWith(tmpdir())).toBe(true);

    await stack.close();

    expect(existsSync(dir)).toBe(false);
    expect(existsSync(stack.archive!.keyFile)).toBe(false);
  });
});
