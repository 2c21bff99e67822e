import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { build } from 'esbuild';
import { DynamoAuditStore } from '../lambda/audit/dynamo-audit-store';
import { requestFingerprint } from '../lambda/erasure/fingerprint';
import { LAMBDA_ENTRIES, buildBundle, newBundleDir, removeBundleDir, type Bundle } from './bundle';
import { DONE_MARKER } from './cold-marker';
import { bytes, median, ms, quantile, ratio, table, type Section } from './report';
import { fromRoot } from './paths';
import { startServices, type BenchServices } from './services';

/** The reference handlers' entries (bench/references.ts). */
export const BASELINE_ENTRY = 'bench/baseline-entry.ts';
export const SAME_CALLS_ENTRY = 'bench/same-calls-entry.ts';

type EventKind = 'http' | 'invoke' | 'sqs';

interface Subject {
  bundle: Bundle;
  event: EventKind;
  /** What the row is. */
  label: string;
  kind: 'baseline' | 'reference' | 'function';
}

export interface ColdRun {
  /** Spawn to the runner's line, measured in the parent. */
  totalMs: number;
  /** Process start to the runner's first statement (Node's own boot). */
  bootMs: number;
  importMs: number;
  handlerMs: number;
}

export interface ColdOptions {
  /** Fresh processes per bundle (at least 20). */
  samples: number;
  /** Extra node flags for the children, e.g. `--enable-source-maps`. */
  nodeFlags?: string[];
  /** Print a line per round. */
  verbose?: boolean;
}

/**
 * Cold start: each function bundle as the stack builds it, and the baseline bundled the same way,
 * started in fresh Node processes (round-robin, so drift on a noisy machine hits all alike) until
 * the handler has answered one real request against loopback services in this process.
 */
export async function coldStart(options: ColdOptions): Promise<Section> {
  const bench = await prepareColdBench();
  try {
    const { subjects } = bench;
    const runs = new Map<string, ColdRun[]>(subjects.map((s) => [s.bundle.name, []]));
    const problems: string[] = [];
    const flags = options.nodeFlags ?? [];

    // One unmeasured round: the bundles into the page cache, as on a warm Lambda host.
    for (const subject of subjects) await runOnce(bench, subject, { nodeFlags: flags }, []);
    for (let round = 0; round < options.samples; round++) {
      // Rotate the order every round so that no bundle always runs right after another.
      const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
      for (const subject of order) {
        const run = await runOnce(bench, subject, { nodeFlags: flags }, problems);
        if (run) runs.get(subject.bundle.name)!.push(run);
      }
      if (options.verbose) process.stderr.write(`cold: round ${round + 1}/${options.samples}\n`);
    }
    return report(subjects, runs, problems, options);
  } finally {
    await bench.close();
  }
}

interface ColdBench {
  runner: string;
  services: BenchServices;
  subjects: Subject[];
  close(): Promise<void>;
}

async function prepareColdBench(): Promise<ColdBench> {
  const dir = await newBundleDir();
  const services = await startServices();
  try {
    const functions = Object.entries(LAMBDA_ENTRIES);
    const [baseline, sameCalls, ...built] = await Promise.all([
      buildBundle('baseline', BASELINE_ENTRY, dir),
      buildBundle('same-calls', SAME_CALLS_ENTRY, dir),
      ...functions.map(([name, entry]) => buildBundle(name, entry, dir)),
    ]);
    const runner = await buildRunner(dir);
    const eventFor = (name: string): EventKind => (name === 'worker' ? 'sqs' : name === 'invoke' ? 'invoke' : 'http');
    const subjects: Subject[] = [
      { bundle: baseline!, event: 'http', label: 'baseline: fetch + PutItem (bench/references.ts)', kind: 'baseline' },
      ...built.map((bundle): Subject => ({
        bundle,
        event: eventFor(bundle.name),
        label: `${bundle.name} (${bundle.entry})`,
        kind: 'function',
      })),
      {
        bundle: sameCalls!,
        event: 'http',
        label: 'same calls as http, raw SDK (bench/references.ts)',
        kind: 'reference',
      },
    ];
    return {
      runner,
      services,
      subjects,
      close: async () => {
        await services.close();
        await removeBundleDir(dir);
      },
    };
  } catch (error) {
    await services.close();
    await removeBundleDir(dir);
    throw error;
  }
}

