/**
 * `npm run bench -- imports`: what each library our functions are made of adds to a cold start,
 * beyond what the same-calls reference (bench/references.ts) loads, measured in fresh Node processes.
 * It apportions the cold-start target: how much of a function's start is its libraries, and which.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { LAMBDA_BUNDLE_OPTIONS, LAMBDA_ENTRIES, newBundleDir, removeBundleDir } from './bundle';
import { fromRoot } from './paths';
import { bytes, median, ms, table, type Section } from './report';

/** One library as our functions use it at start: its imports, and an expression using it. */
interface Part {
  name: string;
  /** What the functions do with it at start, in words. */
  does: string;
  /** The package whose presence in a function's bundle means the function loads this part. */
  package: string;
  imports: string;
  use: string;
}

/** What the same-calls reference loads (bench/references.ts): every row is measured over it. */
const BASE: Part[] = [
  {
    name: 'AWS SDK: DynamoDB and SQS clients',
    does: 'both clients built',
    package: '@aws-sdk/client-dynamodb',
    imports: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport { SQSClient } from '@aws-sdk/client-sqs';`,
    use: `new DynamoDBClient({ region: 'us-east-1' }), new SQSClient({ region: 'us-east-1' })`,
  },
  {
    name: "Node's fetch",
    does: 'one Request built (loads undici, as a first fetch does)',
    package: '',
    imports: '',
    use: `new Request('http://127.0.0.1/')`,
  },
];

/** What our functions load beyond the same-calls reference. */
export const PARTS: Part[] = [
  {
    name: 'DynamoDB document client',
    does: 'DynamoDBDocumentClient.from the client',
    package: '@aws-sdk/lib-dynamodb',
    imports: `import { DynamoDBClient as DocBase } from '@aws-sdk/client-dynamodb';\nimport { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';`,
    use: `DynamoDBDocumentClient.from(new DocBase({ region: 'us-east-1' }))`,
  },
  {
    name: 'Secrets Manager (Powertools Parameters)',
    does: 'a SecretsProvider',
    package: '@aws-sdk/client-secrets-manager',
    imports: `import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';`,
    use: `new SecretsProvider({ clientConfig: { region: 'us-east-1' } })`,
  },
  {
    name: 'zod',
    does: 'one object schema like the erasure body, parsed once',
    package: 'zod',
    imports: `import * as z from 'zod';`,
    use: `z.object({ personIds: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)).min(1).max(100), reason: z.enum(['gdpr-art-17', 'other']), requestedBy: z.string().min(1).max(200).optional() }).strict().parse({ personIds: ['p1'], reason: 'gdpr-art-17' })`,
  },
  {
    name: 'ky',
    does: 'ky.create with a prefix',
    package: 'ky',
    imports: `import ky from 'ky';`,
    use: `ky.create({ prefix: 'http://127.0.0.1/', redirect: 'manual', headers: { accept: 'application/json' } })`,
  },
  {
    name: 'Powertools Logger',
    does: 'a Logger, one INFO line',
    package: '@aws-lambda-powertools/logger',
    imports: `import { Logger } from '@aws-lambda-powertools/logger';`,
    use: `new Logger({ serviceName: 'probe' }).info('started')`,
  },
  {
    name: 'Powertools Metrics',
    does: 'a Metrics, one metric published (one EMF line)',
    package: '@aws-lambda-powertools/metrics',
    imports: `import { Metrics } from '@aws-lambda-powertools/metrics';`,
    use: `(() => { const m = new Metrics({ namespace: 'Probe', serviceName: 'probe' }); m.addMetric('started', 'Count', 1); m.publishStoredMetrics(); })()`,
  },
  {
    name: 'middy core',
    does: 'one handler wrapped',
    package: '@middy/core',
    imports: `import middy from '@middy/core';`,
    use: `middy().handler(async () => 0)`,
  },
  {
    name: 'middy HTTP middlewares and router',
    does: 'header normalizer, JSON body parser and router, one route',
    package: '@middy/http-router',
    imports: `import httpMiddy from '@middy/core';\nimport headers from '@middy/http-header-normalizer';\nimport json from '@middy/http-json-body-parser';\nimport router from '@middy/http-router';`,
    use: `httpMiddy().use(headers()).use(json()).handler(router([{ method: 'GET', path: '/erasures/{id}', handler: async () => ({ statusCode: 200 }) }]) as never)`,
  },
  {
    name: 'standardwebhooks',
    does: 'loaded only (the callbacks function signs with it; these three load it with the shared composition)',
    package: 'standardwebhooks',
    imports: `import { Webhook } from 'standardwebhooks';`,
    use: `Webhook`,
  },
  {
    name: 'limiter',
    does: 'a token bucket',
    package: 'limiter',
    imports: `import { TokenBucket } from 'limiter';`,
    use: `new TokenBucket({ bucketSize: 20, tokensPerInterval: 200, interval: 1000 })`,
  },
  {
    name: 'S3 and KMS clients (certificates)',
    does: 'both clients built',
    package: '@aws-sdk/client-s3',
    imports: `import { S3Client } from '@aws-sdk/client-s3';\nimport { KMSClient } from '@aws-sdk/client-kms';`,
    use: `new S3Client({ region: 'us-east-1' }), new KMSClient({ region: 'us-east-1' })`,
  },
  {
    name: 'jose (certificates)',
    does: 'loaded, one base64url encoding',
    package: 'jose',
    imports: `import { FlattenedSign, base64url } from 'jose';`,
    use: `FlattenedSign, base64url.encode('probe')`,
  },
  {
    name: 'Powertools Batch',
    does: 'a BatchProcessor for SQS',
    package: '@aws-lambda-powertools/batch',
    imports: `import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';`,
    use: `new BatchProcessor(EventType.SQS)`,
  },
  {
    name: 'p-map and date-fns',
    does: 'one map of one item, one date a month on',
    package: 'p-map',
    imports: `import pMap from 'p-map';\nimport { addMonths } from 'date-fns';`,
    use: `pMap([1], async (x) => x), addMonths(new Date(0), 1)`,
  },
];

/** A probe's source: the parts' imports, and `start()` using each. */
const source = (parts: Part[]) =>
  `${parts.map((p) => p.imports).join('\n')}\nexport const start = () => [${parts.map((p) => p.use).join(', ')}];\n`;

/**
 * Imports each bundle given, in order, in this fresh process, timing each from `import()` to the end
 * of its `start()`, and prints the milliseconds as a JSON array on stderr.
 */
const RUNNER = `const times = [];
for (const url of process.argv.slice(2)) {
  const t = performance.now();
  const probe = await import(url);
  await probe.start();
  times.push(performance.now() - t);
}
process.stderr.write(JSON.stringify(times));
`;

export interface ImportCostOptions {
  samples: number;
  verbose?: boolean;
  /** The cold-start p50s of the baseline, the same calls and each function, when `cold` ran in the same run: then a note weighs the rows against the 1.3× target. */
  cold?: { baselineMs: number; sameCallsMs: number; functions: Record<string, number> };
}

/**
 * What each library costs a cold start, beyond what the same-calls reference loads. One esbuild
 * build (LAMBDA_BUNDLE_OPTIONS, with code splitting so that modules two probes share are loaded
 * once) makes a base probe (the reference's libraries) and a probe per library, used as our
 * functions use it at start. A fresh Node process imports the base and then one probe, timing each
 * from `import()` to the end of its `start()`: the second time is what that library adds to a
 * process that already holds the base, measured in the same process.
 */
export async function importCost(options: ImportCostOptions): Promise<Section> {
  const dir = await newBundleDir();
  try {
    const runner = path.join(dir, 'probe-runner.mjs');
    await writeFile(runner, RUNNER);
    const usedBy = await packagesOfFunctions(dir);
    const functions = Object.keys(LAMBDA_ENTRIES);
    const partsOf = (fn: string) => PARTS.filter((part) => usedBy[fn]!.has(part.package));
    const probes = [
      ...PARTS.map((part) => ({ name: part.name, parts: [part] })),
      ...functions.map((fn) => ({ name: `${fn}: the rows it loads`, parts: partsOf(fn) })),
    ];
    const { probes: builtProbes, packages: measured } = await buildProbes(dir, [BASE, ...probes.map((p) => p.parts)]);
    const [base, ...built] = builtProbes;
    // What a function's bundle holds that no probe loads: named in a note, so the rows cannot pass for all of it.
    const unmeasured = (fn: string) => [...usedBy[fn]!].filter((pkg) => !measured.has(pkg));
    const baseMs: number[] = [];
    const addedMs = probes.map((): number[] => []);
    // One unmeasured round (the page cache), then round-robin with the order rotated every round.
    for (const probe of built) await timeImports(runner, [base!, probe]);
    for (let round = 0; round < options.samples; round++) {
      for (let i = 0; i < probes.length; i++) {
        const k = (i + round) % probes.length;
        const [first, second] = await timeImports(runner, [base!, built[k]!]);
        baseMs.push(first!);
        addedMs[k]!.push(second!);
      }
      if (options.verbose) process.stderr.write(`imports: round ${round + 1}/${options.samples}\n`);
    }
    const users = (part: Part) => functions.filter((fn) => usedBy[fn]!.has(part.package)).join(', ') || '–';
    const added = (k: number) => ms(median(addedMs[k]!));
    const rows = [
      [
        `the same calls' libraries: ${BASE.map((p) => p.name).join(', ')}`,
        'imported first in every process',
        bytes(base!.bytes),
        ms(median(baseMs)),
        'all, and the same-calls reference',
      ],
      ...PARTS.map((part, k) => [part.name, part.does, bytes(built[k]!.bytes), added(k), users(part)]),
      ...functions.map((fn, i) => {
        const k = PARTS.length + i;
        return [
          `**${probes[k]!.name}, together**`,
          `${probes[k]!.parts.length} rows`,
          bytes(built[k]!.bytes),
          `**${added(k)}**`,
          fn,
        ];
      }),
    ];
    const notes = [
      `Each row: p50 of ${options.samples} fresh \`node\` processes that import the base probe and then the row's probe, each timed from \`import()\` to the end of its \`start()\`; the row is the second time: what the library adds to a process that already holds the same-calls reference's libraries. The first row is the base's own time, over all ${baseMs.length} processes. Round-robin, one unmeasured round first.`,
      'The probes are one esbuild build with LAMBDA_BUNDLE_OPTIONS (bench/bundle.ts) plus code splitting, so that a module the base and a probe share (the SDK core, undici) is loaded once; bytes are what the probe loads that the base has not loaded (its entry and chunks). The stack deploys one file per function, without splitting: these figures apportion a start, they are not a bundle to deploy.',
      '"used by" reads each function’s bundle (its esbuild metafile: the packages with bytes in the output, which an ES module bundle evaluates at start). A bold row loads, in one probe, every row that function’s bundle holds; it can differ from the sum of those rows, since libraries share modules.',
      ...functions.map((fn) => {
        const left = unmeasured(fn);
        return left.length
          ? `${fn}: packages in its bundle that no probe loads, not measured here: ${left.join(', ')}.`
          : `${fn}: every package in its bundle is loaded by some probe.`;
      }),
    ];
    if (options.cold) {
      const { baselineMs, sameCallsMs, functions: coldP50 } = options.cold;
      const room = 1.3 * baselineMs - sameCallsMs;
      const starts = functions.map((fn) => `${fn} ${ms((coldP50[fn] ?? Number.NaN) - sameCallsMs)}`).join(', ');
      const libraries = functions.map((fn, i) => `${fn} ${added(PARTS.length + i)}`).join(', ');
      notes.push(
        `Against the cold-start target, with this run's cold section: 1.3× the baseline's ${ms(baselineMs)} is ${ms(1.3 * baselineMs)}; the same calls made raw start in ${ms(sameCallsMs)}, which leaves ${ms(room)} for everything a function loads and does beyond those calls. The functions start ${starts} after the same calls; the libraries measured here alone (bold rows) take ${libraries}.`,
      );
    }
    return {
      title: 'Cold start by library',
      command: 'npm run bench -- imports',
      samples: `${options.samples} fresh processes per probe, round-robin (+1 unmeasured round)`,
      table: table(['library', 'used at start as', 'bytes added', 'import + first use p50 added', 'used by'], rows),
      notes,
    };
  } finally {
    await removeBundleDir(dir);
  }
}

interface BuiltProbe {
  file: string;
  bytes: number;
}

/** The probes (each a list of parts), built together with splitting: their entry files, in order, and the packages they load. */
async function buildProbes(dir: string, probes: Part[][]): Promise<{ probes: BuiltProbe[]; packages: Set<string> }> {
  const sources = path.join(dir, 'probe-src');
  const out = path.join(dir, 'probe-out');
  await mkdir(sources, { recursive: true });
  const entryPoints: Record<string, string> = {};
  for (const [i, parts] of probes.entries()) {
    const file = path.join(sources, `probe-${i}.ts`);
    await writeFile(file, source(parts));
    entryPoints[`probe-${i}`] = file;
  }
  const { metafile } = await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    sourcemap: false,
    splitting: true,
    entryPoints,
    outdir: out,
    nodePaths: [fromRoot('node_modules')],
    metafile: true,
    logLevel: 'error',
  });
  // A probe's bytes: its entry and every chunk it loads that the base (probe 0) does not.
  const outputs = new Map(Object.entries(metafile.outputs).map(([name, output]) => [path.resolve(name), output]));
  const loads = (file: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(file)) return seen;
    seen.add(file);
    // Chunks only: Node's built-ins (external) are not the probe's bytes.
    for (const { path: chunk, kind, external } of outputs.get(file)?.imports ?? []) {
      if (kind === 'import-statement' && !external) loads(path.resolve(chunk), seen);
    }
    return seen;
  };
  const entry = (i: number) => {
    const file = path.join(out, `probe-${i}.mjs`);
    if (!outputs.has(file)) throw new Error(`esbuild wrote no ${file}`);
    return file;
  };
  const ofBase = loads(entry(0));
  const built = probes.map((_, i) => {
    const own = [...loads(entry(i))].filter((file) => i === 0 || !ofBase.has(file));
    return { file: entry(i), bytes: own.reduce((sum, file) => sum + outputs.get(file)!.bytes, 0) };
  });
  return { probes: built, packages: packagesIn(metafile) };
}

