import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERASURE_ID_PATTERN } from '../../lambda/erasure/rules';
import { batchOfDigest, fileIdentity, inputFormat, lineErasureId, readInputLines, type InputFormat } from '../../cli/erase-input';
import { pace } from '../../cli/erase-batch';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-input-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function lines(name: string, content: string | Buffer, format?: InputFormat) {
  const file = join(dir, name);
  await writeFile(file, content);
  const out = [];
  for await (const line of readInputLines(file, format ?? inputFormat(file))) out.push(line);
  return out;
}

describe('reading an erasure file', () => {
  it('takes the personId column of a CSV with a header, whatever its place, and counts physical lines (CRLF, a BOM)', async () => {
    const read = await lines('crm.csv', Buffer.from('\uFEFFemail,PersonId\r\n"a@x.org",p1\r\n\r\n"b, c",p2\r\n'));
    expect(read).toEqual([
      { kind: 'skipped', line: 1, why: 'header' },
      { kind: 'person', line: 2, personId: 'p1' },
      { kind: 'skipped', line: 3, why: 'blank' },
      { kind: 'person', line: 4, personId: 'p2' },
    ]);
  });

  it('reads the first column of a CSV without a header; a first line that is not an id is reported, not skipped', async () => {
    const read = await lines('plain.csv', 'Person Name\np1,extra\n  p2  \n');
    expect(read).toEqual([
      { kind: 'problem', line: 1, problem: 'invalid', value: 'Person Name', message: expect.any(String) },
      { kind: 'person', line: 2, personId: 'p1' },
      { kind: 'person', line: 3, personId: 'p2' },
    ]);
  });

  it('reads subjects: a subject column, a source:id value, or a person and a subject on one line', async () => {
    const read = await lines(
      'subjects.csv',
      'personId,subject\n,hubspot:8812\np3,\np4,"zendesk:a:b,c"\nhubspot:1,\n,hubspot:8812\n',
    );
    expect(read).toEqual([
      { kind: 'skipped', line: 1, why: 'header' },
      { kind: 'subject', line: 2, subject: { source: 'hubspot', id: '8812' } },
      { kind: 'person', line: 3, personId: 'p3' },
      { kind: 'subject', line: 4, subject: { source: 'zendesk', id: 'a:b,c' }, personId: 'p4' },
      { kind: 'subject', line: 5, subject: { source: 'hubspot', id: '1' } },
      { kind: 'problem', line: 6, problem: 'duplicate', value: 'hubspot:8812', message: 'duplicate of line 2' },
    ]);
  });

  it('reads subjects in JSON lines as a string or an object; a malformed one is invalid with its line', async () => {
    const read = await lines(
      'subjects.jsonl',
      [
        '"hubspot:1"',
        '{"subject":{"source":"hubspot","id":"2"}}',
        '{"personId":"p1","subject":"portal:x y"}',
        '{"subject":{"source":"HubSpot","id":"3"}}',
        '{"subject":"hubspot:"}',
        '{"email":"a@example.org"}',
        '{"personId":"p2","subject":42}',
      ].join('\n'),
    );
    expect(read.map((l) => (l.kind === 'problem' ? [l.line, l.problem, l.message] : [l.line, l.kind]))).toEqual([
      [1, 'subject'],
      [2, 'subject'],
      [3, 'subject'],
      [4, 'invalid', expect.stringMatching(/^not a subject \(source:id/)],
      [5, 'invalid', expect.stringMatching(/^not a subject/)],
      [6, 'invalid', 'names no "personId" and no "subject"'],
      [7, 'invalid', expect.stringMatching(/^not a subject/)],
    ]);
    expect(read[2]).toEqual({ kind: 'subject', line: 3, subject: { source: 'portal', id: 'x y' }, personId: 'p1' });
  });

  it('reads JSON lines of strings or {personId}; anything else is invalid with its line', async () => {
    const read = await lines('ids.ndjson', '"p1"\n{"personId":"p2"}\n42\n{"personId":"a/b"}\n"p1"\n');
    expect(read.map((l) => (l.kind === 'problem' ? [l.line, l.problem, l.value] : [l.line, l.kind]))).toEqual([
      [1, 'person'],
      [2, 'person'],
      [3, 'invalid', '42'],
      [4, 'invalid', 'a/b'],
      [5, 'duplicate', 'p1'],
    ]);
  });
});

describe('line ids', () => {
  it('derives from the file digest and the line, and is a valid erasure id', async () => {
    const a = join(dir, 'a.csv');
    await writeFile(a, 'p1\np2');
    const identity = await fileIdentity(a);
    await writeFile(a, 'p1\np2\n');
    const again = await fileIdentity(a);

    expect(identity.lines).toBe(2);
    expect(again.lines).toBe(2);
    expect(again.sha256).not.toBe(identity.sha256);
    const id = lineErasureId(batchOfDigest(identity.sha256), 100_000);
    expect(id).toMatch(/^f[0-9a-f]{20}-L100000$/);
    expect(ERASURE_ID_PATTERN.test(id)).toBe(true);
  });

  it('paces below one request a second by stretching the window', () => {
    expect(pace(10)).toEqual({ limit: 10, interval: 1000 });
    expect(pace(0.5)).toEqual({ limit: 1, interval: 2000 });
  });
});
