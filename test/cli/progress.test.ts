import { Logger } from '@aws-lambda-powertools/logger';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack';
import { CLI_BIN, runCli } from '../support/cli-process';

/**
 * The progress of `erase --file`: a live bar in a terminal (a pseudo-terminal from util-linux's
 * `script`), plain lines when stderr is a pipe.
 */
let stack: LocalStack;
let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-progress-'));
  stack = await startLocalStack(
    { PORT: '0', VERIFY_AFTER_DELETE: 'false' },
    { logger: new Logger({ logLevel: 'SILENT' }), sandboxPersons: 0, archive: false },
  );
  file = join(dir, 'ids.csv');
  await writeFile(file, Array.from({ length: 40 }, (_, i) => `progress_${i}`).join('\n'));
});
afterAll(async () => {
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});

it('draws a bar with the counts and an ETA in a terminal, then the summary table', async () => {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, CLI_BIN, 'erase', '--file', file, '--url', stack.url, '--rate', '20', '--batch', 'tty']
    .map(quote)
    .join(' ');
  // script -q (no banner) -e (its exit code) -c (the command) runs it in a pseudo-terminal: stdout and stderr are TTYs.
  const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, WEBHOOK_SECRET: stack.env.WEBHOOK_SECRET, COLUMNS: '200' },
  });

  expect(stdout).toMatch(/\u001b\[\?25l/); // the cursor hidden while the bar is drawn…
  expect(stdout).toMatch(/\u001b\[\?25h/); // …and shown again
  // Persons the sandbox does not hold: Verifik answers 404, recorded as already erased.
  expect(stdout).toMatch(
    /[=-]{24} \d+% \d+\/40 lines \| erased \d+ \| already \d+ \| pending \d+ \| failed \d+ \| no link \d+ \| refused \d+ \| skipped \d+ \| [\d.]+\/s \| ETA \S+/,
  );
  expect(stdout).toMatch(/={24} 100% 40\/40 lines \| erased 0 \| already 40 /);
  expect(stdout).not.toMatch(/^progress: /m);
  expect(stdout).toMatch(/│ already erased \(Verifik 404\) │ 40 │/);
}, 60_000);

it('writes plain progress lines when stderr is not a terminal', async () => {
  const run = await runCli(
    ['erase', '--file', file, '--url', stack.url, '--rate', '20', '--batch', 'pipe', '--progress-interval', '100'],
    {
      WEBHOOK_SECRET: stack.env.WEBHOOK_SECRET,
    },
  );

  expect(run.code).toBe(0);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines.length).toBeGreaterThan(1);
  for (const line of lines)
    expect(line).toMatch(
      /^progress: \d+\/40 lines \(\d+%\), erased \d+, already \d+, pending \d+, failed \d+, no link \d+, refused \d+, skipped \d+, [\d.]+\/s, ETA \S+$/,
    );
  expect(lines.at(-1)).toMatch(/^progress: 40\/40 lines \(100%\), erased 0, already 40,/);
  expect(run.stderr).not.toMatch(/\u001b/);
}, 60_000);
