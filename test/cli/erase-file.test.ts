import { Logger } from '@aws-lambda-powertools/logger';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack';
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
  it('reports a header, blank lines, duplicates, bad ids and subjects with their line numbers, and sends only the good ids', async () => {
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
      subject: 1,
      failed: 0,
      refused: 0,
    });
    expect(summary.problems).toEqual([
      { line: 5, value: 'not an id!', problem: 'invalid', message: expect.stringMatching(/not a person id/) },
      { line: 6, value: a, problem: 'duplicate', message: 'duplicate of line 2' },
      { line: 7, value: 'hubspot:8812', problem: 'subject', message: expect.stringMatching(/subjects/) },
      { line: 8, value: 'x,y', problem: 'invalid', message: expect.stringMatching(/not a person id/) },
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
    expect(summary.counts).toMatchObject({ erased: 2, blank: 1, invalid: 1, subject: 1 });
    expect(summary.problems.map((p: { line: number; problem: string }) => [p.line, p.problem])).toEqual([
      [4, 'invalid'],
      [5, 'subject'],
    ]);
    expect(run.code).toBe(1);
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
