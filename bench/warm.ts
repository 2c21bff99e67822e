import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BASELINE_ENTRY, LAMBDA_ENTRIES, SAME_CALLS_ENTRY, buildBundle, newBundleDir, removeBundleDir } from './bundle';
import { buildRunner, runFresh, type RunnerReport } from './fresh-process';
import { fromRoot } from './paths';
import { mib, ms, quantile, ratio, table, type Section } from './report';
import { startServices, type BenchServices } from './services';
import type { CountedRun } from './storage';
import { SIDES, type Side, type WarmPlan, type WarmResult } from './warm-plan';

export interface WarmOptions {
  /** Measured requests per side (at least 5,000). */
  requests: number;
  blockSize: number;
  warmup: number;
  /** Also measure each side's memory alone in a fresh process. */
  memoryAlone: boolean;
  /** The handler's POWERTOOLS_LOG_LEVEL (INFO as deployed; WARN leaves out its INFO lines). */
  logLevel: string;
  verbose?: boolean;
}

export interface WarmOutcome {
  section: Section;
  /** DynamoDB use of the measured requests, per side (one person per request). */
  storage: Record<Side, CountedRun>;
  /** What the cost section prices: p50 latency and CPU per request (ms), RSS alone (bytes), log bytes per request. */
  figures: {
    p50Ms: Record<Side, number>;
    cpuMs: Record<Side, number>;
    rssBytes?: Record<Side, number>;
    logBytesPerRequest: number;
  };
}

/** Requests per handler traced for their round trips, after the measured ones. */
const TRACED_REQUESTS = 20;
/** Issue target: sequential round trips before the answer of a one-person request. */
const CRITICAL_PATH_TARGET = 4;

const ENTRIES: Record<Side, string> = { http: LAMBDA_ENTRIES.http, sameCalls: SAME_CALLS_ENTRY, baseline: BASELINE_ENTRY };

/**
 * The memory of each handler alone, as deployed: its bundle in a fresh Node process (the cold
 * start's runner, no tsx, nothing else loaded) serving `requests` signed requests one after the other.
 */
async function memoryAlone(services: BenchServices, requests: number): Promise<Record<Side, RunnerReport>> {
  const dir = await newBundleDir();
  try {
    const runner = await buildRunner(dir);
    const result = {} as Record<Side, RunnerReport>;
    for (const side of SIDES) {
      const bundle = await buildBundle(side, ENTRIES[side], dir);
      const personsFile = path.join(dir, `${side}-persons.txt`);
      await writeFile(personsFile, Array.from({ length: requests - 1 }, () => services.sandbox.createPerson()).join('\n'));
      const { report } = await runFresh(runner, {
        ...services.env,
        BENCH_BUNDLE: bundle.file,
        BENCH_EVENT: 'http',
        BENCH_PERSON: services.sandbox.createPerson(),
        BENCH_ERASURE_ID: `alone_${side}_${process.pid}`,
        BENCH_PERSONS_FILE: personsFile,
      });
      result[side] = report;
    }
    return result;
  } finally {
    await removeBundleDir(dir);
  }
}

/**
 * Warm overhead: signed requests of one person each through the real HTTP handler, one after the
 * other in one process, beside the two references in the same process (alternating blocks).
 */
