import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { extname } from 'node:path';
import { parse } from 'csv-parse';
import { PERSON_ID_PATTERN } from '../lambda/erasure/rules';
import { SUBJECT_FORMAT, subjectOf, subjectText, type Subject } from './subject';

export const INPUT_FORMATS = ['csv', 'jsonl'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** Column names taken for a header when they open a CSV file. */
const HEADER_NAMES = new Set(['personid', 'person_id', 'person', 'id', 'subject']);

/** One physical line of the file (1-based), classified. */
export type InputLine =
  | { kind: 'person'; line: number; personId: string }
  /** A CRM subject (its linked persons are erased), with the person the line names besides, if any. */
  | { kind: 'subject'; line: number; subject: Subject; personId?: string }
  | { kind: 'skipped'; line: number; why: 'header' | 'blank' }
  | { kind: 'problem'; line: number; problem: 'invalid' | 'duplicate'; value: string; message: string };

/** A line to send: one erasure. */
export type SendLine = Extract<InputLine, { kind: 'person' | 'subject' }>;

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
 * The file's lines, streamed (one record in memory at a time, plus the keys seen, for duplicates).
 * A line names a person id, a subject (`source:id`: the service erases the persons linked to it), or
 * both. CSV: RFC 4180 (csv-parse); the first column, or the `personId` and `subject` columns when the
 * first line is a header. JSON lines: `"id"`, `"source:id"`, `{"personId": "id"}`,
 * `{"subject": "source:id"}` or `{"subject": {"source": …, "id": …}}`, or both fields.
 */
export async function* readInputLines(path: string, format: InputFormat): AsyncGenerator<InputLine> {
  const seen = new Map<string, number>();
  const invalid = (line: number, value: unknown, message: string): InputLine => ({
    kind: 'problem',
    line,
    problem: 'invalid',
    value: typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)),
    message,
  });
  /** `person` and `subject` as read (either may be absent); a value with a colon in the person's place is a subject. */
  const classify = (line: number, person: unknown, subject?: unknown): InputLine => {
    if (subject === undefined && typeof person === 'string' && person.includes(':')) [person, subject] = [undefined, person];
    const named = subject === undefined ? undefined : typeof subject === 'string' ? subjectOf(subject) : subjectObject(subject);
    if (subject !== undefined && !named) return invalid(line, subject, `not a subject (${SUBJECT_FORMAT})`);
    if (person !== undefined && (typeof person !== 'string' || !PERSON_ID_PATTERN.test(person)))
      return invalid(line, person, 'not a person id (1 to 64 of A-Z a-z 0-9 _ -) nor a subject (source:id)');
    if (person === undefined && !named) return invalid(line, '', 'names no person id and no subject');
    const personId = person as string | undefined;
    const key = [personId ?? '', named ? subjectText(named) : ''].join('\n');
    const value = [personId, named && subjectText(named)].filter(Boolean).join(' ');
    const first = seen.get(key);
    if (first !== undefined) return { kind: 'problem', line, problem: 'duplicate', value, message: `duplicate of line ${first}` };
    seen.set(key, line);
    if (!named) return { kind: 'person', line, personId: personId! };
    return personId === undefined
      ? { kind: 'subject', line, subject: named }
      : { kind: 'subject', line, subject: named, personId };
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
        yield invalid(line, trimmed.slice(0, 80), 'not JSON');
        continue;
      }
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        const { personId, subject } = parsed as { personId?: unknown; subject?: unknown };
        yield personId === undefined && subject === undefined
          ? invalid(line, parsed, 'names no "personId" and no "subject"')
          : classify(line, personId, subject);
      } else yield classify(line, parsed);
    }
    return;
  }

  let column: number | undefined;
  let subjectColumn: number | undefined;
  let headered = false;
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
        headered = true;
        yield { kind: 'skipped', line, why: 'header' };
        continue;
      }
    }
    const cell = (index: number | undefined) => (index === undefined || !record[index] ? undefined : record[index]);
    if (!headered) yield classify(line, record[0]);
    else yield classify(line, cell(column), cell(subjectColumn));
  }
}

/** `{"source": …, "id": …}`, as the API takes a subject. */
function subjectObject(value: unknown): Subject | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { source, id } = value as { source?: unknown; id?: unknown };
  return typeof source === 'string' && typeof id === 'string' ? subjectOf(`${source}:${id}`) : undefined;
}
