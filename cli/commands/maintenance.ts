import { createPublicKey } from 'node:crypto';
import { KMSClient, GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { ListMessageMoveTasksCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { FolderArchiveStorage } from '../../lambda/archive/folder-archive-storage';
import { S3ArchiveStorage } from '../../lambda/archive/s3-archive-storage';
import { verifyArchive } from '../../lambda/archive/verify-archive';
import { formatReport, readPublicKey, scanTable } from '../../infra/local/verify-archive';
import { configurationProblem, describeAnswer, reach, WebhookClient, type ApiTarget } from '../api-target';
import { CliError, EXIT, UsageError, type ExitCode } from '../errors';
import { printJson, table, type Output } from '../output';
import { awsProblem, type DeployedStack } from '../stack-outputs';
import type { AuditTable } from '../targets';

export interface VerifyOptions {
  folder?: string;
  publicKey?: string;
  fromBatch: number;
  withTable: boolean;
}

/**
 * `verify`: the archive check of `npm run verify-archive` (chain, signed digests, and the table
 * against the archive). Local: --folder and --public-key. --stack: the archive bucket and the archive
 * key's public half from KMS, unless --folder / --public-key name copies.
 */
export async function verify(
  stack: DeployedStack | undefined,
  audit: AuditTable | undefined,
  options: VerifyOptions,
  output: Output,
): Promise<ExitCode> {
  if (!stack && (!options.folder || !options.publicKey))
    throw new UsageError(
      'verify needs the archive and its public key.',
      'pass --folder DIR --public-key FILE (npm start prints both), or --stack NAME.',
    );
  const s3 = stack && !options.folder ? new S3Client({ region: stack.region }) : undefined;
  const kms = stack && !options.publicKey ? new KMSClient({ region: stack.region }) : undefined;
  try {
    const storage = options.folder
      ? new FolderArchiveStorage(options.folder)
      : new S3ArchiveStorage(s3!, stack!.output('ArchiveBucketName'));
    let publicKey;
    if (options.publicKey) publicKey = await readPublicKey(options.publicKey);
    else {
      const answer = await kms!
        .send(new GetPublicKeyCommand({ KeyId: stack!.output('ArchiveKeyArn') }))
        .catch((error: unknown) => {
          throw awsProblem(error, 'The archive key');
        });
      publicKey = createPublicKey({ key: Buffer.from(answer.PublicKey!), format: 'der', type: 'spki' });
    }
    const report = await verifyArchive({
      storage,
      publicKey,
      tableItems: audit && options.withTable ? scanTable(audit.client, audit.tableName) : undefined,
      fromBatch: options.fromBatch,
    });
    if (output.json) printJson(output, report);
    else output.out(formatReport(report));
    return report.findings.length === 0 ? EXIT.ok : EXIT.failed;
  } finally {
    s3?.destroy();
    kms?.destroy();
  }
}

/**
 * `redrive`: dead letters back to the retry queue, where the worker reopens the persons that failed
 * only because the schedule ran out. --stack: an SQS message move task (DeadLetterQueueArn →
 * RetryQueueArn); `--status` lists the tasks. Local: the stack's signed `/_local/dead-letters/redrive`.
 */
export async function redrive(
  stack: DeployedStack | undefined,
  api: () => Promise<ApiTarget>,
  options: { status?: boolean },
  output: Output,
): Promise<ExitCode> {
  if (!stack) {
    const target = await api();
    if (!(target instanceof WebhookClient)) throw new UsageError('redrive against a stack needs --stack.');
    if (options.status) throw new UsageError('--status is for --stack (SQS move tasks); a local redrive is done at once.');
    const answer = await reach(target, () => target.redriveLocal());
    const problem = configurationProblem(target, answer);
    if (problem) throw problem;
    if (answer.status !== 200) throw new CliError(`The redrive was refused: ${describeAnswer(answer)}.`, EXIT.failed);
    const { redriven } = answer.body as { redriven: number };
    if (output.json) printJson(output, { target: 'local', redriven });
    else output.out(`${redriven} dead letter(s) moved back to the retry queue.\n`);
    return EXIT.ok;
  }
  const sqs = new SQSClient({ region: stack.region });
  try {
    const source = stack.output('DeadLetterQueueArn');
    if (options.status) {
      const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: source })).catch((error: unknown) => {
        throw awsProblem(error, 'The dead-letter queue');
      });
      const tasks = Results.map((t) => ({
        status: t.Status,
        startedAt: t.StartedTimestamp === undefined ? undefined : new Date(t.StartedTimestamp).toISOString(),
        moved: t.ApproximateNumberOfMessagesMoved,
        toMove: t.ApproximateNumberOfMessagesToMove,
        failureReason: t.FailureReason,
      }));
      if (output.json) printJson(output, { target: stack.name, tasks });
      else
        output.out(
          table(
            ['Status', 'Started', 'Moved', 'To move', 'Failure'],
            tasks.map((t) => [t.status, t.startedAt, t.moved, t.toMove, t.failureReason]),
          ),
        );
      return EXIT.ok;
    }
    const { TaskHandle } = await sqs
      .send(new StartMessageMoveTaskCommand({ SourceArn: source, DestinationArn: stack.output('RetryQueueArn') }))
      .catch((error: unknown) => {
        throw awsProblem(error, 'The dead-letter queue');
      });
    if (output.json) printJson(output, { target: stack.name, taskHandle: TaskHandle });
    else
      output.out(
        `Redrive started (task ${TaskHandle}). Follow it with: verifik-erasure redrive --status --stack ${stack.name}\n`,
      );
    return EXIT.ok;
  } finally {
    sqs.destroy();
  }
}
