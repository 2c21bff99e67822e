import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { LAMBDA_BUNDLING } from '../infra/lambda-bundling';
import { fromRoot } from './paths';

/**
 * esbuild options for every Lambda bundle, from LAMBDA_BUNDLING (infra/lambda-bundling.ts), the
 * description the stack's NodejsFunctions build from too: what the benchmarks measure is what is
 * deployed. No externals: the AWS SDK is inside.
 */
export const LAMBDA_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: LAMBDA_BUNDLING.target,
  format: LAMBDA_BUNDLING.format,
  minify: LAMBDA_BUNDLING.minify,
  sourcemap: LAMBDA_BUNDLING.sourceMap,
  sourcesContent: LAMBDA_BUNDLING.sourcesContent,
  mainFields: [...LAMBDA_BUNDLING.mainFields],
  banner: { js: LAMBDA_BUNDLING.banner },
  external: [],
  outExtension: { '.js': '.mjs' },
} as const satisfies BuildOptions;

/** The Lambda entries of the stack, by function. */
export const LAMBDA_ENTRIES = {
  http: 'lambda/handlers/http.ts',
  worker: 'lambda/handlers/worker.ts',
  invoke: 'lambda/handlers/invoke.ts',
} as const;

/** The reference handlers' entries (bench/references.ts), bundled the same way. */
export const BASELINE_ENTRY = 'bench/baseline-entry.ts';
export const SAME_CALLS_ENTRY = 'bench/same-calls-entry.ts';

export interface Bundle {
  name: string;
  entry: string;
  /** The bundle's .mjs file. */
  file: string;
  bytes: number;
}

/** A fresh directory under the OS temp dir for bundles (never inside the repository). */
export const newBundleDir = () => mkdtemp(path.join(tmpdir(), 'verifik-erasure-bench-'));

export const removeBundleDir = (dir: string) => rm(dir, { recursive: true, force: true });

/** Builds one entry (relative to the repository root) with LAMBDA_BUNDLE_OPTIONS into `outDir/<name>/index.mjs` (+ .map). */
export async function buildBundle(name: string, entry: string, outDir: string): Promise<Bundle> {
  const dir = path.join(outDir, name);
  await build({ ...LAMBDA_BUNDLE_OPTIONS, entryPoints: { index: fromRoot(entry) }, outdir: dir, logLevel: 'error' });
  const file = path.join(dir, 'index.mjs');
  return { name, entry, file, bytes: (await stat(file)).size };
}