/** The packages (node_modules/<name>) in each function's bundle. */
async function packagesOfFunctions(dir: string): Promise<Record<string, Set<string>>> {
  const entries = Object.entries(LAMBDA_ENTRIES);
  const metafiles = await Promise.all(
    entries.map(([name, entry]) =>
      build({
        ...LAMBDA_BUNDLE_OPTIONS,
        sourcemap: false,
        entryPoints: { index: fromRoot(entry) },
        outdir: path.join(dir, `fn-${name}`),
        metafile: true,
        logLevel: 'error',
      }).then((r) => r.metafile),
    ),
  );
  return Object.fromEntries(entries.map(([name], i) => [name, packagesIn(metafiles[i]!)]));
}

/** The packages with bytes in the bundle (the metafile's inputs also list what tree shaking dropped). */
function packagesIn(metafile: Metafile): Set<string> {
  const found = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (match && bytesInOutput > 0) found.add(match[1]!);
    }
  }
  return found;
}

/** One fresh process importing `probes` in order: the milliseconds of each. */
async function timeImports(runner: string, probes: BuiltProbe[]): Promise<number[]> {
  const urls = probes.map((p) => pathToFileURL(p.file).href);
  // A fixed environment, as the cold start's: nothing of the bench's own (NODE_OPTIONS, POWERTOOLS_*) reaches the probe.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AWS_REGION: 'us-east-1' };
  const child = spawn(process.execPath, [runner, ...urls], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  let times: unknown;
  try {
    times = JSON.parse(err);
  } catch {
    times = undefined;
  }
  if (code !== 0 || !Array.isArray(times) || times.length !== probes.length)
    throw new Error(`probe exited ${code}: ${err.slice(0, 300)}`);
  return times as number[];
}
