import { spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { exec as execCallback } from 'node:child_process';

const exec = promisify(execCallback);

/** Starts `npm start` as a user would and resolves with everything it printed once it is ready. */
function npmStart(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn('npm', ['start', '--silent'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`npm start did not get ready:\n${output}`)), 20_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('status <erasureId>')) {
        clearTimeout(timer);
        resolve({ child, output });
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.on('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
}

const stop = (child: ChildProcess) => {
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
};

describe('npm start', () => {
  const env = {
    ...process.env,
    PORT: '0',
    WEBHOOK_SECRET: '',
    SUBJECT_REF_PEPPER: '',
    VERIFIK_BASE_URL: '',
    DYNAMODB_ENDPOINT: '',
    VERIFIK_TOKEN: '',
  };
  for (const name of ['WEBHOOK_SECRET', 'SUBJECT_REF_PEPPER', 'VERIFIK_BASE_URL', 'DYNAMODB_ENDPOINT', 'VERIFIK_TOKEN'] as const)
    delete env[name];

  it('serves the API on dynalite and the sandbox, and the printed command erases a sandbox person', async () => {
    const { child, output } = await npmStart(env);
    try {
      const eraseCommand = output
        .split('\n')
        .find((line) => line.includes('verifik-erasure erase'))!
        .trim();
      const person = /erase (\S+)/.exec(eraseCommand)![1]!;
      expect(output).toContain(`persons: ${person}`);
      expect(output).toMatch(/webhook secret \(generated for this run\): whsec_/);

      // The printed command, for scripts: --json prints the erasure record alone.
      const erased = await exec(`${eraseCommand} --json`, { env, timeout: 20_000 });
      const record = JSON.parse(erased.stdout);
      expect(record).toMatchObject({
        status: 'completed',
        persons: [{ personId: person, outcome: 'erased', vendorStatus: 200 }],
      });

      const statusCommand = output
        .split('\n')
        .find((line) => line.includes('verifik-erasure status'))!
        .trim()
        .replace('<erasureId>', record.erasureId);
      const status = await exec(`${statusCommand} --json`, { env, timeout: 20_000 });
      expect(JSON.parse(status.stdout)).toEqual(record);

      // The printed verify command checks the run's archive against its table: the erasure is in it.
      const verifyCommand = output
        .split('\n')
        .find((line) => line.includes('npm run verify-archive'))!
        .trim();
      const verified = await exec(verifyCommand, { env, timeout: 30_000 });
      // Two writes: the request, and the person's item written once with its outcome.
      expect(verified.stdout).toMatch(/^OK: \d+ batches, 2 records, 0 digests, 2 table items compared$/m);

      const again = await exec(`${eraseCommand} --json`, { env, timeout: 20_000 });
      expect(JSON.parse(again.stdout).persons[0]).toMatchObject({
        outcome: 'already_erased',
        vendorStatus: 404,
      });
    } finally {
      stop(child);
    }
  }, 60_000);

  it('never prints a webhook secret it was given', async () => {
    const given = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const { child, output } = await npmStart({ ...env, WEBHOOK_SECRET: given });
    stop(child);
    expect(output).not.toContain(given);
    expect(output).not.toContain(given.slice(6));
    expect(output).toContain('webhook secret: from WEBHOOK_SECRET');
  }, 30_000);
});