export async function warm(options: WarmOptions): Promise<WarmOutcome> {
  const services = await startServices();
  services.env.POWERTOOLS_LOG_LEVEL = options.logLevel;
  try {
    const blocksPerSide = Math.ceil(options.requests / options.blockSize);
    const perSide = options.warmup + blocksPerSide * options.blockSize + TRACED_REQUESTS;
    const persons = () => Array.from({ length: perSide }, () => services.sandbox.createPerson());
    const plan: WarmPlan = {
      warmup: options.warmup,
      blockSize: options.blockSize,
      blocksPerSide,
      traced: TRACED_REQUESTS,
      persons: { http: persons(), sameCalls: persons(), baseline: persons() },
    };

    if (options.verbose) process.stderr.write(`warm: ${perSide} requests per handler, interleaved\n`);
    const all = await runChild(services, plan);
    let alone: Record<Side, RunnerReport> | undefined;
    if (options.memoryAlone) {
      if (options.verbose) process.stderr.write('warm: each handler alone, bundled, for its memory\n');
      alone = await memoryAlone(services, perSide);
    }
    const { sides } = all.result;
    const per = <T>(value: (side: Side) => T) => Object.fromEntries(SIDES.map((side) => [side, value(side)])) as Record<Side, T>;
    return {
      section: report(options, all, alone),
      figures: {
        p50Ms: per((side) => quantile(sides[side].latenciesMs, 0.5)),
        cpuMs: per((side) => (sides[side].cpuUserUs + sides[side].cpuSystemUs) / 1000 / sides[side].requests),
        rssBytes: alone && per((side) => alone![side].rss),
        logBytesPerRequest: all.stdoutBytes / (options.warmup + sides.http.requests),
      },
      storage: {
        http: { counts: sides.http.storage, persons: sides.http.requests },
        sameCalls: { counts: sides.sameCalls.storage, persons: sides.sameCalls.requests },
        baseline: { counts: sides.baseline.storage, persons: sides.baseline.requests },
      },
    };
  } finally {
    await services.close();
  }
}

interface ChildRun {
  result: WarmResult;
  /** What the handlers wrote to stdout (the real one's logs and metrics). */
  stdoutBytes: number;
  stdoutLines: number;
}

