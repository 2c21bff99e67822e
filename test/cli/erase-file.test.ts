import { Logger } from '@aws-lambda-powertools/logger';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack';
import { ErasureApiClient } from '../../infra/local/signed-client';
import { runCli, startCli, stopAllCli, until } from '../support/cli-process';

/**
 * `verifik-erasure erase --file`, spawned as an operator runs it, against the stack `npm start` runs
 * (in this process, so the Verifik sandbox's calls can be counted).
 */
let stack: LocalStack;
let dir: string;
const personIds = Array.from({ length: 2000 }, (_, i) => `person_${String(i + 1).padStart(5, '0')}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-erase-'));
  // No local archive and no verifying GET: they would only slow the request path, which this test is not about.
  stack = await startLocalStack(
    { PORT: '0', VERIFY_AFTER_DELETE: 'false' },
    { logger: new Logger({ logLevel: 'SILENT' }), sandboxPersons: 0, archive: false },
  );
  for (const id of personIds) stack.sandbox!.createPerson(id);
});
afterEach(() => stopAllCli());
afterAll(async () => {
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ WEBHOOK_SECRET: stack.env.WEBHOOK_SECRET });
const deletes = () => stack.sandbox!.calls.filter((call) => call.method === 'DELETE');
const deletesOf = (ids: Iterable<string>) => {
  const wanted = new Set(ids);
  return deletes().filter((call) => wanted.has(call.personId!)).length;
};

describe('erase --file', () => {
  it('reports a header, blank lines, duplicates and bad ids with their line numbers, and sends only the good lines', async () => {
    const file = join(dir, 'mixed.csv');
    const [a, b, c] = personIds.slice(1990, 1993) as [string, string, string];
    await writeFile(file, ['personId', a, '', b, 'not an id!', a, 'hubspot:8812', '"x,y"', c, ''].join('\n'));

    const run = await runCli(['erase', '--file', file, '--url', stack.url, '--json', '--no-progress'], env());

    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout);
    expect(summary.counts).toMatchObject({
      erased: 3,
      header: 1,
      blank: 1,
      invalid: 2,
      duplicate: 1,
      no_person_linked: 1,
      failed: 0,
      refused: 0,
    });
    expect(summary.problems).toEqual([
      { line: 5, value: 'not an id!', problem: 'invalid', message: expect.stringMatching(/not a person id/) },
      { line: 6, value: a, problem: 'duplicate', message: 'duplicate of line 2' },
      { line: 8, value: 'x,y', problem: 'invalid', message: expect.stringMatching(/not a person id/) },
    ]);
    // A subject nothing is linked to is sent, and recorded as such: evidence, not a failure.
    expect(summary.unlinked).toEqual([
      {
        line: 7,
        subject: 'hubspot:8812',
        erasureId: `${summary.batch}-L7`,
        outcome: 'no_person_linked',
        persons: [],
      },
    ]);
    // Only the three good ids reached Verifik, once each; nothing else was sent.
    expect(
      deletes()
        .map((call) => call.personId)
        .sort(),
    ).toEqual(expect.arrayContaining([a, b, c]));
    expect(deletesOf([a, b, c])).toBe(3);
    expect(deletes().some((call) => ['not an id!', 'hubspot:8812', 'x,y'].includes(call.personId!))).toBe(false);
  });

  it('reads JSON lines the same way, with line numbers', async () => {
    const file = join(dir, 'ids.jsonl');
    const [a, b] = personIds.slice(1993, 1995) as [string, string];
    await writeFile(
      file,
      [JSON.stringify(a), '', JSON.stringify({ personId: b }), '{oops', JSON.stringify({ subject: 'hubspot:1' })].join('\n'),
    );

    const run = await runCli(['erase', '--file', file, '--url', stack.url, '--json', '--no-progress'], env());

    const summary = JSON.parse(run.stdout);
    expect(summary.format).toBe('jsonl');
    expect(summary.counts).toMatchObject({ erased: 2, blank: 1, invalid: 1, no_person_linked: 1 });
    expect(summary.problems.map((p: { line: number; problem: string }) => [p.line, p.problem])).toEqual([[4, 'invalid']]);
    expect(summary.unlinked.map((u: { line: number; subject: string }) => [u.line, u.subject])).toEqual([[5, 'hubspot:1']]);
    expect(run.code).toBe(1);
  });

  it('sends subject lines (a column, source:id, or both a person and a subject): the linked persons are erased once, a rerun calls Verifik 0 times', async () => {
    const [s1, s2, s3, p4, s5] = personIds.slice(1995, 2000) as [string, string, string, string, string];
    const api = new ErasureApiClient(stack.url, stack.env.WEBHOOK_SECRET!);
    const links = await Promise.all([
      api.link({ source: 'hubspot', id: '9001' }, s1),
      api.link({ source: 'hubspot', id: '9001' }, s2),
      api.link({ source: 'zendesk', id: 'org:7/user 3' }, s3),
      api.link({ source: 'portal', id: 'subject-5' }, s5),
    ]);
    expect(links.map((link) => link.status)).toEqual([201, 201, 201, 201]);
    const csv = join(dir, 'subjects.csv');
    await writeFile(
      csv,
      [
        'email,personId,subject',
        'a@example.org,,hubspot:9001',
        `b@example.org,${p4},"zendesk:org:7/user 3"`,
        'c@example.org,,hubspot:9001',
        'd@example.org,,HubSpot:9001',
        'e@example.org,,hubspot:',
        'f@example.org,,',
      ].join('\n'),
    );
    const jsonl = join(dir, 'subjects.jsonl');
    await writeFile(
      jsonl,
      [JSON.stringify('portal:subject-5'), JSON.stringify({ subject: { source: 'hubspot', id: 'no-link-here' } })].join('\n'),
    );
    const before = deletes().length;

    const run = await runCli(['erase', '--file', csv, '--url', stack.url, '--json', '--no-progress'], env());
    const lines = await runCli(['erase', '--file', jsonl, '--url', stack.url, '--json', '--no-progress'], env());

    const summary = JSON.parse(run.stdout);
    expect(run.code).toBe(1); // the three bad lines
    expect(summary.counts).toMatchObject({ header: 1, erased: 2, duplicate: 1, invalid: 3, failed: 0, refused: 0 });
    expect(summary.problems).toEqual([
      { line: 4, value: 'hubspot:9001', problem: 'duplicate', message: 'duplicate of line 2' },
      { line: 5, value: 'HubSpot:9001', problem: 'invalid', message: expect.stringMatching(/not a subject \(source:id/) },
      { line: 6, value: 'hubspot:', problem: 'invalid', message: expect.stringMatching(/not a subject/) },
      { line: 7, value: '', problem: 'invalid', message: 'names no person id and no subject' },
    ]);
    const status = async (line: number) => {
      const id = `${summary.batch}-L${line}`;
      const answer = await api.status(id);
      return answer.body as {
        subject?: { source: string; linkedPersonIds: string[] };
        persons: { personId: string; outcome: string }[];
      };
    };
    const [line2, line3] = await Promise.all([status(2), status(3)]);
    expect(line2.subject?.source).toBe('hubspot');
    expect([...line2.subject!.linkedPersonIds].sort()).toEqual([s1, s2].sort());
    expect(line2.persons.map((p) => [p.personId, p.outcome]).sort()).toEqual([
      [s1, 'erased'],
      [s2, 'erased'],
    ]);
    expect(line3.persons.map((p) => p.personId).sort()).toEqual([p4, s3].sort());

    const second = JSON.parse(lines.stdout);
    expect(lines.code).toBe(0); // a subject with nothing linked is recorded, not failed
    expect(second.counts).toMatchObject({ erased: 1, no_person_linked: 1 });
    expect(second.unlinked).toEqual([expect.objectContaining({ line: 2, subject: 'hubspot:no-link-here', persons: [] })]);

    // Each linked person deleted once; the bad and the duplicate lines reached nobody.
    expect(deletesOf([s1, s2, s3, p4, s5])).toBe(5);
    expect(deletes().length - before).toBe(5);

    // The same file again: answered from the audit trail, Verifik is not called.
    const rerun = await runCli(
      ['erase', '--file', csv, '--url', stack.url, '--json', '--no-progress', '--report', join(dir, 'r.jsonl')],
      env(),
    );
    expect(JSON.parse(rerun.stdout).counts).toMatchObject({ erased: 2, invalid: 3 });
    expect(deletes().length - before).toBe(5);
    const report = (await readFile(join(dir, 'r.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(report.find((r) => r.line === 3)).toEqual({
      line: 3,
      personId: p4,
      subject: 'zendesk:org:7/user 3',
      erasureId: `${summary.batch}-L3`,
      outcome: 'erased',
      persons: expect.arrayContaining([
        { personId: p4, outcome: 'erased' },
        { personId: s3, outcome: 'erased' },
      ]),
    });
  });

  it('a file of 2,000 lines interrupted twice (Ctrl-C, then a kill) and resumed: every person is deleted at Verifik exactly once', async () => {
    const ids = personIds.slice(0, 1900);
    const file = join(dir, 'big.csv');
    // 2,000 lines: a header, 1,900 ids, then the same 99 again (duplicates, never sent).
    await writeFile(file, ['personId', ...ids, ...ids.slice(0, 99)].join('\n') + '\n');
    const args = ['erase', '--file', file, '--url', stack.url, '--concurrency', '6', '--rate', '0', '--progress-interval', '200'];
    const before = deletes().length;

    // 1. Ctrl-C after a few hundred: the run stops taking lines, prints what is left and the command to resume.
    const first = startCli(args, env());
    await until(() => deletes().length - before >= 300);
    first.child.kill('SIGINT');
    const interrupted = await first.exited;
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/^progress: \d+\/2000 lines/m);
    const resume = /resume with:\n\s+(.+)\n/.exec(interrupted.stdout)?.[1];
    expect(resume).toMatch(/^npx verifik-erasure erase --file .* --from-line \d+$/);
    const fromLine = Number(/--from-line (\d+)$/.exec(resume!)![1]);
    expect(fromLine).toBeGreaterThan(1);

    // 2. The printed command, killed outright (no chance to clean up) a few hundred lines later.
    const resumeArgs = resume!.split(' ').slice(2);
    const second = startCli(resumeArgs, env());
    const reached = deletes().length;
    await until(() => deletes().length - reached >= 300);
    second.child.kill('SIGKILL');
    await second.exited;

    // 3. The same command again, to the end: whatever was done before is answered from the audit trail.
    const doneBefore = new Set(deletes().map((call) => call.personId!));
    const callsBefore = deletes().length;
    const last = await runCli([...resumeArgs, '--json'], env());

    expect(last.code).toBe(0);
    const summary = JSON.parse(last.stdout);
    expect(summary).toMatchObject({ lines: 2000, fromLine, stopped: null });
    expect(summary.counts.duplicate).toBe(99);
    expect(summary.counts.erased).toBe(1900 - (fromLine - 2));
    const resumedCalls = deletes()
      .slice(callsBefore)
      .map((call) => call.personId!);
    expect(resumedCalls.filter((id) => doneBefore.has(id))).toEqual([]);
    // Over the three runs: each of the 1,900 persons deleted exactly once, and nobody else.
    const perPerson = new Map<string, number>();
    for (const call of deletes().slice(before)) perPerson.set(call.personId!, (perPerson.get(call.personId!) ?? 0) + 1);
    expect(perPerson.size).toBe(1900);
    expect([...perPerson.values()].every((n) => n === 1)).toBe(true);
  }, 300_000);
});
