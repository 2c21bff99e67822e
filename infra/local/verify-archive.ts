import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { FolderArchiveStorage } from '../../lambda/archive/folder-archive-storage';
import { verifyArchive, type TableItem, type VerifyReport } from '../../lambda/archive/verify-archive';
import { readPublicKey as readAnyPublicKey } from '../../lambda/certificate/verify-certificate';

const USAGE = `usage:
  npm run verify-archive -- --folder DIR --public-key FILE [--table NAME [--endpoint URL] [--region REGION]] [--from-batch N] [--json]
Checks an archive folder (npm start's, or a bucket copied with aws s3 sync) offline: the batch chain,
the digests' signatures with the public key (PEM, DER, or base64 DER as aws kms get-public-key and
the ArchivePublicKey output give it), and,
with --table, the audit table's items against the archive (AWS credentials from the environment;
--endpoint for a local engine). --from-batch N: batches before N have expired (after the retention).
Exit codes: 0 nothing found, 1 findings (each printed), 2 usage or error.`;

/** The public key from a file: PEM, DER (SubjectPublicKeyInfo), its base64 (the stack output) or a JWK. */
export async function readPublicKey(file: string): Promise<KeyObject> {
  return readAnyPublicKey(await readFile(file));
}

/** Every item of a table, consistently read, as attribute values. */
export async function* scanTable(client: DynamoDBClient, tableName: string): AsyncGenerator<TableItem> {
  for await (const page of paginateScan({ client }, { TableName: tableName, ConsistentRead: true })) {
    yield* page.Items ?? [];
  }
}

/** The report for people: one line per finding, then the counts. */
export function formatReport(report: VerifyReport): string {
  const lines = report.findings.map((finding) => `FINDING ${finding.kind}: ${finding.detail}`);
  lines.push(...report.notes.map((note) => `note: ${note}`));
  const table = report.items === undefined ? '' : `, ${report.items} table items compared`;
  lines.push(
    `${report.findings.length === 0 ? 'OK' : `${report.findings.length} finding(s)`}: ${report.batches} batches, ${report.records} records, ${report.digests} digests${table}`,
  );
  return `${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      folder: { type: 'string' },
      'public-key': { type: 'string' },
      table: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      'from-batch': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const fromBatch = values['from-batch'] === undefined ? 1 : Number(values['from-batch']);
  if (
    values.help ||
    !values.folder ||
    !values['public-key'] ||
    (values.endpoint && !values.table) ||
    !(Number.isInteger(fromBatch) && fromBatch >= 1)
  ) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const client = values.table
    ? new DynamoDBClient({
        ...(values.endpoint
          ? {
              endpoint: values.endpoint,
              region: values.region ?? 'us-east-1',
              credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            }
          : values.region
            ? { region: values.region }
            : {}),
      })
    : undefined;
  try {
    const report = await verifyArchive({
      storage: new FolderArchiveStorage(values.folder),
      publicKey: await readPublicKey(values['public-key']),
      tableItems: client && values.table ? scanTable(client, values.table) : undefined,
      fromBatch,
    });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.findings.length === 0 ? 0 : 1;
  } finally {
    client?.destroy();
  }
}

if (process.argv[1]?.endsWith('verify-archive.ts')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`verify-archive: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
