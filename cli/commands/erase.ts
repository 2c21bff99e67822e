import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { PERSON_ID_PATTERN, MAX_PERSONS } from '../../lambda/erasure/rules';
import { configurationProblem, describeAnswer, reach, type ApiTarget } from '../api-target';
import { CliError, EXIT, UsageError, type ExitCode } from '../errors';
import { runBatch, type BatchOptions } from '../erase-batch';
import type { Subject } from '../subject';
import { inputFormat } from '../erase-input';
import { batchText, printJson, recordText, type Output } from '../output';

export interface EraseOptions {
  file?: string;
  format?: 'csv' | 'jsonl';
  batch?: string;
  fromLine: number;
  concurrency: number;
  rate: number;
  retries: number;
  retryDelay: number;
  report?: string;
  progress: boolean;
  progressInterval: number;
  id?: string;
  /** One erasure of the persons linked to this subject (besides the ids given, if any). */
  subject?: Subject;
  subjectRef?: string;
  reason: string;
  requestedBy: string;
}

/**
 * `erase <ids…>`: one erasure of those persons, its record printed. `erase --file`: one erasure per
 * line (runBatch), a summary at the end.
 */
export async function erase(
  target: () => Promise<ApiTarget>,
  personIds: string[],
  options: EraseOptions,
  output: Output,
  context: { resumeCommand: BatchOptions['resumeCommand']; signal: AbortSignal },
): Promise<ExitCode> {
  if (options.file && (personIds.length > 0 || options.subject))
    throw new UsageError('Give person ids (or --subject) or --file, not both.', 'put subjects in the file (source:id lines).');
  if (!options.file && personIds.length === 0 && !options.subject)
    throw new UsageError('Nothing to erase.', 'give person ids, --subject source:id, or --file ids.csv.');
  if (options.file) {
    await access(options.file, constants.R_OK).catch(() => {
      throw new UsageError(`Cannot read ${options.file}.`, 'check the path given to --file.');
    });
    if (options.id || options.subjectRef)
      throw new UsageError(
        '--id and --subject-ref name one erasure; with --file each line is its own erasure.',
        'use --batch NAME to name the batch.',
      );
    const summary = await runBatch(
      await target(),
      {
        file: options.file,
        format: inputFormat(options.file, options.format),
        batch: options.batch,
        fromLine: options.fromLine,
        concurrency: options.concurrency,
        rate: options.rate,
        retries: options.retries,
        retryDelayMs: options.retryDelay,
        reason: options.reason,
        requestedBy: options.requestedBy,
        report: options.report,
        progress: { enabled: options.progress, intervalMs: options.progressInterval },
        resumeCommand: context.resumeCommand,
      },
      context.signal,
    );
    if (output.json) printJson(output, summary);
    else output.out(batchText(summary));
    return summary.exitCode;
  }
  const bad = personIds.filter((id) => !PERSON_ID_PATTERN.test(id));
  if (bad.length > 0)
    throw new UsageError(`Not a person id: ${bad.slice(0, 5).join(', ')}.`, 'a person id is 1 to 64 of A-Z a-z 0-9 _ -.');
  if (new Set(personIds).size > MAX_PERSONS)
    throw new UsageError(
      `One erasure names at most ${MAX_PERSONS} persons.`,
      'put the ids in a file and use --file (one erasure per line).',
    );
  const api = await target();
  const answer = await reach(api, () =>
    api.submit(options.id, {
      personIds,
      ...(options.subject && { subject: options.subject }),
      subjectRef: options.subjectRef,
      reason: options.reason,
      requestedBy: options.requestedBy,
    }),
  );
  const problem = configurationProblem(api, answer);
  if (problem) throw problem;
  if (answer.status !== 200 && answer.status !== 202)
    throw new CliError(`The erasure was refused: ${describeAnswer(answer)}.`, EXIT.failed, fixFor(answer.status));
  if (output.json) printJson(output, answer.body);
  else output.out(recordText(answer.body));
  return (answer.body as { status?: string }).status === 'failed' ? EXIT.failed : EXIT.ok;
}

function fixFor(status: number): string | undefined {
  if (status === 409) return 'this erasure id was used for another request: choose another --id, or leave --id out.';
  if (status === 400) return 'see the message; verifik-erasure erase --help lists the limits.';
  return undefined;
}
