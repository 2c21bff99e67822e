import { fork, type ChildProcess } from 'node:child_process';
import { fromRoot } from './paths';
import type { StorageCounts } from './storage';

/** dynalite behind a counting proxy, in a child process (bench/dynamo-process.ts). */
export class DynamoServer {
  private constructor(
    private readonly child: ChildProcess,
    /** The proxy: every request through it is counted. */
    readonly endpoint: string,
    /** dynalite itself, for the bench's own reads (not counted). */
    readonly direct: string,
  ) {}

  static async start(): Promise<DynamoServer> {
    const child = fork(fromRoot('bench/dynamo-process.ts'), [], {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<{ endpoint: string; direct: string }>((resolve, reject) => {
      child.once('message', (message) => resolve(message as { endpoint: string; direct: string }));
      child.once('exit', (code) => reject(new Error(`the dynalite process exited (${code}) before it was ready`)));
    });
    return new DynamoServer(child, ready.endpoint, ready.direct);
  }

  /** The counts since the last take. */
  take(): Promise<StorageCounts> {
    return new Promise((resolve) => {
      this.child.once('message', (message) => resolve((message as { counts: StorageCounts }).counts));
      this.child.send('take');
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send('close');
    await exited;
  }
}
