/**
 * `npx tsx --expose-gc bench/export-memory.ts [--erasures 2500,10000] [--format csv|jsonl]`: how much
 * memory the export holds while it streams N erasures from dynalite, which runs in a process of its
 * own (bench/dynamo-server.ts) so its table does not count. Every 25 ms a full GC runs and the live
 * heap is sampled: the peak of the live heap above the one before the export is what the export
 * holds. For comparison, the same for reading every record into one array first. A bounded export
 * shows the same peak whatever N; the array grows with N. Nothing is asserted.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { DynamoAuditStore } from '../lambda/audit/dynamo-audit-store';
import { erasureRecordPages, exportErasures, type ExportFormat } from '../lambda/export/erasure-export';
import { ensureAuditTable } from '../infra/local/audit-table';
import { DynamoServer } from './dynamo-server';
import { seedErasures } from './seed-erasures';
import { MB, gc, peakDuring } from './memory-peak';

async function main() {
  const { values } = parseArgs({
    options: { erasures: { type: 'string', default: '2500,10000' }, format: { type: 'string', default: 'csv' } },
  });
  if (!gc) throw new Error('run with --expose-gc: the live heap is measured after a forced GC');
  const counts = values.erasures.split(',').map(Number);
  const format = values.format as ExportFormat;
  const server = await DynamoServer.start();
  const client = new DynamoDBClient({
    endpoint: server.direct,
    region: 'local',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const rows: string[] = [];
  const row = (name: string, m: { baseMb: number; peakMb: number; rssPeakMb: number }, extra: string) =>
    `| ${name} | ${m.baseMb.toFixed(1)} | ${m.peakMb.toFixed(1)} | ${m.rssPeakMb.toFixed(1)} | ${extra} |`;
  try {
    for (const count of counts) {
      const tableName = `export-bench-${count}`;
      await ensureAuditTable(client, tableName);
      const start = new Date('2025-01-01T00:00:00.000Z');
      await seedErasures(client, tableName, count, start);
      const store = new DynamoAuditStore(client, tableName);
      const range = { from: start, to: new Date(start.getTime() + (count + 1) * 60_000) };

      let bytes = 0;
      const started = Date.now();
      const streamed = await peakDuring(() =>
        pipeline(
          exportErasures(store, { ...range, format }),
          new Writable({
            write(chunk: Buffer, _e, done) {
              bytes += chunk.length;
              done();
            },
          }),
        ),
      );
      const seconds = (Date.now() - started) / 1000;
      let held = 0;
      const collected = await peakDuring(async () => {
        const all: unknown[] = [];
        for await (const page of erasureRecordPages(store, range)) all.push(...page);
        held = all.length;
      });
      rows.push(
        row(
          `${count}, streamed (exportErasures, ${format})`,
          streamed,
          `${(bytes / MB).toFixed(1)} MB out in ${seconds.toFixed(1)} s`,
        ),
      );
      rows.push(row(`${count}, collected into an array first`, collected, `${held} records held`));
    }
  } finally {
    client.destroy();
    await server.close();
  }
  process.stdout.write(
    [
      `Export memory, Node ${process.version}, live heap sampled after a forced GC every 25 ms (\`npx tsx --expose-gc bench/export-memory.ts --erasures ${values.erasures} --format ${format}\`)`,
      '',
      '| erasures, how | live heap before (MB) | live heap peak above it (MB) | RSS peak above it (MB) | |',
      '|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
