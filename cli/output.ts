import Table from 'cli-table3';
import type { LineCounts } from './progress';
import type { BatchSummary, LineResult } from './erase-batch';

/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface Output {
  json: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}

export const stdOutput = (json: boolean): Output => ({
  json,
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
});

export const printJson = (output: Output, value: unknown) => output.out(`${JSON.stringify(value, null, 2)}\n`);

/** A table for people (cli-table3, no colours: the output may be pasted into a ticket). */
export function table(head: string[], rows: (string | number | undefined)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) t.push(row.map((cell) => (cell === undefined ? '' : String(cell))));
  return `${t.toString()}\n`;
}

interface RecordLike {
  erasureId: string;
  status: string;
  receivedAt?: string;
  dueAt?: string;
  extendedDueAt?: string;
  completedAt?: string;
  requestedBy?: string;
  reason?: string;
  persons?: {
    personId: string;
    outcome: string;
    vendorStatus?: number;
    attempts?: number;
    completedAt?: string;
    verifiedAbsentAt?: string;
    lastError?: string;
  }[];
}

/** An erasure record: its fields, then one row per person. */
export function recordText(value: unknown): string {
  const record = value as RecordLike;
  const fields = table(
    ['Erasure', record.erasureId],
    [
      ['status', record.status],
      ['received', record.receivedAt],
      ['due', record.extendedDueAt ? `${record.extendedDueAt} (extended from ${record.dueAt})` : record.dueAt],
      ['completed', record.completedAt],
      ['requested by', record.requestedBy],
      ['reason', record.reason],
    ].filter(([, v]) => v !== undefined),
  );
  const persons = table(
    ['Person', 'Outcome', 'Verifik', 'Attempts', 'Completed', 'Verified absent', 'Last error'],
    (record.persons ?? []).map((p) => [
      p.personId,
      p.outcome,
      p.vendorStatus,
      p.attempts,
      p.completedAt,
      p.verifiedAbsentAt,
      p.lastError,
    ]),
  );
  return fields + persons;
}

const OUTCOME_LABELS: [keyof LineCounts, string][] = [
  ['erased', 'erased'],
  ['already_erased', 'already erased (Verifik 404)'],
  ['pending', 'pending (being retried by the service)'],
  ['failed', 'failed'],
  ['no_person_linked', 'subject with no person linked (recorded, nothing to delete)'],
  ['refused', 'refused by the service'],
  ['invalid', 'invalid id (not sent)'],
  ['duplicate', 'duplicate (not sent again)'],
  ['not_sent', 'not sent (run stopped)'],
  ['before_from_line', 'before --from-line (not sent)'],
  ['blank', 'blank'],
  ['header', 'header'],
];

/** What a line names: its person id, its subject, or both. */
const lineValue = (result: LineResult) => [result.personId, result.subject].filter(Boolean).join(' ');

/** The end of `erase --file` for people: counts, the lines to look at, and what to do next. */
export function batchText(summary: BatchSummary): string {
  const counts = table(
    ['Lines', String(summary.lines)],
    OUTCOME_LABELS.filter(([key]) => summary.counts[key] > 0).map(([key, label]) => [label, summary.counts[key]]),
  );
  const shown = [
    ...summary.problems.map((p) => [p.line, p.value, p.message]),
    ...summary.failures.map((f) => [f.line, lineValue(f), `${f.outcome}: ${f.error ?? ''} (erasure ${f.erasureId})`]),
    ...summary.unlinked.map((u) => [
      u.line,
      lineValue(u),
      `no Verifik person linked to this subject: recorded with a note (erasure ${u.erasureId})`,
    ]),
  ]
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .slice(0, 50);
  const omitted =
    summary.problems.length +
    summary.failures.length +
    summary.unlinked.length -
    shown.length +
    summary.problemsOmitted +
    summary.failuresOmitted +
    summary.unlinkedOmitted;
  let text = `Batch ${summary.batch} (${summary.file}; erasure ids ${summary.batch}-L<line>)\n${counts}`;
  if (shown.length > 0) {
    text += table(['Line', 'Value', 'Problem'], shown);
    if (omitted > 0) text += `… and ${omitted} more (write them all with --report FILE, or use --json).\n`;
  }
  if (summary.counts.pending > 0)
    text += `${summary.counts.pending} erasure(s) are pending: the service keeps retrying them. Check later with: verifik-erasure status <erasureId>\n`;
  if (summary.stopped)
    text += `STOPPED: ${summary.stopped.message}\nLines from ${summary.stopped.resumeFromLine} on were not all sent. When the cause is fixed, resume with:\n  ${summary.stopped.resumeCommand}\n`;
  return text;
}
