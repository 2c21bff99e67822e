import { readFile, readdir } from 'node:fs/promises';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The parts of a V8 .cpuprofile this reads. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  /** Sampled milliseconds, all profiles together. */
  totalMs: number;
  /** Self time by where the code came from: an npm package, one of our files, Node itself. */
  bySource: [string, number][];
  /**
   * Self time by the component that asked for it: Node built-ins and native code are charged to the
   * nearest caller from a package or our code (so a socket write made by the logger counts as the logger's).
   */
  byComponent: [string, number][];
  /** Self time by function, with its original file and line. */
  byFunction: [string, number][];
}

interface Frame {
  source: string;
  where: string;
  /** Node itself, V8 or native code: charged to its caller in byComponent. */
  runtime: boolean;
}

/**
 * Self time of one or more .cpuprofile files (`node --cpu-prof`), attributed to original sources;
 * for a minified bundle through its source map.
 */
export async function summariseProfiles(profileFiles: string[], bundleFile?: string): Promise<ProfileSummary> {
  const map = bundleFile ? new SourceMap(JSON.parse(await readFile(`${bundleFile}.map`, 'utf8')) as SourceMapPayload) : undefined;
  const bundleUrl = bundleFile ? pathToFileURL(bundleFile).href : undefined;
  const bySource = new Map<string, number>();
  const byComponent = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const add = (m: Map<string, number>, key: string, value: number) => m.set(key, (m.get(key) ?? 0) + value);
  let totalMs = 0;
  for (const file of profileFiles) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    const frames = new Map<number, Frame>();
    const frameOf = (id: number): Frame => {
      let frame = frames.get(id);
      if (!frame) {
        frame = describeFrame(nodes.get(id)!.callFrame, map, bundleUrl);
        frames.set(id, frame);
      }
      return frame;
    };
    const componentOf = (id: number): string => {
      const own = frameOf(id);
      if (['((idle))', '((garbage collector))', '((program))'].includes(own.source)) return own.source.slice(1, -1);
      for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
        const frame = frameOf(at);
        if (!frame.runtime) return componentFor(frame.source);
      }
      return 'Node: I/O callbacks and native code with no JavaScript caller (sockets, timers)';
    };
    const selfMs = new Map<number, number>();
    profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
    for (const [id, time] of selfMs) {
      const frame = frameOf(id);
      totalMs += time;
      add(bySource, frame.source, time);
      add(byComponent, componentOf(id), time);
      add(byFunction, frame.where, time);
    }
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { totalMs, bySource: sorted(bySource), byComponent: sorted(byComponent), byFunction: sorted(byFunction) };
}

function describeFrame(
  frame: CpuProfile['nodes'][number]['callFrame'],
  map: SourceMap | undefined,
  bundleUrl: string | undefined,
): Frame {
  const name = frame.functionName || '(anonymous)';
  if (map && frame.url === bundleUrl) {
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as {
      originalSource?: string;
      originalLine?: number;
      name?: string;
    };
    const original = entry.originalSource ?? '?';
    return {
      source: packageOf(original),
      where: `${entry.name ?? name} ${shortPath(original)}:${(entry.originalLine ?? 0) + 1}`,
      runtime: false,
    };
  }
  if (!frame.url) return { source: `(${frame.functionName || 'native'})`, where: `(${name})`, runtime: true };
  if (frame.url.startsWith('node:')) {
    return { source: 'node: built-ins', where: `${name} ${frame.url}:${frame.lineNumber + 1}`, runtime: true };
  }
  // Unbundled code (tsx): the file itself says where it comes from.
  const file = frame.url.startsWith('file:') ? fileURLToPath(frame.url) : frame.url;
  return { source: packageOf(file), where: `${name} ${shortPath(file)}:${frame.lineNumber + 1}`, runtime: false };
}

/** Packages and files grouped the way a reader thinks of them. */
function componentFor(source: string): string {
  if (source.endsWith('/runner.mjs')) return 'runner: import() of the bundle (parse and compile charged here), inspector calls';
  if (source === '?') return 'bundle code with no source mapping (top-level module code)';
  if (/^@aws-sdk\/|^@smithy\/|^@aws\//.test(source)) return 'AWS SDK v3';
  if (source.startsWith('@aws-lambda-powertools/')) return source.replace('@aws-lambda-powertools/', 'Powertools ');
  if (source.startsWith('@middy/')) return 'middy';
  if (source.startsWith('lambda/')) return source.split('/').slice(0, 2).join('/');
  if (/^(bench|infra)\//.test(source)) return 'bench and local stack (load generator, fakes)';
  return source;
}

/** `node_modules/@aws-sdk/client-sqs/dist-es/...` → `@aws-sdk/client-sqs`; our files stay as they are. */
function packageOf(source: string): string {
  const at = source.lastIndexOf('node_modules/');
  if (at === -1) return shortPath(source);
  const rest = source.slice(at + 'node_modules/'.length).split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

function shortPath(source: string): string {
  const at = source.lastIndexOf('node_modules/');
  if (at !== -1) return source.slice(at + 'node_modules/'.length);
  const ours = source.search(/(lambda|bench|infra)\//);
  return ours === -1 ? source : source.slice(ours);
}

/** A summary scaled by 1/n (per run, per request). */
export const scaleSummary = (summary: ProfileSummary, n: number): ProfileSummary => ({
  totalMs: summary.totalMs / n,
  bySource: summary.bySource.map(([k, v]) => [k, v / n]),
  byComponent: summary.byComponent.map(([k, v]) => [k, v / n]),
  byFunction: summary.byFunction.map(([k, v]) => [k, v / n]),
});

export async function profilesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
}

/** Lines of a summary: the top sources and functions, with their share of the sampled time. */
export function formatSummary(summary: ProfileSummary, top = 12, digits = 1): string[] {
  const share = (ms: number) => `${ms.toFixed(digits)} ms (${((100 * ms) / summary.totalMs).toFixed(0)}%)`;
  return [
    `sampled ${summary.totalMs.toFixed(digits)} ms; by component (built-ins charged to their caller):`,
    ...summary.byComponent.slice(0, top).map(([source, ms]) => `  ${share(ms).padEnd(18)} ${source}`),
    'self time by source:',
    ...summary.bySource.slice(0, top).map(([source, ms]) => `  ${share(ms).padEnd(18)} ${source}`),
    'self time by function:',
    ...summary.byFunction.slice(0, top).map(([fn, ms]) => `  ${share(ms).padEnd(18)} ${fn}`),
  ];
}
