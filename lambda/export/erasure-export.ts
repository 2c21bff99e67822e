import { Readable, pipeline, type Transform } from 'node:stream';
import { stringify } from 'csv-stringify';
import pMap from 'p-map';
import type { AuditStore } from '../erasure/ports';
import { buildRecord } from '../erasure/record';
import type { ErasureRecord, PersonState } from '../erasure/types';
import type { CertifiableRecord } from '../certificate/certificate-model';
import { InvalidRequestError } from '../errors';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportRange {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
}

export interface ExportOptions extends ExportRange {
  format: ExportFormat;
  /** Requests per DynamoDB page. @default 100 */
  pageSize?: number;
  /** Erasures of one page read at once. @default 8 */
  concurrency?: number;
}

/** One CSV row per person of each erasure (an erasure without persons: one row, person columns empty). */
export const CSV_COLUMNS = [
  'erasureId',
  'status',
  'receivedAt',
  'dueAt',
  'extendedDueAt',
  'completedAt',
  'requestedBy',
  'reason',
  'personId',
  'outcome',
  'vendorStatus',
  'attempts',
  'personCompletedAt',
  'verifiedAbsentAt',
  'lastError',
  'evidenceSignature',
  'evidenceDateTime',
  'evidenceResponseId',
  'note',
] as const;
type CsvRow = Partial<Record<(typeof CSV_COLUMNS)[number], string | number>>;

/** Checks a range a caller gave: two real dates, `from` not after `to`. */
export function exportRange(from: string | undefined, to: string | undefined): ExportRange {
  const parse = (value: string | undefined, name: string) => {
    const date = value === undefined ? new Date(Number.NaN) : new Date(value);
    if (value === undefined || Number.isNaN(date.getTime()))
      throw new InvalidRequestError(`${name} must be an ISO 8601 date or date-time, e.g. 2026-01-01 or 2026-01-01T00:00:00Z.`);
    return date;
  };
  const range = { from: parse(from, 'from'), to: parse(to, 'to') };
  if (range.from > range.to) throw new InvalidRequestError('from must not be after to.');
  return range;
}

/**
 * Every erasure received in [from, to), page by page: one DynamoDB page of requests on the
 * received-time index, then each erasure's items, so no more than one page is held at a time.
 */
export async function* erasureRecordPages(
  store: AuditStore,
  { from, to, pageSize = 100, concurrency = 8 }: ExportRange & { pageSize?: number; concurrency?: number },
): AsyncGenerator<ErasureRecord[]> {
  for await (const requests of store.requestPagesReceivedBetween(from, to, { pageSize })) {
    yield await pMap(
      requests,
      async (request) => {
        const stored = await store.getErasure(request.erasureId);
        return buildRecord(stored?.request ?? request, stored?.persons ?? []);
      },
      { concurrency },
    );
  }
}

async function* records(store: AuditStore, options: ExportOptions): AsyncGenerator<ErasureRecord> {
  for await (const page of erasureRecordPages(store, options)) yield* page;
}

function csvRows(record: ErasureRecord): CsvRow[] {
  const r = record as unknown as CertifiableRecord;
  const erasure: CsvRow = {
    erasureId: r.erasureId,
    status: r.status,
    receivedAt: r.receivedAt,
    dueAt: r.dueAt,
    extendedDueAt: r.extendedDueAt,
    completedAt: r.completedAt,
    requestedBy: r.requestedBy,
    reason: r.reason,
  };
  if (r.persons.length === 0) return [erasure];
  return r.persons.map((p: PersonState & { verifiedAbsentAt?: string }) => ({
    ...erasure,
    personId: p.personId,
    outcome: p.outcome,
    vendorStatus: p.vendorStatus,
    attempts: p.attempts,
    personCompletedAt: p.completedAt,
    verifiedAbsentAt: p.verifiedAbsentAt,
    lastError: p.lastError,
    evidenceSignature: p.evidence?.signature,
    evidenceDateTime: p.evidence?.dateTime,
    evidenceResponseId: p.evidence?.responseId,
    note: p.note,
  }));
}

/**
 * The export as a byte stream: CSV (RFC 4180 by csv-stringify, a header row, cells that a
 * spreadsheet would run as a formula prefixed with `'`) or JSON lines (one erasure record per line,
 * as `GET /erasures/{id}` answers it). Pulled page by page: a slow reader slows the DynamoDB reads.
 * A storage failure mid-way destroys the stream with the error (the output is then incomplete).
 */
export function exportErasures(store: AuditStore, options: ExportOptions): Readable {
  if (!(EXPORT_FORMATS as readonly string[]).includes(options.format))
    throw new InvalidRequestError(`format must be one of ${EXPORT_FORMATS.join(', ')}.`);
  if (!(options.from <= options.to)) throw new InvalidRequestError('from must not be after to.');
  if (options.format === 'jsonl') {
    return Readable.from(
      (async function* () {
        for await (const record of records(store, options)) yield `${JSON.stringify(record)}\n`;
      })(),
      { objectMode: false },
    );
  }
  const rows = Readable.from(
    (async function* () {
      for await (const record of records(store, options)) yield* csvRows(record);
    })(),
  );
  const csv: Transform = stringify({ header: true, columns: [...CSV_COLUMNS], escape_formulas: true });
  return pipeline(rows, csv, () => {
    // Errors reach the reader through `csv`, which pipeline destroys with them.
  });
}
