import { Logger } from '@aws-lambda-powertools/logger';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack';
import { ErasureApiClient } from '../../infra/local/signed-client';
import { CLI_BIN, runCli, stopAllCli } from '../support/cli-process';

/**
 * Every subcommand spawned as an operator runs it against the stack `npm start` runs: the `--json`
 * shape of each (scripts rely on it: docs/cli.md), its exit code, and its one-line errors.
 */
let stack: LocalStack;
let dir: string;
let table: string[];
const sortedKeys = (value: object) => Object.keys(value).sort();
const RECORD_KEYS = ['completedAt', 'dueAt', 'erasureId', 'persons', 'reason', 'receivedAt', 'requestedBy', 'status'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-commands-'));
  stack = await startLocalStack({ PORT: '0' }, { logger: new Logger({ logLevel: 'SILENT' }), sandboxPersons: 5 });
  table = ['--endpoint', stack.dynamoEndpoint, '--table', stack.env.AUDIT_TABLE_NAME!];
});
afterEach(() => stopAllCli());
afterAll(async () => {
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli([...args], { WEBHOOK_SECRET: stack.env.WEBHOOK_SECRET });
const url = () => ['--url', stack.url];

describe('verifik-erasure --json shapes', () => {
  it('erase, status, extend, certificate, find, list, export, verify and redrive', async () => {
    const [person, other] = stack.sandboxPersons as [string, string];
    const erased = await cli('erase', person, '--id', 'shape-1', ...url(), '--json');
    expect(erased.code).toBe(0);
    const record = JSON.parse(erased.stdout);
    expect(sortedKeys(record)).toEqual(RECORD_KEYS);
    expect(record.persons[0]).toMatchObject({ personId: person, outcome: 'erased', vendorStatus: 200 });
    await cli('erase', other, '--id', 'shape-2', ...url(), '--json');

    const file = join(dir, 'shape.csv');
    await writeFile(file, `${stack.sandboxPersons[2]}\n`);
    const certificateFile = join(dir, 'certificate.json');
    const [status, extended, certificate, certificateOut, find, list, exported, redrive, batch] = await Promise.all([
      cli('status', 'shape-1', ...url(), '--json'),
      cli('extend', 'shape-2', '--months', '2', '--reason', 'several systems', ...url(), '--json'),
      cli('certificate', 'shape-1', ...url(), '--json'),
      cli('certificate', 'shape-1', '--out', certificateFile, ...url(), '--json'),
      cli('find', '--person', person, ...table, '--json'),
      cli('list', '--from', '2000-01-01', '--to', '2100-01-01', '--status', 'completed', ...table, '--json'),
      cli('export', '--from', '2000-01-01', '--to', '2100-01-01', '--format', 'jsonl', ...table),
      cli('redrive', ...url(), '--json'),
      cli('erase', '--file', file, ...url(), '--json', '--no-progress'),
    ]);

    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual(record);

    expect(extended.code).toBe(0);
    expect(sortedKeys(JSON.parse(extended.stdout))).toEqual([...RECORD_KEYS, 'extendedDueAt', 'extension'].sort());

    expect(certificate.code).toBe(0);
    expect(sortedKeys(JSON.parse(certificate.stdout))).toEqual(['certificate', 'jws']);
    expect(JSON.parse(certificateOut.stdout)).toEqual({ erasureId: 'shape-1', out: certificateFile, format: 'json' });
    // The same certificate, issued a moment later: only its issue time and so its signature differ.
    const saved = JSON.parse(await readFile(certificateFile, 'utf8'));
    expect({ ...saved.certificate, issuedAt: undefined }).toEqual({
      ...JSON.parse(certificate.stdout).certificate,
      issuedAt: undefined,
    });
    expect(saved.jws).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);

    expect(find.code).toBe(0);
    const found = JSON.parse(find.stdout);
    expect(sortedKeys(found)).toEqual(['erasures', 'personId']);
    expect(found.erasures).toEqual([
      expect.objectContaining({ erasureId: 'shape-1', receivedAt: record.receivedAt, outcome: 'erased', vendorStatus: 200 }),
    ]);
    expect(sortedKeys(found.erasures[0])).toEqual([
      'attempts',
      'completedAt',
      'erasureId',
      'outcome',
      'receivedAt',
      'vendorStatus',
      'verifiedAbsentAt',
    ]);

    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout);
    expect(sortedKeys(listed)).toEqual(['erasures', 'from', 'status', 'to', 'truncated']);
    expect(listed.erasures.map((e: { erasureId: string }) => e.erasureId)).toEqual(
      expect.arrayContaining(['shape-1', 'shape-2']),
    );
    expect(listed.erasures.find((e: { erasureId: string }) => e.erasureId === 'shape-1')).toEqual({
      erasureId: 'shape-1',
      status: 'completed',
      receivedAt: record.receivedAt,
      dueAt: record.dueAt,
      completedAt: record.completedAt,
      requestedBy: 'cli',
      reason: 'gdpr-art-17',
      persons: 1,
      outcomes: { erased: 1 },
    });

    expect(exported.code).toBe(0);
    const lines = exported.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.find((r: { erasureId: string }) => r.erasureId === 'shape-1')).toEqual(record);

    expect(redrive.code).toBe(0);
    expect(JSON.parse(redrive.stdout)).toEqual({ target: 'local', redriven: 0 });

    expect(batch.code).toBe(0);
    expect(sortedKeys(JSON.parse(batch.stdout))).toEqual(
      [
        'batch',
        'counts',
        'exitCode',
        'failures',
        'failuresOmitted',
        'file',
        'format',
        'fromLine',
        'lines',
        'problems',
        'problemsOmitted',
        'sha256',
        'stopped',
        'unlinked',
        'unlinkedOmitted',
      ].sort(),
    );

    await stack.archive!.idle();
    const verified = await cli(
      'verify',
      '--folder',
      stack.archive!.dir,
      '--public-key',
      stack.archive!.publicKeyFile,
      ...table,
      '--json',
    );
    expect(verified.code).toBe(0);
    const report = JSON.parse(verified.stdout);
    expect(sortedKeys(report)).toEqual(['batches', 'digests', 'findings', 'items', 'notes', 'records']);
    expect(report.findings).toEqual([]);
  }, 120_000);
});

