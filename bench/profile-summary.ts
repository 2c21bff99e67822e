/**
 * `npm run bench:profile -- DIR`: sums the self time of the V8 CPU profiles in DIR (written by
 * `BENCH_CPU_PROF=DIR npm run bench -- warm`) by where the code comes from: a package under
 * node_modules, a folder of this project, or Node itself; the heaviest first.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function origin(url: string): string {
  if (!url) return '(V8: GC, idle, native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope, name] = url.slice(modules + '/node_modules/'.length).split('/');
    return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const file = url.replace(/^file:\/\//, '');
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative.split(path.sep).slice(0, 2).join('/');
}

async function main(dir: string) {
  const totals = new Map<string, number>();
  let all = 0;
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((node) => [node.id, origin(node.callFrame.url)]));
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      const key = byId.get(id) ?? '?';
      totals.set(key, (totals.get(key) ?? 0) + us);
      all += us;
    });
  }
  const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, 30);
  for (const [key, us] of rows)
    process.stdout.write(`${((100 * us) / all).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
}

main(process.argv[2] ?? '.').catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
