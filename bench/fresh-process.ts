import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { build } from 'esbuild';
import { fromRoot } from './paths';

/** What the runner (bench/cold-runner.ts) reports on file descriptor 3 once its handler has answered. */
export interface RunnerReport {
  /** 200 when every request was answered 200 (or the worker's batch had no failure). */
  status: number;
  error?: string;
  /** Requests the handler served. */
  served: number;
  rss: number;
  heapUsed: number;
  /** Process start to the runner's first statement: Node's own boot. */
  bootMs: number;
  importMs: number;
  /** The first request. */
  handlerMs: number;
}

/** The runner, bundled on its own into `dir`. */
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

/**
 * Runs a bundle as the Lambda runtime starts one: `runner` in a fresh Node process configured by
 * `env` (BENCH_* for the runner, the rest for the handler). `totalMs` is from the spawn to the
 * runner's report, timed here. The handler's logs on stdout are drained and dropped.
 */
export async function runFresh(runner: string, env: Record<string, string>): Promise<{ report: RunnerReport; totalMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [runner], { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  child.stdout!.resume();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
  let reported = '';
  let reportedAt: number | undefined;
  (child.stdio[3] as Readable).setEncoding('utf8').on('data', (chunk: string) => {
    reported += chunk;
    if (reportedAt === undefined && reported.includes('\n')) reportedAt = performance.now();
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (reportedAt === undefined) throw new Error(`the runner exited ${code} without a report: ${stderr.slice(0, 500)}`);
  return { report: JSON.parse(reported) as RunnerReport, totalMs: reportedAt - started };
}