describe('verifik-erasure errors and exit codes', () => {
  it('link and find --subject: the link made once, then found with the erasure that named the subject', async () => {
    const person = stack.sandboxPersons[3]!;
    const subject = `hubspot:contact ${Date.now()}/42`;
    const first = await cli('link', subject, person, ...url(), '--json');
    const again = await cli('link', subject, person, ...url(), '--json');
    expect([first.code, again.code]).toEqual([0, 0]);
    expect(sortedKeys(JSON.parse(first.stdout))).toEqual(['answer', 'created', 'personId', 'subject']);
    expect([JSON.parse(first.stdout).created, JSON.parse(again.stdout).created]).toEqual([true, false]);

    const [source, ...rest] = subject.split(':');
    const api = new ErasureApiClient(stack.url, stack.env.WEBHOOK_SECRET!);
    const erased = await api.erase({ subject: { source: source!, id: rest.join(':') } }, 'by-subject-1');
    expect(erased.body).toMatchObject({ status: 'completed', persons: [{ personId: person, outcome: 'erased' }] });

    const found = await cli('find', '--subject', subject, ...url(), '--json');
    expect(found.code).toBe(0);
    const body = JSON.parse(found.stdout);
    expect(sortedKeys(body)).toEqual(['erasures', 'persons', 'subject']);
    expect(body.subject).toBe(subject);
    expect(body.persons).toEqual([expect.objectContaining({ personId: person, erasureIds: ['by-subject-1'] })]);
    expect(body.erasures).toEqual([expect.objectContaining({ erasureId: 'by-subject-1' })]);

    const people = await cli('find', '--subject', subject, ...url());
    expect(people.stdout).toContain(`Subject ${subject}: 1 linked person(s), 1 erasure(s)`);
    expect(people.stdout).toContain('by-subject-1');

    // Refused before anything is sent: a malformed subject or person id is a usage error (exit 2).
    const bad = await Promise.all([
      cli('link', 'HubSpot:1', person, ...url()),
      cli('link', 'hubspot:1', 'not a person', ...url()),
      cli('find', '--subject', 'no-colon', ...url()),
    ]);
    expect(bad.map((run) => run.code)).toEqual([2, 2, 2]);
  });

  it('erase --subject: one erasure of the persons linked to the subject; a malformed subject is refused before anything is sent', async () => {
    const person = stack.sandboxPersons[4]!;
    const subject = `zendesk:user:${Date.now()}`;
    expect((await cli('link', subject, person, ...url())).code).toBe(0);

    const erased = await cli('erase', '--subject', subject, '--id', 'by-subject-2', ...url(), '--json');

    expect(erased.code).toBe(0);
    const record = JSON.parse(erased.stdout);
    expect(record).toMatchObject({
      erasureId: 'by-subject-2',
      status: 'completed',
      subject: { source: 'zendesk', linkedPersonIds: [person] },
      persons: [{ personId: person, outcome: 'erased' }],
    });
    const calls = stack.sandbox!.calls.length;
    const refused = await Promise.all([
      cli('erase', '--subject', 'Zendesk:1', ...url()),
      cli('erase', '--subject', 'zendesk:1', '--file', 'ids.csv', ...url()),
    ]);
    expect(refused.map((run) => run.code)).toEqual([2, 2]);
    expect(refused[0]!.stderr).toMatch(/is not a subject: write source:id/);
    expect(stack.sandbox!.calls.length).toBe(calls);
  });

  it('one line with the fix, and a code that says what kind of problem', async () => {
    const [unknown, noSecret, badOption, subject, noTable, badRange, down, wrongSecret] = await Promise.all([
      cli('status', 'no-such-erasure', ...url()),
      runCli(['status', 'x', ...url()], { WEBHOOK_SECRET: '' }),
      cli('erase', '--file', 'x.csv', '--concurrency', 'many'),
      cli('find', '--subject', 'hubspot', ...url()),
      cli('find', '--person', 'p1'),
      cli('list', '--from', '2026-02-01', '--to', '2026-01-01', ...table),
      cli('status', 'x', '--url', 'http://127.0.0.1:9', '--timeout', '5'),
      runCli(['status', 'x', ...url()], { WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString('base64')}` }),
    ]);

    expect(unknown).toMatchObject({ code: 4, stdout: '' });
    expect(unknown.stderr).toMatch(/^verifik-erasure: No erasure no-such-erasure\. Fix: .+\n$/);
    expect(noSecret.code).toBe(3);
    expect(noSecret.stderr).toMatch(/^verifik-erasure: WEBHOOK_SECRET is not set.* Fix: .*--stack.*\n$/);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/--concurrency must be a whole number/);
    expect(subject.code).toBe(2);
    expect(subject.stderr).toMatch(/^verifik-erasure: "hubspot" is not a subject: write source:id/);
    expect(noTable.code).toBe(2);
    expect(noTable.stderr).toMatch(/Fix: pass --stack NAME, or --endpoint URL/);
    expect(badRange.code).toBe(2);
    expect(badRange.stderr).toBe('verifik-erasure: from must not be after to.\n');
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(
      /^verifik-erasure: http:\/\/127\.0\.0\.1:9 \(webhook secret\) could not be reached.* Fix: start the stack/,
    );
    expect(wrongSecret.code).toBe(3);
    expect(wrongSecret.stderr).toMatch(/refused the signature \(HTTP 401 invalid_signature/);
    for (const run of [unknown, noSecret, subject, noTable, badRange, down, wrongSecret])
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  }, 120_000);

  it('npx verifik-erasure --help lists every subcommand (the bin, through npx, on Node 24)', async () => {
    const { stdout } = await promisify(execFile)('npx', ['--no-install', 'verifik-erasure', '--help']);
    for (const command of ['erase', 'status', 'certificate', 'extend', 'find', 'list', 'export', 'verify', 'redrive', 'link'])
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(CLI_BIN).toMatch(/cli\/bin\.mjs$/);
  }, 60_000);
});
