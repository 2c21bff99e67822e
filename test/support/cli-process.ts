import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The command line's bin, as `npx verifik-erasure` runs it (on this Node, the repository's Node 24). */
export const CLI_BIN = join(__dirname, '..', '..', 'cli', 'bin.mjs');

export interface CliRun {
  child: ChildProcess;
  /** Everything written so far. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

const running = new Set<ChildProcess>();

/** Starts `verifik-erasure <args>` as a user would, with `env` added to this process's environment. */
export function startCli(args: readonly string[], env: Record<string, string | undefined> = {}): CliRun {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs it to the end. */
export const runCli = (args: readonly string[], env: Record<string, string | undefined> = {}) => startCli(args, env).exited;

/** Kills whatever a test left running and waits for it (for afterEach / afterAll). */
export async function stopAllCli(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Resolves once `condition` holds, checked every 20 ms; rejects after `timeoutMs`, so a test that fails leaves no loop behind. */
export async function until(condition: () => boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
