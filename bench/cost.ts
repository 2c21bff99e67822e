import { ARCHIVE_BATCHING_WINDOW_S } from '../infra/constructs/audit-archive';
import { PRICES } from './prices';
import { table, type Section } from './report';
import type { WarmOutcome } from './warm';

export interface CostOptions {
  /** How long Verifik takes to answer one call, stated (loopback answers at once). */
  verifikLatencyMs: number;
}

/** The stack's memory for every function (infra/constructs/erasure-function.ts). */
const MEMORY_MB = 512;
/** Lambda memory sizes the right-sizing picks from. */
const SIZES_MB = [128, 256, 512, 1024];
/**
 * Stated, not measured here: the worker's run for the retry message each request arms (it reads the
 * erasure and finds it terminal), and the archiver's run per stream batch.
 */
const WORKER_RUN_MS = 20;
const ARCHIVER_RUN_MS = 50;

interface Item {
  name: string;
  /** How it is counted, per erasure. */
  count: (side: 'http' | 'baseline') => number;
  unit: string;
  /** USD per unit. */
  price: number;
}

/**
 * Dollars per million erasures of one person, from the warm run's measured latency, CPU, log volume
 * and DynamoDB units, at a stated Verifik latency and PRICES (bench/prices.ts), next to the bare
 * baseline (a raw DELETE and one PutItem). Names the biggest item and the memory the measured RSS
 * would fit in.
 */
