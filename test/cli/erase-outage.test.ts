import { Logger } from '@aws-lambda-powertools/logger';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack';
import { newWebhookSecret } from '../../infra/local/signed-client';
import { runCli, startCli, stopAllCli, until } from '../support/cli-process';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';

/**
 * The server goes down in the middle of `erase --file`: the command line retries with backoff, then
 * stops, says what is left and prints the command that resumes; once the server is back (the same
 * table), that command finishes the file without calling Verifik again for anyone already done.
 */
let dynamo: TestDynamo;
let dir: string;
const stacks: LocalStack[] = [];
afterEach(() => stopAllCli());
afterAll(async () => {
  for (const stack of stacks) await stack.close().catch(() => undefined);
  await dynamo.close();
  await rm(dir, { recursive: true, force: true });
});

it('stops with what is left and how to resume, and the resume calls Verifik only for what was not done', async () => {
  dynamo = await startTestDynamo();
  dir = await mkdtemp(join(tmpdir(), 'cli-outage-'));
  const { tableName } = await dynamo.newTable();
  const secret = newWebhookSecret();
  const start = (port: string) =>
    startLocalStack(
      {
        PORT: port,
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        AUDIT_TABLE_NAME: tableName,
        WEBHOOK_SECRET: secret,
        VERIFY_AFTER_DELETE: 'false',
      },
      { logger: new Logger({ logLevel: 'SILENT' }), sandboxPersons: 0, archive: false },
    ).then((stack) => (stacks.push(stack), stack));
  const ids = Array.from({ length: 300 }, (_, i) => `outage_${i}`);
  const file = join(dir, 'ids.csv');
  await writeFile(file, ids.join('\n'));
  const first = await start('0');
  for (const id of ids) first.sandbox!.createPerson(id);
  const deletesAt = (stack: LocalStack) => stack.sandbox!.calls.filter((c) => c.method === 'DELETE').map((c) => c.personId!);

  const run = startCli(
    [
      'erase',
      '--file',
      file,
      '--url',
      first.url,
      '--concurrency',
      '4',
      '--rate',
      '0',
      '--retries',
      '2',
      '--retry-delay',
      '200',
      '--progress-interval',
      '200',
    ],
    { WEBHOOK_SECRET: secret },
  );
  await until(() => deletesAt(first).length >= 60);
  await first.close();
  const stopped = await run.exited;

  expect(stopped.code).toBe(3);
  expect(stopped.stdout).toMatch(
    /STOPPED: http:\/\/localhost:\d+ \(webhook secret\) is unreachable or failing \(.+\) after 2 retries\./,
  );
  expect(stopped.stdout).toMatch(/not sent \(run stopped\)\s*│\s*\d+/);
  const resume = /resume with:\n\s+(.+)\n/.exec(stopped.stdout)![1]!;
  expect(resume).toMatch(/ --from-line \d+$/);
  const doneBefore = new Set(deletesAt(first));
  expect(doneBefore.size).toBeGreaterThanOrEqual(60);
  expect(doneBefore.size).toBeLessThan(300);

  // The server is back on the same address, with the same table (its Verifik sandbox is a new one).
  const second = await start(new URL(first.url).port);
  const resumed = await runCli([...resume.split(' ').slice(2), '--json', '--no-progress'], { WEBHOOK_SECRET: secret });

  expect(resumed.code).toBe(0);
  expect(JSON.parse(resumed.stdout)).toMatchObject({ stopped: null, counts: { failed: 0, refused: 0, not_sent: 0 } });
  const deletedNow = deletesAt(second);
  expect(deletedNow.filter((id) => doneBefore.has(id))).toEqual([]);
  expect(new Set([...doneBefore, ...deletedNow])).toEqual(new Set(ids));
}, 240_000);
