import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { DynamoAuditStore } from '../../lambda/audit/dynamo-audit-store';
import { EXPORT_FORMATS, exportErasures, exportRange, type ExportFormat } from '../../lambda/export/erasure-export';
import { DEFAULT_TABLE } from './local-stack';

const USAGE = `usage:
  npm run export -- --from DATE --to DATE [--format csv|jsonl] [--endpoint URL] [--table NAME] [--out FILE]
Every erasure received in [from, to) (ISO 8601 dates or date-times, UTC unless an offset is given),
read straight from the audit table with your AWS credentials (or from --endpoint, e.g. the local
stack's dynalite), written to stdout or --out. Table: --table, else AUDIT_TABLE_NAME, else ${DEFAULT_TABLE}.`;

/** The export as a command (the operator's command line will call exportErasures the same way). */
async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string', default: 'csv' },
      endpoint: { type: 'string' },
      table: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.from || !values.to || !(EXPORT_FORMATS as readonly string[]).includes(values.format)) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const range = exportRange(values.from, values.to);
  const client = new DynamoDBClient(
    values.endpoint
      ? { endpoint: values.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {},
  );
  try {
    const store = new DynamoAuditStore(client, values.table ?? process.env.AUDIT_TABLE_NAME ?? DEFAULT_TABLE);
    const output = values.out ? createWriteStream(values.out, { flags: 'wx' }) : process.stdout;
    await pipeline(exportErasures(store, { ...range, format: values.format as ExportFormat }), output);
    return 0;
  } finally {
    client.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`export: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