/** The handlers' process (bench/warm-child.ts), configured by the services' environment like a Lambda. */
async function runChild(services: BenchServices, plan: WarmPlan): Promise<ChildRun> {
  // BENCH_CPU_PROF=DIR: the handler process writes a V8 CPU profile there (`npm run bench:profile -- DIR` sums it by package).
  const profileDir = process.env.BENCH_CPU_PROF;
  const child = fork(fromRoot('bench/warm-child.ts'), [], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...services.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: profileDir ? [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${profileDir}`] : process.execArgv,
  });
  let stdoutBytes = 0;
  let stdoutLines = 0;
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length;
    for (const byte of chunk) if (byte === 10) stdoutLines += 1;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
  const answer = new Promise<{ ok: true; result: WarmResult } | { ok: false; error: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as never));
    child.once('exit', (code) => reject(new Error(`warm child exited ${code} without a result: ${stderr}`)));
  });
  child.send(plan);
  const message = await answer;
  await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  if (!message.ok) throw new Error(`warm child failed: ${message.error}`);
  return { result: message.result, stdoutBytes, stdoutLines };
}

const NAMES: Record<Side, string> = {
  http: 'http (createHttpApp, production wiring)',
  sameCalls: 'same calls, raw SDK (bench/references.ts)',
  baseline: 'baseline (fetch + PutItem)',
};

function report(options: WarmOptions, all: ChildRun, alone: Record<Side, RunnerReport> | undefined): Section {
  const { sides } = all.result;
  const p = (side: Side, q: number) => quantile(sides[side].latenciesMs, q);
  const cpu = (side: Side) => (sides[side].cpuUserUs + sides[side].cpuSystemUs) / 1000 / sides[side].requests;
  const rss = (side: Side) => alone?.[side].rss;
  const httpServed = options.warmup + sides.http.requests;
  const row = (side: Side) => {
    const own = rss(side);
    const base = rss('baseline');
    return [
      NAMES[side],
      ms(p(side, 0.5), 2),
      ms(p(side, 0.99), 2),
      ratio(p(side, 0.5), p('baseline', 0.5)),
      ratio(p(side, 0.99), p('baseline', 0.99)),
      ms(cpu(side), 3),
      ratio(cpu(side), cpu('baseline')),
      own === undefined ? 'n/a' : mib(own),
      own === undefined || base === undefined ? 'n/a' : ratio(own, base),
      String(sides[side].requests),
      String(sides[side].failures.length),
    ];
  };
  const p50Ratio = p('http', 0.5) / p('baseline', 0.5);
  const sameP50 = p('http', 0.5) / p('sameCalls', 0.5);
  const sameCpu = cpu('http') / cpu('sameCalls');
  const trips = all.result.roundTrips;
  const mostTrips = Math.max(...trips.http.counts);
  const failures = SIDES.flatMap((side) => sides[side].failures);
  const answered = failures.length === 0;
  const unanswered = answered ? '' : `; not comparable: ${failures.length} requests failed`;
  return {
    title: 'Warm overhead',
    command: `npm run bench -- warm${options.logLevel === 'INFO' ? '' : ` --log-level ${options.logLevel}`}`,
    samples: `${sides.http.requests} signed requests of 1 person per handler, sequential, in blocks of ${options.blockSize} rotating between the handlers, after ${options.warmup} unmeasured each`,
    table: table(
      [
        'handler',
        'p50',
        'p99',
        '× baseline p50',
        '× baseline p99',
        'CPU / request',
        '× baseline CPU',
        'RSS after (alone)',
        '× baseline RSS',
        'requests',
        'failed',
      ],
      SIDES.map(row),
    ),
    // A handler that failed requests did less work than it should have: its times prove nothing.
    targets: [
      [`warm p50 within 1.2× of the baseline (${p50Ratio.toFixed(2)}×${unanswered})`, p50Ratio <= 1.2 && answered],
      [
        `warm overhead within 1.3× of the same calls made raw, p50 and CPU (${sameP50.toFixed(2)}×, ${sameCpu.toFixed(2)}×${unanswered})`,
        sameP50 <= 1.3 && sameCpu <= 1.3 && answered,
      ],
      [
        `at most ${CRITICAL_PATH_TARGET} sequential round trips before the answer of a one-person request (http: ${mostTrips} at most in ${trips.http.counts.length} traced${unanswered})`,
        mostTrips <= CRITICAL_PATH_TARGET && answered,
      ],
    ],
    notes: [
      ...SIDES.map(
        (side) =>
          `Round trips before the answer, ${side}: ${Math.min(...trips[side].counts)}–${Math.max(...trips[side].counts)} over ${trips[side].counts.length} traced requests; ${trips[side].typicalCount} of them: ${trips[side].typical} (calls at once share a round; traced through Node's diagnostics channels for node:http and fetch).`,
      ),
      `http against the same calls made raw: p50 ${ratio(p('http', 0.5), p('sameCalls', 0.5))}, p99 ${ratio(p('http', 0.99), p('sameCalls', 0.99))}, CPU ${ratio(cpu('http'), cpu('sameCalls'))}. The same-calls row makes the handler's calls in its order (below), with raw clients.`,
      `Latency: handler call to answer, in-process, API Gateway v2 events signed beforehand. The real handler is built as lambda/compose.ts builds it in production (SqsRetryQueue to a fake SQS, Powertools logger at ${options.logLevel}${options.logLevel === 'INFO' ? ', as deployed,' : ' (deployed: INFO)'} and metrics writing to stdout, a pipe the parent drains).`,
      'dynalite, the Verifik sandbox (answers at once) and the fake SQS run in the parent bench process on loopback, so CPU time and RSS are the handler process’s own: handlers, AWS SDK clients, logging and the building of events; dynalite’s CPU is not in these figures.',
      `CPU / request: process.cpuUsage() (user + system) over each handler’s measured blocks. RSS after: process.memoryUsage().rss of a fresh Node process running that handler’s bundle alone (as cold start runs it: no tsx, nothing else loaded) after serving ${options.warmup + sides.http.requests} such requests one after the other${alone ? ` (${SIDES.map((side) => `${side} heap ${mib(alone[side].heapUsed)}`).join(', ')})` : ' (not measured this run)'}; the tsx process that ran all three ended at ${mib(all.result.rss)}.`,
      ...SIDES.filter((side) => alone && alone[side].status !== 200).map(
        (side) => `${side} alone: a request answered ${alone![side].status}`,
      ),
      `The real handler writes ${(all.stdoutLines / httpServed).toFixed(1)} lines, ${Math.round(all.stdoutBytes / httpServed)} bytes per request to stdout (Powertools JSON logs and one EMF metrics line); the references write none.`,
      ...failures.slice(0, 3).map((f) => `failure: ${f}`),
    ],
  };
}
