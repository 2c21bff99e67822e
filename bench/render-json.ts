/**
 * `npm run bench:render -- FILE`: the tables of a run saved with `npm run bench -- --json FILE`, as
 * the bench printed them (the README and docs/benchmarks.md quote them from such a file).
 */
import { readFile } from 'node:fs/promises';
import { render, type SavedRun } from './report';

async function main(file: string | undefined): Promise<number> {
  if (!file) {
    process.stderr.write('usage: npm run bench:render -- FILE (written by npm run bench -- --json FILE)\n');
    return 2;
  }
  const saved = JSON.parse(await readFile(file, 'utf8')) as SavedRun;
  process.stdout.write(`## verifik-erasure benchmarks\n\n\`${saved.command}\` · ${saved.machine} · ${saved.startedAt}\n\n`);
  for (const section of saved.sections) process.stdout.write(`${render(section)}\n`);
  process.stdout.write(`Total: ${saved.totalSeconds} s.\n`);
  return 0;
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:render failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
