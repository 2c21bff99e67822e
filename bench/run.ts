/**
 * `npm run bench [-- cold|imports|warm|bulk|storage ...] [options]`: the benchmarks, each printed as
 * a markdown table with its command, the machine's Node version and its number of samples. Every
 * time is a ratio against a baseline measured in the same run; nothing asserts a time.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { bulk, bulkSection, type BulkRun } from './bulk';
import { coldStart, type ColdOutcome } from './cold-start';
import { importCost } from './import-cost';
import { costSection } from './cost';
import { fromRoot } from './paths';
import { machine, render, type SavedRun, type Section } from './report';
import { storageSection } from './storage';
import { warm, type WarmOutcome } from './warm';

const BENCHMARKS = ['cold', 'imports', 'warm', 'bulk', 'storage'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

/** A bad option: the bench refuses to start with its message, no stack. */
class UsageError extends Error {}

const USAGE = `usage: npm run bench [-- <benchmark>...] [options]
  benchmarks: cold imports warm bulk storage (default: all five)
  --samples N     cold, imports: fresh processes per bundle (default 20, at least 20 for the README)
  --requests N    warm: measured requests per handler (default 5000)
  --no-memory     warm: skip the fresh process per handler that measures its RSS alone
  --log-level L   warm: the handler's POWERTOOLS_LOG_LEVEL (default INFO, as deployed; WARN shows what
                  its INFO lines cost)
  --persons N     bulk: persons to erase (default 10000)
  --rate R        bulk: Verifik's limit, requests per second (default 200)
  --in-flight N   bulk: erasure requests in flight (default 2)
  --burst N       bulk: calls Verifik's token bucket holds (default R, one second's worth)
  --pace P        bulk: the second run's VERIFIK_RATE_LIMIT, calls a second (default R); the first has no pace
  --pace-burst B  bulk: the second run's VERIFIK_BURST (default a tenth of a second's worth)
  --verifik-latency MS  warm: Verifik's answer time the cost table assumes (default 300)
  --json FILE     also write every figure to FILE (JSON), to compare runs over time;
                  \`npm run bench:render -- FILE\` prints its tables again
  --quiet         no progress lines on stderr
storage reports the DynamoDB use counted during warm and bulk, so it runs them.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      samples: { type: 'string', default: '20' },
      requests: { type: 'string', default: '5000' },
      'no-memory': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'INFO' },
      persons: { type: 'string', default: '10000' },
      rate: { type: 'string', default: '200' },
      'in-flight': { type: 'string', default: '2' },
      burst: { type: 'string' },
      pace: { type: 'string' },
      'pace-burst': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'verifik-latency': { type: 'string', default: '300' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const unknown = positionals.filter((p) => p !== 'all' && !(BENCHMARKS as readonly string[]).includes(p));
  if (values.help || unknown.length) {
    process.stderr.write(`${unknown.length ? `unknown benchmark: ${unknown.join(' ')}\n` : ''}${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (process.versions.node.split('.')[0] !== '24') {
    process.stderr.write(`bench: Node ${process.version}; run it as \`npm run bench\` (the project pins Node 24)\n`);
    return 1;
  }
  const selected = new Set<Benchmark>(
    positionals.length === 0 || positionals.includes('all') ? BENCHMARKS : (positionals as Benchmark[]),
  );
  if (selected.has('storage')) {
    selected.add('warm');
    selected.add('bulk');
  }
  const number = (name: keyof typeof values, min = 1) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min)
      throw new UsageError(`--${name} must be an integer ≥ ${min}, not ${JSON.stringify(values[name])}`);
    return value;
  };
  /** A rate, calls a second: a number above 0, or the bench refuses to start. */
  const rate = (name: 'pace') => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value <= 0)
      throw new UsageError(`--${name} must be a number of calls a second above 0, not ${JSON.stringify(values[name])}`);
    return value;
  };
  const verbose = !values.quiet;
  /** A Powertools log level, or the bench refuses to start. */
  const logLevel = (value: string) => {
    const level = value.toUpperCase();
    if (!['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'].includes(level))
      throw new UsageError(
        `--log-level must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT, not ${JSON.stringify(value)}`,
      );
    return level;
  };
  // Every option is checked before anything runs.
  const checked = {
    samples: number('samples'),
    requests: number('requests'),
    persons: number('persons'),
    rate: number('rate'),
    inFlight: number('in-flight'),
    burst: values.burst === undefined ? undefined : number('burst'),
    pace: values.pace === undefined ? undefined : rate('pace'),
    paceBurst: values['pace-burst'] === undefined ? undefined : number('pace-burst'),
    logLevel: logLevel(values['log-level']),
    verifikLatency: number('verifik-latency'),
  };
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const sections: Section[] = [];
  const show = (section: Section) => {
    sections.push({ ...section, machine: machine() });
    out(render(section));
  };

  out(`## verifik-erasure benchmarks\n\n\`${command}\` · ${machine()} · ${startedAt}\n`);
  out('Every time below is compared with a baseline measured in the same run, on the same machine.\n');

  let cold: ColdOutcome | undefined;
  if (selected.has('cold')) {
    cold = await coldStart({ samples: checked.samples, verbose });
    show(cold.section);
  }
  if (selected.has('imports')) {
    show(await importCost({ samples: checked.samples, verbose, cold: cold?.figures }));
  }
  let warmOutcome: WarmOutcome | undefined;
  if (selected.has('warm')) {
    warmOutcome = await warm({
      requests: checked.requests,
      blockSize: Math.min(500, checked.requests),
      warmup: 300,
      memoryAlone: !values['no-memory'],
      logLevel: checked.logLevel,
      verbose,
    });
    show(warmOutcome.section);
  }
  let bulkRuns: BulkRun[] | undefined;
  if (selected.has('bulk')) {
    const base = {
      persons: checked.persons,
      batch: 100,
      rate: checked.rate,
      inFlight: checked.inFlight,
      burst: checked.burst,
      verbose,
    };
    // The same Verifik twice: bouncing off its 429s, then paced by the client (VERIFIK_RATE_LIMIT).
    bulkRuns = [await bulk(base), await bulk({ ...base, pace: checked.pace ?? base.rate, paceBurst: checked.paceBurst })];
    show(bulkSection(bulkRuns, command));
  }
  if (selected.has('storage') && warmOutcome && bulkRuns) {
    show(storageSection(warmOutcome.storage, bulkRuns[0]!.storage));
  }
  // The cost prices the logs as deployed (INFO): a warm run at another level would price other logs.
  if (warmOutcome && checked.logLevel === 'INFO') show(costSection(warmOutcome, { verifikLatencyMs: checked.verifikLatency }));
  else if (warmOutcome)
    out(`(No cost table: the warm run logged at ${checked.logLevel}, and the cost prices the logs as deployed, at INFO.)\n`);
  const totalSeconds = Math.round((performance.now() - started) / 1000);
  out(`Total: ${totalSeconds} s.`);
  if (values.json) {
    const saved: SavedRun = { command, machine: machine(), startedAt, totalSeconds, sections };
    // Formatted as prettier would, so that a saved run committed under bench/results/ passes `npm run format:check`.
    const style = await resolveConfig(fromRoot('bench/results/saved.json'));
    await writeFile(values.json, await format(JSON.stringify(saved), { ...style, parser: 'json' }));
    out(`Figures written to ${values.json}.`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
