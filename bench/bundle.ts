import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';
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

export type FunctionName = keyof typeof LAMBDA_ENTRIES;

export interface Bundle {
  name: string;
  entry: string;
  /** The bundle's .mjs file. */
  file: string;
  bytes: number;
  mapBytes: number;
  /** Proposed changes that changed the source of this bundle (what-if bundles only). */
  applied: string[];
}

/** A fresh directory under the OS temp dir for bundles (never inside the repository). */
export const newBundleDir = () => mkdtemp(path.join(tmpdir(), 'verifik-erasure-bench-'));

export const removeBundleDir = (dir: string) => rm(dir, { recursive: true, force: true });

/**
 * A change to lambda/ proposed by the benchmarks, applied to the source text at bundling time only
 * (into the temp dir; the repository is not touched), so that its effect can be measured.
 */
export interface ProposedChange {
  name: string;
  description: string;
  /** Files under lambda/ it rewrites. */
  filter: RegExp;
  rewrite(source: string): string;
}

export const PROPOSED_CHANGES: ProposedChange[] = [
  {
    name: 'zod-namespace-import',
    description:
      "`import * as z from 'zod'` instead of `import { z } from 'zod'` in the 4 files that use zod: the same API, but esbuild can then drop the ~40 locales and the JSON-schema converters it cannot see are unused behind the `z` re-export",
    filter: /\/lambda\/.*\.ts$/,
    rewrite: (source) => source.replace(/import \{ z \} from 'zod';/g, "import * as z from 'zod';"),
  },
];

function proposedChangesPlugin(changes: readonly ProposedChange[], applied: Set<string>): Plugin {
  return {
    name: 'bench-proposed-changes',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, async (args) => {
        const relevant = changes.filter((change) => change.filter.test(args.path));
        if (relevant.length === 0) return undefined;
        let contents = await readFile(args.path, 'utf8');
        for (const change of relevant) {
          const changed = change.rewrite(contents);
          if (changed !== contents) applied.add(change.name);
          contents = changed;
        }
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * Builds one entry (relative to the repository root) with LAMBDA_BUNDLE_OPTIONS into
 * `outDir/<name>/index.mjs` (+ .map); with `changes`, a what-if bundle of proposed changes.
 */
export async function buildBundle(
  name: string,
  entry: string,
  outDir: string,
  changes: readonly ProposedChange[] = [],
): Promise<Bundle> {
  const dir = path.join(outDir, name);
  const applied = new Set<string>();
  await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    entryPoints: { index: fromRoot(entry) },
    outdir: dir,
    logLevel: 'error',
    plugins: changes.length ? [proposedChangesPlugin(changes, applied)] : [],
  });

  const file = path.join(dir, 'index.mjs');
  const [code, map] = await Promise.all([stat(file), stat(`${file}.map`)]);
  return { name, entry, file, bytes: code.size, mapBytes: map.size, applied: [...applied] };
}
