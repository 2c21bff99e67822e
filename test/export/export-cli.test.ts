import { seedErasures } from '../../bench/seed-erasures';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { runScript } from '../support/run-script';

const run = (...args: string[]) => runScript('infra/local/export-cli.ts', ...args);

describe('npm run export', () => {
  let dynamo: TestDynamo;
  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(() => dynamo.close());

  it('writes the erasures of a range from the table --endpoint names, as JSON lines or CSV', async () => {
    const { tableName } = await dynamo.newTable();
    await seedErasures(dynamo.client, tableName, 5, new Date('2026-03-01T00:00:00.000Z'));
    const range = [
      '--from',
      '2026-03-01T00:01:00Z',
      '--to',
      '2026-03-01T00:04:00Z',
      '--endpoint',
      dynamo.endpoint,
      '--table',
      tableName,
    ];

    const jsonl = await run(...range, '--format', 'jsonl');
    const csv = await run(...range);

    expect(jsonl.code).toBe(0);
    expect(
      jsonl.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).erasureId),
    ).toEqual(['seed_000001', 'seed_000002', 'seed_000003']);
    expect(csv.stdout.split('\n')[0]).toMatch(/^erasureId,status,receivedAt,/);
    expect(csv.stdout.trimEnd().split('\n')).toHaveLength(4);
  }, 60_000);

  it('refuses a reversed range or a missing bound, before reading anything', async () => {
    const reversed = await run('--from', '2026-04-01', '--to', '2026-03-01', '--endpoint', 'http://127.0.0.1:9');
    const missing = await run('--from', '2026-04-01');

    expect(reversed).toMatchObject({ code: 1, stderr: 'export: from must not be after to.\n' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^usage:/);
  }, 60_000);
});
