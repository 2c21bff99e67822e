import { randomBytes } from 'node:crypto';
import { DynamoAuditStore } from '../lambda/audit/dynamo-audit-store';
import { requestFingerprint } from '../lambda/erasure/fingerprint';
import {
  BASELINE_ENTRY,
  LAMBDA_ENTRIES,
  SAME_CALLS_ENTRY,
  buildBundle,
  newBundleDir,
  removeBundleDir,
  type Bundle,
} from './bundle';
import { buildRunner, runFresh } from './fresh-process';
import { bytes, median, ms, quantile, ratio, table, type Section } from './report';
import { startServices, type BenchServices } from './services';
import { dueDateFor } from '../lambda/erasure/statutory-clock';

interface Subject {
  bundle: Bundle;
  /** The first request: a signed POST /erasures, a direct invocation or an SQS retry message. */
  event: 'http' | 'invoke' | 'sqs';
  /** What the row is. */
  label: string;
  kind: 'baseline' | 'reference' | 'function';
}

interface ColdRun {
  /** Spawn to the runner's report, measured in the parent. */
  totalMs: number;
  bootMs: number;
  importMs: number;
  handlerMs: number;
}

export interface ColdOptions {
  /** Fresh processes per bundle (at least 20). */
  samples: number;
  /** Print a line per round. */
  verbose?: boolean;
}

export interface ColdOutcome {
  section: Section;
  /** p50 of each bundle's cold start, for the cold start by library (bench/import-cost.ts). */
  figures: { baselineMs: number; sameCallsMs: number; functions: Record<string, number> };
}

/**
 * Cold start: each function bundle as the stack builds it, and the two references bundled the same
 * way, started in fresh Node processes (round-robin, so drift on a noisy machine hits all alike)
 * until the handler has answered one real request against loopback services in this process.
 */
export async function coldStart(options: ColdOptions): Promise<ColdOutcome> {
  const dir = await newBundleDir();
  const services = await startServices();
  try {
    const [baseline, sameCalls, ...functions] = await Promise.all([
      buildBundle('baseline', BASELINE_ENTRY, dir),
      buildBundle('same-calls', SAME_CALLS_ENTRY, dir),
      ...Object.entries(LAMBDA_ENTRIES).map(([name, entry]) => buildBundle(name, entry, dir)),
    ]);
    const runner = await buildRunner(dir);
    const subjects: Subject[] = [
      { bundle: baseline!, event: 'http', label: 'baseline: fetch + PutItem (bench/references.ts)', kind: 'baseline' },
      ...functions.map((bundle): Subject => ({
        bundle,
        event: bundle.name === 'worker' ? 'sqs' : bundle.name === 'invoke' ? 'invoke' : 'http',
        label: `${bundle.name} (${bundle.entry})`,
        kind: 'function',
      })),
      { bundle: sameCalls!, event: 'http', label: 'same calls as http, raw SDK (bench/references.ts)', kind: 'reference' },
    ];
    const runs = new Map<string, ColdRun[]>(subjects.map((s) => [s.bundle.name, []]));
    const problems: string[] = [];

    // One unmeasured round: the bundles into the page cache, as on a warm Lambda host.
    for (const subject of subjects) await runOnce(services, runner, subject, []);
    for (let round = 0; round < options.samples; round++) {
      // Rotate the order every round so that no bundle always runs right after another.
      const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
      for (const subject of order) {
        const run = await runOnce(services, runner, subject, problems);
        if (run) runs.get(subject.bundle.name)!.push(run);
      }
      if (options.verbose) process.stderr.write(`cold: round ${round + 1}/${options.samples}\n`);
    }
    const p50 = (name: string) => median((runs.get(name) ?? []).map((r) => r.totalMs));
    const byFunction = Object.fromEntries(
      subjects.filter((s) => s.kind === 'function').map((s) => [s.bundle.name, p50(s.bundle.name)]),
    );
    return {
      section: report(subjects, runs, problems, options),
      figures: { baselineMs: p50(baseline!.name), sameCallsMs: p50(sameCalls!.name), functions: byFunction },
    };
  } finally {
    await services.close();
    await removeBundleDir(dir);
  }
}

/** One cold start that erases a fresh sandbox person; a failed run goes to `problems` instead. */
async function runOnce(
  services: BenchServices,
  runner: string,
  subject: Subject,
  problems: string[],
): Promise<ColdRun | undefined> {
  const person = services.sandbox.createPerson();
  const erasureId = `cold_${randomBytes(12).toString('base64url')}`;
  if (subject.event === 'sqs') await recordForWorker(services, erasureId, person);
  try {
    const { report: reported, totalMs } = await runFresh(runner, {
      ...services.env,
      BENCH_BUNDLE: subject.bundle.file,
      BENCH_EVENT: subject.event,
      BENCH_PERSON: person,
      BENCH_ERASURE_ID: erasureId,
    });
    if (reported.status !== 200 || services.sandbox.has(person)) {
      const error = reported.error ? ` (${reported.error})` : '';
      throw new Error(`status ${reported.status}${error}, person still at Verifik: ${services.sandbox.has(person)}`);
    }
    return { totalMs, bootMs: reported.bootMs, importMs: reported.importMs, handlerMs: reported.handlerMs };
  } catch (error) {
    problems.push(`${subject.bundle.name}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
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
    dueAt: dueDateFor(receivedAt.toISOString()),
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
    samples: `${options.samples} fresh processes per bundle, round-robin (+1 unmeasured round)`,
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
      'cold = from spawning a fresh `process.execPath` to the report the runner writes once the handler has answered its first request, timed in the parent; node boot (process start to the runner’s first statement), import and first request are timed in the child with performance.now() and add up to a little less.',
      'Every bundle is built with LAMBDA_BUNDLE_OPTIONS (bench/bundle.ts), the AWS SDK inside; size is the .mjs alone (the .map is separate). Each run erases a fresh sandbox person against dynalite, the sandbox and a fake SQS in the bench process, on loopback.',
      'First requests: http, baseline and same-calls = a signed POST /erasures (API Gateway v2 event); invoke = a direct invocation; worker = an SQS retry message for an erasure recorded beforehand with its person pending.',
      ...(problems.length ? [`failed runs (left out): ${problems.length}: ${problems.slice(0, 3).join('; ')}`] : []),
    ],
  };
}
