import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AuditStore } from '../../lambda/erasure/ports';
import { CSV_COLUMNS, exportErasures, exportRange, type ExportOptions } from '../../lambda/export/erasure-export';
import { StorageUnavailableError } from '../../lambda/errors';
import { seedErasures } from '../../bench/seed-erasures';
import { useHarness } from '../support/http-harness';

const t = useHarness();

async function collect(store: AuditStore, options: ExportOptions): Promise<string> {
  let text = '';
  for await (const chunk of exportErasures(store, options)) text += String(chunk);
  return text;
}

const around = () => ({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) });

describe('exportErasures', () => {
  it('writes every erasure received in the range as JSON lines, each the record GET answers, oldest first', async () => {
    const range = around();
    const ids = ['exp_a', 'exp_b', 'exp_c'];
    t.api.sandbox.script('refused', { status: 400, body: { code: 'BAD_REQUEST' } });
    for (const [i, id] of ids.entries()) {
      await t.api.post({ personIds: i === 2 ? ['refused'] : [t.api.sandbox.createPerson()], reason: 'gdpr-art-17' }, { id });
    }

    const lines = (await collect(t.api.store, { ...range, format: 'jsonl' })).trimEnd().split('\n');

    expect(lines.map((line) => JSON.parse(line).erasureId)).toEqual(ids);
    for (const [i, line] of lines.entries()) expect(JSON.parse(line)).toEqual((await t.api.get(ids[i]!)).body);
    expect(JSON.parse(lines[2]!)).toMatchObject({ status: 'failed', persons: [{ outcome: 'failed', vendorStatus: 400 }] });
  });

  it('writes CSV with a header and one row per person; an erasure without persons still has its row', async () => {
    const range = around();
    const [p1, p2] = [t.api.sandbox.createPerson(), t.api.sandbox.createPerson()];
    await t.api.post({ personIds: [p1, p2], reason: 'two, "quoted"\nlines', requestedBy: 'crm' }, { id: 'exp_two' });

    const csv = await collect(t.api.store, { ...range, format: 'csv' });
    const [header, ...rows] = csv.trimEnd().split('\n');

    expect(header).toBe(CSV_COLUMNS.join(','));
    expect(csv).toContain('"two, ""quoted""\nlines"');
    expect(csv.match(new RegExp(`^exp_two,completed,`, 'gm'))).toHaveLength(2);
    expect(rows.join('\n')).toContain(`,${p1},erased,200,1,`);
    expect(rows.join('\n')).toContain(`,${p2},erased,200,1,`);
  });

  it('prefixes cells a spreadsheet would run as a formula', async () => {
    const range = around();
    await t.api.post(
      { personIds: [t.api.sandbox.createPerson()], reason: '=HYPERLINK("http://evil")', requestedBy: '@SUM(1)' },
      { id: 'exp_formula' },
    );

    const csv = await collect(t.api.store, { ...range, format: 'csv' });

    expect(csv).toContain(`,'@SUM(1),"'=HYPERLINK(""http://evil"")",`);
    expect(csv).not.toMatch(/(^|,)"?=HYPERLINK/m);
  });

  it('includes `from` and excludes `to`; an empty range has no erasures, a reversed one is a 400', async () => {
    await t.api.post({ personIds: [t.api.sandbox.createPerson()] }, { id: 'exp_edge' });
    const receivedAt = new Date((await t.api.get('exp_edge')).body.receivedAt as string);

    const from = await collect(t.api.store, { from: receivedAt, to: new Date(receivedAt.getTime() + 1), format: 'jsonl' });
    const to = await collect(t.api.store, { from: new Date(receivedAt.getTime() - 1000), to: receivedAt, format: 'jsonl' });
    const empty = await collect(t.api.store, { from: receivedAt, to: receivedAt, format: 'csv' });

    expect(from).toContain('"exp_edge"');
    expect(to).toBe('');
    expect(empty).toBe(`${CSV_COLUMNS.join(',')}\n`);
    expect(() => exportErasures(t.api.store, { from: receivedAt, to: new Date(0), format: 'csv' })).toThrow(
      expect.objectContaining({ statusCode: 400, code: 'invalid_request' }),
    );
    expect(() => exportErasures(t.api.store, { ...around(), format: 'xml' as 'csv' })).toThrow(
      expect.objectContaining({ statusCode: 400 }),
    );
  });

  it('reads a range that spans months, through every monthly partition, in order', async () => {
    const { client } = t.dynamo;
    const { tableName, store } = await t.dynamo.newTable();
    // 100 erasures one a minute from 23:00 on 30 November: they cross into December at the 61st.
    await seedErasures(client, tableName, 100, new Date('2026-11-30T23:00:00.000Z'));

    const lines = (
      await collect(store, { from: new Date('2026-11-01'), to: new Date('2027-01-01'), format: 'jsonl', pageSize: 7 })
    )
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).erasureId);

    expect(lines).toEqual(Array.from({ length: 100 }, (_, i) => `seed_${String(i).padStart(6, '0')}`));
  });

  it('ends the stream with the error when storage fails mid-way, never as a complete file', async () => {
    const { client } = t.dynamo;
    const { tableName, store } = await t.dynamo.newTable();
    await seedErasures(client, tableName, 30, new Date('2026-06-01T00:00:00.000Z'));
    let pages = 0;
    const failing: AuditStore = Object.assign(Object.create(store) as AuditStore, {
      async *requestPagesReceivedBetween(from: Date, to: Date, options?: { pageSize?: number }) {
        for await (const page of store.requestPagesReceivedBetween(from, to, options)) {
          if (++pages === 3) throw new StorageUnavailableError(new Error('gone'));
          yield page;
        }
      },
    });
    for (const format of ['csv', 'jsonl'] as const) {
      pages = 0;
      await expect(
        collect(failing, { from: new Date('2026-06-01'), to: new Date('2026-07-01'), format, pageSize: 5 }),
      ).rejects.toBeInstanceOf(StorageUnavailableError);
    }
  });

  it('exports 10,000 erasures page by page: never more than a few pages read ahead of the reader', async () => {
    const { client } = t.dynamo;
    const { tableName, store } = await t.dynamo.newTable();
    const start = new Date('2025-01-01T00:00:00.000Z');
    await seedErasures(client, tableName, 10_000, start);
    // Counts the erasures read from storage; the reader below counts what it has been given.
    let read = 0;
    let written = 0;
    let aheadMax = 0;
    const counting: AuditStore = Object.assign(Object.create(store) as AuditStore, {
      getErasure: async (erasureId: string) => {
        read += 1;
        return store.getErasure(erasureId);
      },
    });
    const seen = new Set<string>();
    let last = '';
    const reader = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          const record = JSON.parse(line) as { erasureId: string; receivedAt: string };
          expect(record.receivedAt >= last).toBe(true);
          last = record.receivedAt;
          seen.add(record.erasureId);
          written += 1;
        }
        aheadMax = Math.max(aheadMax, read - written);
        // A slow reader: the export must wait for it rather than read on.
        setImmediate(done);
      },
    });

    await pipeline(exportErasures(counting, { from: start, to: new Date('2026-01-01'), format: 'jsonl', pageSize: 100 }), reader);

    expect(seen.size).toBe(10_000);
    expect(read).toBe(10_000);
    // One page being read, one handed on, and the stream's small buffers: far below the 10,000 a
    // collect-then-write export would hold.
    expect(aheadMax).toBeLessThanOrEqual(400);
  }, 180_000);
});

describe('exportRange', () => {
  it('takes ISO dates and date-times and refuses anything else or a reversed range', () => {
    expect(exportRange('2026-01-01', '2026-02-01T12:00:00Z')).toEqual({
      from: new Date('2026-01-01T00:00:00.000Z'),
      to: new Date('2026-02-01T12:00:00.000Z'),
    });
    for (const [from, to] of [
      ['yesterday', '2026-01-01'],
      ['2026-01-01', undefined],
      ['2026-02-01', '2026-01-01'],
    ]) {
      expect(() => exportRange(from, to)).toThrow(expect.objectContaining({ statusCode: 400, code: 'invalid_request' }));
    }
  });
});