/** The runner (bench/cold-runner.ts), bundled on its own into `dir`. */
export async function buildRunner(dir: string): Promise<string> {
  const outfile = path.join(dir, 'runner.mjs');
  await build({
    entryPoints: [fromRoot('bench/cold-runner.ts')],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

const newErasureId = () => `cold_${randomBytes(12).toString('base64url')}`;

async function runOnce(
  { runner, services }: ColdBench,
  subject: Subject,
  { nodeFlags = [] }: { nodeFlags?: string[] },
  problems: string[],
): Promise<ColdRun | undefined> {
  const person = services.sandbox.createPerson();
  const erasureId = newErasureId();
  if (subject.event === 'sqs') await recordForWorker(services, erasureId, person);
  const env = {
    ...services.env,
    BENCH_BUNDLE: subject.bundle.file,
    BENCH_EVENT: subject.event,
    BENCH_PERSON: person,
    BENCH_ERASURE_ID: erasureId,
  };
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, runner], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = await new Promise<{ at: number; line: string } | { error: string }>((resolve) => {
    let buffered = '';
    let stderr = '';
    let done = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (done) return;
      buffered += chunk;
      const at = buffered.indexOf(DONE_MARKER);
      if (at === -1) return;
      const end = buffered.indexOf('\n', at);
      if (end === -1) return;
      done = true;
      resolve({ at: performance.now(), line: buffered.slice(at + DONE_MARKER.length, end) });
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => {
      if (!done) resolve({ error: `exited ${code} without answering: ${stderr.slice(0, 500)}` });
    });
  });
  await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('close', () => resolve())));
  if ('error' in result) {
    problems.push(`${subject.bundle.name}: ${result.error}`);
    return undefined;
  }
  const reported = JSON.parse(result.line) as {
    status: number;
    runnerStartMs: number;
    importMs: number;
    handlerMs: number;
    error?: string;
  };
  if (reported.status !== 200 || services.sandbox.has(person)) {
    problems.push(
      `${subject.bundle.name}: status ${reported.status}${reported.error ? ` (${reported.error})` : ''}, person still at Verifik: ${services.sandbox.has(person)}`,
    );
    return undefined;
  }
  return {
    totalMs: result.at - started,
    bootMs: reported.runnerStartMs,
    importMs: reported.importMs,
    handlerMs: reported.handlerMs,
  };
}

/** The worker's first request is a retry message for an erasure whose person is still pending. */
async function recordForWorker(services: BenchServices, erasureId: string, personId: string) {
  const store = new DynamoAuditStore(services.client, services.tableName);
  const receivedAt = new Date();
  await store.createRequest({
    erasureId,
    personIds: [personId],
    fingerprint: requestFingerprint({ personIds: [personId], reason: 'gdpr-art-17', requestedBy: 'bench' }),
    receivedAt: receivedAt.toISOString(),
    expiresAt: Math.floor(receivedAt.getTime() / 1000) + 86_400,
    reason: 'gdpr-art-17',
    requestedBy: 'bench',
  });
}

function report(subjects: Subject[], runs: Map<string, ColdRun[]>, problems: string[], options: ColdOptions): Section {
  const totals = (name: string) => (runs.get(name) ?? []).map((r) => r.totalMs);
  const baseP50 = median(totals('baseline'));
  const baseP90 = quantile(totals('baseline'), 0.9);
  const rows = subjects.map(({ bundle, label, kind }) => {
    const own = runs.get(bundle.name) ?? [];
    const p50 = median(totals(bundle.name));
    const p90 = quantile(totals(bundle.name), 0.9);
    return [
      label,
      bytes(bundle.bytes),
      ms(p50),
      ms(p90),
      kind === 'baseline' ? '1.00×' : ratio(p50, baseP50),
      kind === 'baseline' ? '1.00×' : ratio(p90, baseP90),
      ms(median(own.map((r) => r.bootMs))),
      ms(median(own.map((r) => r.importMs))),
      ms(median(own.map((r) => r.handlerMs))),
      String(own.length),
    ];
  });
  const functionRatios = subjects
    .filter((s) => s.kind === 'function')
    .map((s) => [s.bundle.name, median(totals(s.bundle.name)) / baseP50] as const);
  const worst = Math.max(...functionRatios.map(([, r]) => r));
  return {
    title: 'Cold start',
    command: 'npm run bench -- cold',
    samples: `${options.samples} fresh processes per bundle, round-robin (+1 unmeasured round)${options.nodeFlags?.length ? `, node ${options.nodeFlags.join(' ')}` : ''}`,
    table: table(
      [
        'bundle',
        'size',
        'cold p50',
        'cold p90',
        '× baseline p50',
        '× baseline p90',
        'node boot p50',
        'import p50',
        'first request p50',
        'runs',
      ],
      rows,
    ),
    targets: [
      [
        `cold start p50 within 1.3× of the baseline (${functionRatios.map(([n, r]) => `${n} ${r.toFixed(2)}×`).join(', ')})`,
        worst <= 1.3,
      ],
    ],
    notes: [
      'cold = from spawning a fresh `process.execPath` to the line the runner prints once the handler has answered its first request, timed in the parent; node boot (process start to the runner’s first statement), import and first request are timed in the child with performance.now() and add up to a little less.',
      'Every bundle is built with LAMBDA_BUNDLE_OPTIONS (bench/bundle.ts), the AWS SDK inside; size is the .mjs alone (the .map is separate). Each run erases a fresh sandbox person against dynalite, the sandbox and a fake SQS in the bench process, on loopback.',
      'First requests: http, baseline and same-calls = a signed POST /erasures (API Gateway v2 event); invoke = a direct invocation; worker = an SQS retry message for an erasure recorded beforehand with its person pending.',
      ...(problems.length ? [`failed runs (left out): ${problems.length}: ${problems.slice(0, 3).join('; ')}`] : []),
    ],
  };
}