export function costSection(warm: WarmOutcome, options: CostOptions): Section {
  const { figures, storage } = warm;
  const gb = MEMORY_MB / 1024;
  const verifikCalls = { http: 2, baseline: 1 };
  const seconds = (side: 'http' | 'baseline') => (figures.p50Ms[side] + verifikCalls[side] * options.verifikLatencyMs) / 1000;
  const perPerson = (side: 'http' | 'baseline', value: (counts: (typeof storage)['http']['counts']) => number) =>
    value(storage[side].counts) / storage[side].persons;
  // Each service write is written again to one index (both project ALL), so on-demand bills it twice; the baseline has no index.
  const writeUnits = (side: 'http' | 'baseline') => perPerson(side, (c) => c.writeUnits) * (side === 'http' ? 2 : 1);
  const writes = perPerson('http', (c) => c.writes);
  const service = (value: number) => (side: 'http' | 'baseline') => (side === 'http' ? value : 0);
  // The request's writes share a partition (one stream shard) and come within one request: one batch
  // when the request is shorter than the mapping's batching window, else (at worst) one per write.
  const oneBatch = seconds('http') < ARCHIVE_BATCHING_WINDOW_S;
  const batches = oneBatch ? 1 : writes;
  const batchesWhy = oneBatch
    ? `the erasure's ${writes.toFixed(0)} writes in one ${ARCHIVE_BATCHING_WINDOW_S} s batching window, low traffic`
    : 'one per write: the request outlasts the batching window';
  const items: Item[] = [
    { name: 'API Gateway requests', count: () => 1, unit: 'requests', price: PRICES.apiRequest },
    {
      name: 'Lambda requests (http; worker for the armed retry message)',
      count: (side) => (side === 'http' ? 2 : 1),
      unit: 'invocations',
      price: PRICES.lambdaRequest,
    },
    {
      name: `Lambda time, request (${MEMORY_MB} MB; measured p50 + ${options.verifikLatencyMs} ms a Verifik call)`,
      count: (side) => seconds(side) * gb,
      unit: 'GB-s',
      price: PRICES.lambdaGbSecond,
    },
    {
      name: `Lambda time, worker (${WORKER_RUN_MS} ms stated)`,
      count: service((WORKER_RUN_MS / 1000) * gb),
      unit: 'GB-s',
      price: PRICES.lambdaGbSecond,
    },
    { name: 'DynamoDB write units (with index writes)', count: writeUnits, unit: 'WCU', price: PRICES.dynamoWriteUnit },
    {
      name: 'DynamoDB read units (measured, + 1 for the worker)',
      count: (side) => perPerson(side, (c) => c.readUnits) + (side === 'http' ? 1 : 0),
      unit: 'RCU',
      price: PRICES.dynamoReadUnit,
    },
    { name: 'SQS (send; the worker’s receive and delete)', count: service(3), unit: 'requests', price: PRICES.sqsRequest },
    {
      name: 'Logs (measured bytes a request)',
      count: (side) => (side === 'http' ? figures.logBytesPerRequest / 1e9 : 0),
      unit: 'GB',
      price: PRICES.logsGb,
    },
    {
      // At low traffic each stream batch holds one erasure: a batch object and an index entry.
      name: `S3 archive PUTs (a batch object and an index entry per stream batch; ${batchesWhy})`,
      count: service(batches * 2),
      unit: 'PUTs',
      price: PRICES.s3Put,
    },
    {
      name: `Lambda, archiver (a run of ${ARCHIVER_RUN_MS} ms stated per batch)`,
      count: service(batches * ((ARCHIVER_RUN_MS / 1000) * gb)),
      unit: 'GB-s',
      price: PRICES.lambdaGbSecond,
    },
    { name: 'Lambda requests, archiver', count: service(batches), unit: 'invocations', price: PRICES.lambdaRequest },
  ];
  const perMillion = (item: Item, side: 'http' | 'baseline') => item.count(side) * item.price * 1e6;
  const total = (side: 'http' | 'baseline') => items.reduce((sum, item) => sum + perMillion(item, side), 0);
  const biggest = [...items].sort((a, b) => perMillion(b, 'http') - perMillion(a, 'http'))[0]!;
  const usd = (value: number) => `$${value.toFixed(2)}`;
  const count = (value: number) => (value === 0 ? '–' : value < 0.01 ? value.toExponential(2) : value.toFixed(3));

  // Right-sizing: the smallest size holding the measured RSS alone with half again to spare.
  const rss = figures.rssBytes?.http;
  const fits = rss === undefined ? undefined : SIZES_MB.find((mb) => mb * 1024 * 1024 >= rss * 1.5);
  // A smaller function gets proportionally less CPU: its CPU time stretches, its waiting does not.
  const secondsAt = (mb: number) => seconds('http') + (figures.cpuMs.http / 1000) * (MEMORY_MB / mb - 1);
  const requestCostAt = (mb: number) => secondsAt(mb) * (mb / 1024) * PRICES.lambdaGbSecond * 1e6;

  return {
    title: 'Cost per million erasures',
    command: 'npm run bench -- warm (cost)',
    samples: `one person per request; prices ${PRICES.region}, ${PRICES.asOf} (bench/prices.ts); Verifik answering in ${options.verifikLatencyMs} ms`,
    table: table(
      ['item', 'per erasure', 'unit', 'USD per million', 'baseline per erasure', 'baseline USD per million'],
      [
        ...items.map((item) => [
          item.name,
          count(item.count('http')),
          item.unit,
          usd(perMillion(item, 'http')),
          count(item.count('baseline')),
          usd(perMillion(item, 'baseline')),
        ]),
        ['**total**', '', '', `**${usd(total('http'))}**`, '', `**${usd(total('baseline'))}**`],
      ],
    ),
    notes: [
      `Biggest item: ${biggest.name}, ${usd(perMillion(biggest, 'http'))} of ${usd(total('http'))} per million (${((perMillion(biggest, 'http') / total('http')) * 100).toFixed(0)}%). The service costs ${(total('http') / total('baseline')).toFixed(1)}× the bare baseline, which keeps no audit trail, no retry path and no archive.`,
      'Measured in this run: p50 latency and CPU per request of the http handler and the baseline (warm), their DynamoDB units (ReturnConsumedCapacity) and the log bytes a request. Stated: the Verifik latency, the worker’s and the archiver’s run times, three SQS requests per erasure, and one stream batch per erasure (low traffic: its writes fall in one batching window of the archiver’s stream mapping; in bulk, batches of up to 100 records make the batch objects nearly free, but each erasure still costs an index entry per batch that holds it).',
      rss === undefined
        ? 'Right-sizing: not measured this run (--no-memory).'
        : `Right-sizing: the http bundle alone holds ${(rss / 1024 / 1024).toFixed(0)} MiB after the warm run; ${fits ?? '>1024'} MB would hold it with half again to spare. Request time at ${SIZES_MB.map((mb) => `${mb} MB: ${usd(requestCostAt(mb))}`).join(', ')} per million (CPU stretched in proportion, waiting unchanged). The stack keeps ${MEMORY_MB} MB: a smaller size also slows cold starts, not measured here.`,
      'Not included: Verifik’s own fees, the fixed monthly cost (secrets, alarms, keys, dashboard: docs/cost.md), storage over the retention period, and retries (docs/cost.md prices a long outage).',
    ],
  };
}
