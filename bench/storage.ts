import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { table, type Section } from './report';

/** DynamoDB operations that write, by their API name. */
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
/** Operations whose consumed capacity we ask for (the rest are table management). */
export const DATA = new Set([...WRITES, 'GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

export interface StorageCounts {
  /** Requests by API name (PutItem, UpdateItem, Query, ...). */
  requests: Record<string, number>;
  /** Write requests, conditional failures included. */
  writes: number;
  reads: number;
  /** Write and read capacity units as the engine reported them (ReturnConsumedCapacity: TOTAL). */
  writeUnits: number;
  readUnits: number;
  /** Writes refused by their condition: DynamoDB charges them too (at least 1 WCU each, counted in writeUnits). */
  conditionFailures: number;
  /** Those refusals by operation and condition, to say which writes lost a race. */
  conditionFailuresBy: Record<string, number>;
}

/**
 * Counts DynamoDB requests and capacity units at the client. Asks for ReturnConsumedCapacity on
 * every data operation; dynalite reports table units with DynamoDB's item-size rule (1 WCU per KB
 * written, the larger of old and new item; reads 4 KB, halved when eventually consistent) but no
 * index units and nothing for a failed condition, which DynamoDB charges at 1 WCU or more.
 */
export class StorageCounter {
  private counts: StorageCounts = StorageCounter.empty();

  static empty(): StorageCounts {
    return { requests: {}, writes: 0, reads: 0, writeUnits: 0, readUnits: 0, conditionFailures: 0, conditionFailuresBy: {} };
  }

  /** Call before sending: adds ReturnConsumedCapacity to a data operation's input. */
  prepare(operation: string, input: Record<string, unknown>): void {
    if (DATA.has(operation)) input.ReturnConsumedCapacity ??= 'TOTAL';
  }

  /** `condition`: the refused write's ConditionExpression, when its condition failed. */
  record(
    operation: string,
    output: { ConsumedCapacity?: unknown } | undefined,
    conditionFailed = false,
    condition?: unknown,
  ): void {
    const c = this.counts;
    c.requests[operation] = (c.requests[operation] ?? 0) + 1;
    const write = WRITES.has(operation);
    if (write) c.writes += 1;
    else if (DATA.has(operation)) c.reads += 1;
    if (conditionFailed) {
      c.conditionFailures += 1;
      c.writeUnits += 1;
      const key = `${operation} if ${String(condition ?? '?')}`;
      c.conditionFailuresBy[key] = (c.conditionFailuresBy[key] ?? 0) + 1;
    }
    const capacity = output?.ConsumedCapacity;
    for (const item of Array.isArray(capacity) ? capacity : capacity ? [capacity] : []) {
      const units = Number((item as { CapacityUnits?: number }).CapacityUnits ?? 0);
      if (write) c.writeUnits += units;
      else c.readUnits += units;
    }
  }

  /** The counts so far, and starts again from zero. */
  take(): StorageCounts {
    const taken = this.counts;
    this.counts = StorageCounter.empty();
    return taken;
  }

  /** A counter of every request `client` sends (a middleware on its stack, shared by DocumentClients made from it). */
  static attachedTo(client: DynamoDBClient): StorageCounter {
    const counter = new StorageCounter();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? '').replace(/Command$/, '');
        counter.prepare(operation, args.input as Record<string, unknown>);
        try {
          const result = await next(args);
          counter.record(operation, result.output as { ConsumedCapacity?: unknown });
          return result;
        } catch (error) {
          const conditionFailed = (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
          counter.record(
            operation,
            undefined,
            conditionFailed,
            (args.input as { ConditionExpression?: string }).ConditionExpression,
          );
          throw error;
        }
      },
      { step: 'initialize', name: 'benchStorageCounter' },
    );
    return counter;
  }
}

interface StorageRun {
  name: string;
  counts: StorageCounts;
  /** Persons erased in the run. */
  persons: number;
  /** How the counts were taken. */
  how: string;
  /** Counts toward the target (the real handlers), or only a reference. */
  target: boolean;
}

/** What warm and bulk counted: DynamoDB use of their measured requests, and the persons they erased. */
export interface CountedRun {
  counts: StorageCounts;
  persons: number;
}

/** The storage cost table: DynamoDB requests and units per erased person, in warm and bulk. */
export function storageSection(warm: { http: CountedRun; baseline: CountedRun }, bulk: CountedRun): Section {
  const runs: StorageRun[] = [
    { name: 'warm: http handler, 1 person per request', ...warm.http, how: 'middleware on the DynamoDBClient', target: true },
    {
      name: 'bulk: local stack, 100 per request, rate-limited',
      ...bulk,
      how: 'proxy in front of dynalite (the stack builds its own client)',
      target: true,
    },
    {
      name: 'reference: baseline (one PutItem, no index)',
      ...warm.baseline,
      how: 'middleware on the DynamoDBClient',
      target: false,
    },
  ];
  const per = (value: number, run: StorageRun) => (value / run.persons).toFixed(2);
  const rows = runs.map((run) => [
    run.name,
    run.persons.toLocaleString('en-US'),
    Object.entries(run.counts.requests)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${per(n, run)}`)
      .join(', '),
    per(run.counts.writes, run),
    per(run.counts.writeUnits, run),
    // Every item the service writes carries exactly one index key (the request: byReceivedAt; a
    // person: byPerson, set by its first write) and both indexes project ALL, so each write is
    // written again, the same size, to one index.
    run.target ? per(run.counts.writeUnits * 2, run) : per(run.counts.writeUnits, run),
    per(run.counts.reads, run),
    per(run.counts.readUnits, run),
    String(run.counts.conditionFailures),
    run.how,
  ]);
  const worst = Math.max(...runs.filter((r) => r.target).map((r) => r.counts.writes / r.persons));
  const onePersonUnits = (runs[0]!.counts.writeUnits * 2) / runs[0]!.persons;
  return {
    title: 'Storage cost',
    command: 'npm run bench -- storage',
    samples: runs.map((r) => `${r.name}: ${r.persons.toLocaleString('en-US')} persons`).join('; '),
    table: table(
      [
        'run',
        'persons',
        'requests / person',
        'writes / person',
        'WCU / person (table)',
        'WCU / person with index writes',
        'reads / person',
        'RCU / person',
        'failed conditions',
        'counted',
      ],
      rows,
    ),
    targets: [
      [`at most 3 writes per erased person (worst: ${worst.toFixed(2)})`, worst <= 3],
      [`at most 4 WCU per person with index writes, one-person requests (${onePersonUnits.toFixed(2)})`, onePersonUnits <= 4],
    ],
    notes: [
      'Write and read units are what dynalite returns for ReturnConsumedCapacity: TOTAL (DynamoDB’s rule: 1 WCU per started KB of the larger of the old and new item; 1 RCU per 4 KB read strongly consistent). dynalite leaves out index writes; the service’s items each carry one index key and both indexes project ALL, so the “with index writes” column doubles the table units (on-demand bills both).',
      `A write refused by its condition is billed by DynamoDB too: 1 WCU each here. Refused: ${
        runs
          .filter((r) => r.counts.conditionFailures > 0)
          .map(
            (r) =>
              `${r.name}: ${Object.entries(r.counts.conditionFailuresBy)
                .sort((a, b) => b[1] - a[1])
                .map(([what, n]) => `${n} × ${what}`)
                .join('; ')}`,
          )
          .join(' / ') || 'none'
      }.`,
      'Warm: one person per request, so the request item (PutItem) is paid per person; bulk: 100 per request, so it is paid once per 100, and the reads are the retry worker reading each erasure once when its armed message arrives.',
    ],
  };
}
