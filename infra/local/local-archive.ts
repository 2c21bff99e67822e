import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { GetItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { AUDIT_TABLE_SCHEMA } from '../../lambda/audit/table-definition';
import { Archiver } from '../../lambda/archive/archiver';
import { FolderArchiveStorage } from '../../lambda/archive/folder-archive-storage';
import { KeyFileSigner } from '../../lambda/archive/key-file-signer';
import type { ArchiveMetrics } from '../../lambda/archive/ports';
import type { LogSink } from '../../lambda/log';

type Item = Record<string, AttributeValue>;
const WRITES: Record<string, 'Item' | 'Key'> = { PutItemCommand: 'Item', UpdateItemCommand: 'Key', DeleteItemCommand: 'Key' };
const HOUR_MS = 3_600_000;
const CAPTURE = 'localStreamCapture';

/**
 * What stands in for DynamoDB Streams locally (dynalite has none): a middleware on the local stack's
 * DynamoDB client that, around every successful PutItem, UpdateItem and DeleteItem on the audit table,
 * reads the item before and after (writes to one item are serialized meanwhile, so the images are
 * exact) and emits the stream record DynamoDB would: INSERT, MODIFY or REMOVE with keys, old and new
 * image, a growing sequence number, and nothing when the item did not change. A write completes once
 * its record is archived (in the cloud the stream trails by moments), so a local `verify` right after
 * a request sees it. Writes that do not go
 * through this client (another process on the same engine) are not seen: `verify` finds them.
 */
export function captureStreamRecords(
  client: DynamoDBClient,
  tableName: string,
  emit: (record: DynamoDBRecord) => Promise<void>,
): () => void {
  const keyNames = [AUDIT_TABLE_SCHEMA.partitionKey, AUDIT_TABLE_SCHEMA.sortKey];
  const locks = new Map<string, Promise<unknown>>();
  let sequence = 0;
  const read = async (Key: Item) =>
    (await client.send(new GetItemCommand({ TableName: tableName, Key, ConsistentRead: true }))).Item;

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const field = WRITES[context.commandName ?? ''];
      const input = args.input as { TableName?: string; Item?: Item; Key?: Item };
      const source = field ? input[field] : undefined;
      if (!source || input.TableName !== tableName) return next(args);
      const Key: Item = Object.fromEntries(keyNames.map((name) => [name, source[name]!]));
      const lockKey = JSON.stringify(Key);
      const run = async () => {
        const before = await read(Key);
        const result = await next(args);
        const after = await read(Key);
        if (!isDeepStrictEqual(before, after)) {
          sequence += 1;
          const eventName = !before ? 'INSERT' : !after ? 'REMOVE' : 'MODIFY';
          await emit({
            eventID: randomUUID().replaceAll('-', ''),
            eventName,
            eventVersion: '1.1',
            eventSource: 'aws:dynamodb',
            awsRegion: 'local',
            eventSourceARN: `arn:aws:dynamodb:local:000000000000:table/${tableName}/stream/local`,
            dynamodb: {
              ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
              Keys: Key as never,
              ...(before ? { OldImage: before as never } : {}),
              ...(after ? { NewImage: after as never } : {}),
              SequenceNumber: String(sequence).padStart(21, '0'),
              SizeBytes: JSON.stringify([Key, before, after]).length,
              StreamViewType: 'NEW_AND_OLD_IMAGES',
            },
          });
        }
        return result;
      };
      const previous = locks.get(lockKey) ?? Promise.resolve();
      const current = previous.then(run, run);
      const settled = current.then(
        () => undefined,
        () => undefined,
      );
      locks.set(lockKey, settled);
      void settled.then(() => {
        if (locks.get(lockKey) === settled) locks.delete(lockKey);
      });
      return current;
    },
    { step: 'build', name: CAPTURE },
  );
  return () => void client.middlewareStack.remove(CAPTURE);
}

export interface LocalArchiveOptions {
  client: DynamoDBClient;
  tableName: string;
  /** The archive folder; undefined: a temporary one, removed when the stack stops (like the in-memory table). */
  dir?: string;
  /** The archive key (PEM); created on first use. @default `<dir>-key.pem` */
  keyFile?: string;
  logger: LogSink;
  metrics?: ArchiveMetrics;
}

/**
 * The local archive: the captured stream records go, in order, through the same Archiver as in the
 * cloud, into a folder, with digests signed by a key file every hour and when the stack stops.
 */
export class LocalArchive {
  private queue: DynamoDBRecord[] = [];
  private work: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private detach: () => void = () => undefined;

  private constructor(
    readonly dir: string,
    readonly publicKeyFile: string,
    readonly keyFile: string,
    readonly archiver: Archiver,
    private readonly logger: LogSink,
    private readonly temporaryRoot: string | undefined,
  ) {
    this.timer = setInterval(() => void this.digest().catch(() => undefined), HOUR_MS).unref();
  }

  static async start(options: LocalArchiveOptions): Promise<LocalArchive> {
    const temporaryRoot = options.dir ? undefined : await mkdtemp(path.join(tmpdir(), 'verifik-erasure-archive-'));
    const dir = options.dir ?? path.join(temporaryRoot!, 'archive');
    const keyFile = options.keyFile ?? `${dir.replace(/[/\\]+$/, '')}-key.pem`;
    const { signer, publicKeyFile } = await KeyFileSigner.open(keyFile);
    const archiver = new Archiver({
      storage: new FolderArchiveStorage(dir),
      signer,
      metrics: options.metrics ?? { count: () => undefined },
      logger: options.logger,
    });
    const archive = new LocalArchive(dir, publicKeyFile, keyFile, archiver, options.logger, temporaryRoot);
    archive.detach = captureStreamRecords(options.client, options.tableName, (record) => archive.push(record));
    return archive;
  }

  /** Archives the records captured so far (one batch), after any archiving already under way. */
  idle(): Promise<void> {
    return this.enqueue(() => this.flush());
  }

  /** Signs a digest of everything captured so far: its number and the last batch it covers. */
  async digest(): Promise<{ digest: number; lastBatch: number }> {
    let signed = { digest: 0, lastBatch: 0 };
    await this.enqueue(async () => {
      await this.flush();
      const { link, payload } = await this.archiver.digest();
      signed = { digest: link.sequence, lastBatch: payload.lastBatch };
    });
    return signed;
  }

  /** Archives what is left, signs a last digest, stops the hourly one; removes a temporary folder. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.detach();
    await this.digest().catch((error: unknown) => this.logger.error('local archive: last digest failed', { error }));
    if (this.temporaryRoot) await rm(this.temporaryRoot, { recursive: true, force: true });
  }

  private push(record: DynamoDBRecord): Promise<void> {
    this.queue.push(record);
    return this.idle();
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    this.work = this.work.then(task, task);
    return this.work;
  }

  /** Like Lambda on a stream: a failed batch stays first in line and is tried again, in order. */
  private async flush(): Promise<void> {
    const records = this.queue.splice(0);
    if (records.length === 0) return;
    try {
      await this.archiver.archive(records);
    } catch (error) {
      this.queue.unshift(...records);
      this.logger.error('local archive: archiving failed; the records are kept for the next attempt', { error });
    }
  }
}
