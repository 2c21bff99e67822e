import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import {
  EXPORT_FORMATS,
  erasureRecordPages,
  exportErasures,
  exportRange,
  type ExportFormat,
} from '../../lambda/export/erasure-export';
import type { ErasureRecord } from '../../lambda/erasure/types';
import { EXIT, UsageError, type ExitCode } from '../errors';
import { printJson, table, type Output } from '../output';
import type { AuditTable } from '../targets';

/** A range as the service's export checks it; a bad one is a usage error here (exit 2). */
function range(from: string | undefined, to: string | undefined) {
  try {
    return exportRange(from, to);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** `find --person <id>`: every erasure that touched the person, newest first (the table's byPerson index). */
export async function findPerson(audit: AuditTable, personId: string, limit: number, output: Output): Promise<ExitCode> {
  const refs = await audit.store.erasuresForPerson(personId, { limit });
  const erasures = refs.map(({ erasureId, receivedAt, person }) => ({
    erasureId,
    receivedAt,
    outcome: person.outcome,
    vendorStatus: person.vendorStatus,
    attempts: person.attempts,
    completedAt: person.completedAt,
    verifiedAbsentAt: person.verifiedAbsentAt,
    lastError: person.lastError,
  }));
  if (output.json) printJson(output, { personId, erasures });
  else if (erasures.length === 0) output.out(`No erasure in ${audit.tableName} names person ${personId}.\n`);
  else
    output.out(
      table(
        ['Erasure', 'Received', 'Outcome', 'Verifik', 'Completed', 'Verified absent', 'Last error'],
        erasures.map((e) => [
          e.erasureId,
          e.receivedAt,
          e.outcome,
          e.vendorStatus,
          e.completedAt,
          e.verifiedAbsentAt,
          e.lastError,
        ]),
      ),
    );
  return EXIT.ok;
}

/** One line of `list`: the erasure without its persons' details. */
export function listEntry(record: ErasureRecord) {
  const outcomes: Record<string, number> = {};
  for (const person of record.persons) outcomes[person.outcome] = (outcomes[person.outcome] ?? 0) + 1;
  const r = record as ErasureRecord & { dueAt?: string; extendedDueAt?: string };
  return {
    erasureId: r.erasureId,
    status: r.status,
    receivedAt: r.receivedAt,
    dueAt: r.dueAt,
    extendedDueAt: r.extendedDueAt,
    completedAt: r.completedAt,
    requestedBy: r.requestedBy,
    reason: r.reason,
    persons: r.persons.length,
    outcomes,
  };
}

/** `list --from --to [--status]`: erasures received in [from, to), oldest first (the byReceivedAt index). */
export async function list(
  audit: AuditTable,
  options: { from?: string; to?: string; status?: string; limit: number },
  output: Output,
): Promise<ExitCode> {
  const { from, to } = range(options.from, options.to);
  const erasures: ReturnType<typeof listEntry>[] = [];
  let more = false;
  outer: for await (const page of erasureRecordPages(audit.store, { from, to })) {
    for (const record of page) {
      if (options.status && record.status !== options.status) continue;
      if (erasures.length === options.limit) {
        more = true;
        break outer;
      }
      erasures.push(listEntry(record));
    }
  }
  if (output.json)
    printJson(output, {
      from: from.toISOString(),
      to: to.toISOString(),
      status: options.status ?? null,
      erasures,
      truncated: more,
    });
  else {
    output.out(
      erasures.length === 0
        ? `No erasure received in [${from.toISOString()}, ${to.toISOString()})${options.status ? ` with status ${options.status}` : ''}.\n`
        : table(
            ['Erasure', 'Status', 'Received', 'Due', 'Completed', 'Persons', 'Requested by'],
            erasures.map((e) => [
              e.erasureId,
              e.status,
              e.receivedAt,
              e.extendedDueAt ?? e.dueAt,
              e.completedAt,
              e.persons,
              e.requestedBy,
            ]),
          ),
    );
    if (more) output.err(`Only the first ${options.limit} shown: raise --limit, or use export for the whole range.\n`);
  }
  return EXIT.ok;
}

/** `export --from --to --format csv|jsonl [--out FILE]`: the service's own export, streamed. */
export async function exportRecords(
  audit: AuditTable,
  options: { from?: string; to?: string; format: string; out?: string },
  output: Output,
): Promise<ExitCode> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(options.format))
    throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}.`);
  const { from, to } = range(options.from, options.to);
  const destination = options.out ? createWriteStream(options.out, { flags: 'wx' }) : process.stdout;
  await pipeline(exportErasures(audit.store, { from, to, format: options.format as ExportFormat }), destination, {
    end: Boolean(options.out),
  });
  if (options.out) output.err(`Erasures received in [${from.toISOString()}, ${to.toISOString()}) written to ${options.out}.\n`);
  return EXIT.ok;
}
