import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { extname } from 'node:path';
import { parse } from 'csv-parse';
import { PERSON_ID_PATTERN } from '../lambda/erasure/rules';

export const INPUT_FORMATS = ['csv', 'jsonl'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** `source:id`, as design names a subject (hubspot:8812). */
const SUBJECT_LIKE = /^[a-z][a-z0-9-]{0,31}:./;

/** Column names taken for a header when they open a CSV file. */
const HEADER_NAMES = new Set(['personid', 'person_id', 'person', 'id', 'subject']);

/** One physical line of the file (1-based), classified. */
export type InputLine =
  | { kind: 'person'; line: number; personId: string }
  | { kind: 'skipped'; line: number; why: 'header' | 'blank' }
  | { kind: 'problem'; line: number; problem: 'invalid' | 'duplicate' | 'subject'; value: string; message: string };

/** What the erasure ids of a file derive from: its bytes (SHA-256) unless the operator names the batch. */
export interface FileIdentity {
  sha256: string;
  lines: number;
}

export function inputFormat(path: string, given?: string): InputFormat {
  if (given) return given as InputFormat;
  return ['.jsonl', '.ndjson', '.json'].includes(extname(path).toLowerCase()) ? 'jsonl' : 'csv';
}

/** One streaming pass: the file's SHA-256 and its number of lines (a last line without a line feed counts). */
export async function fileIdentity(path: string): Promise<FileIdentity> {
  const hash = createHash('sha256');
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) lines += 1;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  return { sha256: hash.digest('hex'), lines: last === 0x0a ? lines : lines + 1 };
}

/**
 * The erasure id of one line: the batch (the file's digest, or the operator's --batch name) and the
 * line number, so a rerun of the same file sends the same ids and the service's idempotency makes
 * it a no-op for every line already received.
 */
export const lineErasureId = (batch: string, line: number) => `${batch}-L${line}`;

/** A batch name from a file digest: `f` and its first 20 hexadecimal digits (80 bits). */
export const batchOfDigest = (sha256: string) => `f${sha256.slice(0, 20)}`;

/**
 * The file's lines, streamed (one record in memory at a time, plus the set of ids seen, for
 * duplicates). CSV: RFC 4180 (csv-parse), one id in the first column, or in a `personId` column when
 * the first line is a header. JSON lines: `"id"`, `{"personId": "id"}`. Subjects (`source:id`) are
 * reported, not sent: the file run sends person ids only (for now).
 */
export async function* readInputLines(path: string, format: InputFormat): AsyncGenerator<InputLine> {
  const seen = new Map<string, number>();
  const classify = (line: number, value: unknown, subject?: boolean): InputLine => {
    if (subject)
      return {
        kind: 'problem',
        line,
        problem: 'subject',
        value: String(value),
        message: 'subjects (source:id) are not sent by erase --file yet: erase a subject with POST /erasures and "subject"',
      };
    if (typeof value !== 'string' || !PERSON_ID_PATTERN.test(value))
      return {
        kind: 'problem',
        line,
        problem: 'invalid',
        value: typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)),
        message: 'not a person id (1 to 64 of A-Z a-z 0-9 _ -)',
      };
    const first = seen.get(value);
    if (first !== undefined) return { kind: 'problem', line, problem: 'duplicate', value, message: `duplicate of line ${first}` };
    seen.set(value, line);
    return { kind: 'person', line, personId: value };
  };

  if (format === 'jsonl') {
    let line = 0;
    for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
      line += 1;
      const trimmed = text.replace(/^\uFEFF/, '').trim();
      if (trimmed === '') {
        yield { kind: 'skipped', line, why: 'blank' };
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch {
        yield { kind: 'problem', line, problem: 'invalid', value: trimmed.slice(0, 80), message: 'not JSON' };
        continue;
      }
      if (parsed !== null && typeof parsed === 'object' && 'subject' in parsed)
        yield classify(line, (parsed as { subject: unknown }).subject, true);
      else
        yield classify(
          line,
          parsed !== null && typeof parsed === 'object' ? (parsed as { personId?: unknown }).personId : parsed,
        );
    }
    return;
  }

  let column: number | undefined;
  let subjectColumn: number | undefined;
  let first = true;
  const parser = createReadStream(path).pipe(
    parse({ info: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: false, bom: true, trim: true }),
  );
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    const line = info.lines;
    if (record.every((cell) => cell === '')) {
      yield { kind: 'skipped', line, why: 'blank' };
      continue;
    }
    if (first) {
      first = false;
      const names = record.map((cell) => cell.toLowerCase());
      if (names.some((name) => HEADER_NAMES.has(name))) {
        const person = names.findIndex((name) => HEADER_NAMES.has(name) && name !== 'subject');
        column = person >= 0 ? person : undefined;
        const subject = names.indexOf('subject');
        subjectColumn = subject >= 0 ? subject : undefined;
        yield { kind: 'skipped', line, why: 'header' };
        continue;
      }
    }
    const headered = column !== undefined || subjectColumn !== undefined;
    const personCell = headered ? (column === undefined ? '' : (record[column] ?? '')) : (record[0] ?? '');
    const subjectCell = subjectColumn === undefined ? '' : (record[subjectColumn] ?? '');
    if (personCell === '' && subjectCell !== '') yield classify(line, subjectCell, true);
    else if (SUBJECT_LIKE.test(personCell)) yield classify(line, personCell, true);
    else yield classify(line, personCell);
  }
}
