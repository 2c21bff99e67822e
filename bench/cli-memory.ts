/**
 * `npx tsx --expose-gc bench/cli-memory.ts [--lines 10000,100000]`: how much memory `erase --file`
 * holds while it streams files of N lines (one distinct person id per line) through its whole
 * pipeline (file digest, CSV parser, line checks, bounded concurrency, results, report file),
 * against a target that answers at once (no network: this measures the command line, not a server).
 * Every 25 ms a full GC runs and the live heap is sampled; the peak above the heap before the run is
 * what the run holds. Streaming shows a peak that does not follow N, except the set of ids already
 * seen (for duplicates), which does. Nothing is asserted.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ApiTarget, SubmitBody } from '../cli/api-target';
import { runBatch } from '../cli/erase-batch';
import { gc, peakDuring } from './memory-peak';

/** Answers every erasure as Verifik's 200 would have it recorded, at once. */
const instantTarget: ApiTarget = {
  label: 'in-process',
  async submit(erasureId: string | undefined, body: SubmitBody) {
    const record = {
      erasureId,
      status: 'completed',
      persons: [{ personId: body.personIds[0], outcome: 'erased', vendorStatus: 200 }],
    };
    return { status: 200, headers: new Headers(), body: record };
  },
  read: () => Promise.reject(new Error('unused')),
  certificate: () => Promise.reject(new Error('unused')),
  link: () => Promise.reject(new Error('unused')),
  subject: () => Promise.reject(new Error('unused')),
  extend: () => Promise.reject(new Error('unused')),
};

async function measure(dir: string, lines: number) {
  const file = join(dir, `ids-${lines}.csv`);
  const ids = Array.from({ length: lines }, (_, i) => `person_${String(i).padStart(8, '0')}`);
  await writeFile(file, `personId\n${ids.join('\n')}\n`);
  ids.length = 0;
  const started = Date.now();
  let summary: Awaited<ReturnType<typeof runBatch>> | undefined;
  const held = await peakDuring(async () => {
    summary = await runBatch(
      instantTarget,
      {
        file,
        format: 'csv',
        fromLine: 1,
        concurrency: 8,
        rate: 0,
        retries: 0,
        retryDelayMs: 1,
        reason: 'bench',
        requestedBy: 'bench',
        report: join(dir, `report-${lines}.jsonl`),
        progress: { enabled: false, intervalMs: 2000 },
        resumeCommand: () => '',
      },
      new AbortController().signal,
    );
  });
  const seconds = (Date.now() - started) / 1000;
  return {
    lines: summary!.lines,
    erased: summary!.counts.erased,
    seconds: seconds.toFixed(1),
    'heap held (MB)': held.peakMb.toFixed(1),
    'rss growth (MB)': held.rssPeakMb.toFixed(1),
  };
}

async function main() {
  const { values } = parseArgs({ options: { lines: { type: 'string', default: '10000,100000' } } });
  if (!gc) process.stderr.write('note: run with --expose-gc (npx tsx --expose-gc …) for a live-heap figure\n');
  const dir = await mkdtemp(join(tmpdir(), 'cli-memory-'));
  try {
    const rows = [];
    for (const lines of values.lines.split(',').map(Number)) rows.push(await measure(dir, lines));
    console.table(rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
