import { createWriteStream, type WriteStream } from 'node:fs';
import { pMapIterable } from 'p-map';
import pRetry, { AbortError } from 'p-retry';
import pThrottle from 'p-throttle';
import { configurationProblem, describeAnswer, type ApiAnswer, type ApiTarget } from './api-target';
import { EXIT, type ExitCode } from './errors';
import { batchOfDigest, fileIdentity, lineErasureId, readInputLines, type InputFormat, type SendLine } from './erase-input';
import { emptyCounts, ProgressView, type LineCounts } from './progress';
import { subjectText } from './subject';

export interface BatchOptions {
  file: string;
  format: InputFormat;
  /** Names the batch instead of the file's digest (the erasure ids are `<batch>-L<line>`). */
  batch?: string;
  /** Lines before this one are read (for duplicates) but not sent. */
  fromLine: number;
  concurrency: number;
  /** Requests per second at most; 0: no limit. */
  rate: number;
  /** Retries of one line when the server is unreachable or answers 429/5xx, with exponential backoff. */
  retries: number;
  retryDelayMs: number;
  reason: string;
  requestedBy: string;
  /** Every line's result as JSON lines. */
  report?: string;
  progress: { enabled: boolean; intervalMs: number };
  /** The command that resumes this run from a line (printed when the run stops early). */
  resumeCommand: (fromLine: number) => string;
}

/**
 * What happened to one line that was sent. A subject line's outcome sums up its persons': failed if
 * one failed, else pending if one is pending, else erased if one was erased, else already erased;
 * `no_person_linked` when no Verifik person was linked to the subject (the service records that, with a note).
 */
export interface LineResult {
  line: number;
  /** The person the line names, if any. */
  personId?: string;
  /** The subject the line names (`source:id`), if any. */
  subject?: string;
  erasureId: string;
  outcome: 'erased' | 'already_erased' | 'pending' | 'failed' | 'no_person_linked' | 'refused' | 'not_sent';
  /** A subject line's persons, as the service resolved them, each with its outcome. */
  persons?: { personId: string; outcome: string }[];
  /** Why, for failed, refused and not sent. */
  error?: string;
}

export interface LineProblem {
  line: number;
  value: string;
  problem: 'invalid' | 'duplicate';
  message: string;
}

/** The `--json` shape of `erase --file` (docs/cli.md). */
export interface BatchSummary {
  file: string;
  format: InputFormat;
  batch: string;
  sha256: string;
  lines: number;
  fromLine: number;
  counts: LineCounts;
  /** Lines not sent because of what they hold (first 1000; `problemsOmitted` more). */
  problems: LineProblem[];
  problemsOmitted: number;
  /** Lines sent that did not end erased, already erased or pending (first 1000; `failuresOmitted` more). */
  failures: LineResult[];
  failuresOmitted: number;
  /** Subject lines with no Verifik person linked (first 1000; `unlinkedOmitted` more): recorded, nothing deleted. */
  unlinked: LineResult[];
  unlinkedOmitted: number;
  stopped: {
    reason: 'unreachable' | 'configuration' | 'interrupted';
    message: string;
    resumeFromLine: number;
    resumeCommand: string;
  } | null;
  exitCode: ExitCode;
}

const KEPT = 1000;

class Stop extends Error {
  constructor(
    readonly reason: 'unreachable' | 'configuration' | 'interrupted',
    message: string,
  ) {
    super(message);
  }
}

/** A 429 or 5xx: worth another try after a pause. */
class Transient extends Error {}

/**
 * Sends one erasure per line of a file: at most `concurrency` at once and `rate` per second,
 * each line's id derived from the batch and the line (a rerun is answered from the audit trail,
 * Verifik is not called again). Stops taking lines when the target stays unreachable after the
 * retries, when it refuses our credentials, or on Ctrl-C, and says from which line to resume.
 */
export async function runBatch(target: ApiTarget, options: BatchOptions, signal: AbortSignal): Promise<BatchSummary> {
  const identity = await fileIdentity(options.file);
  const batch = options.batch ?? batchOfDigest(identity.sha256);
  const counts = emptyCounts();
  const problems: LineProblem[] = [];
  const failures: LineResult[] = [];
  const unlinked: LineResult[] = [];
  let problemsOmitted = 0;
  let failuresOmitted = 0;
  let unlinkedOmitted = 0;
  let done = 0;
  const view = new ProgressView(identity.lines, options.progress);
  const report: WriteStream | undefined = options.report ? createWriteStream(options.report, { flags: 'w' }) : undefined;
  const write = (entry: object) => report?.write(`${JSON.stringify(entry)}\n`);
  const tick = () => view.update(done, counts);

  let stop: Stop | undefined;
  /** Lines taken but not settled (a stop resumes from the lowest of them or of the lines never taken). */
  const unsettled = new Set<number>();
  let nextUntaken: number | undefined;
  const abort = new AbortController();
  const halt = (reason: Stop) => {
    stop ??= reason;
    abort.abort(stop);
  };
  const onSignal = () => halt(new Stop('interrupted', 'Interrupted (Ctrl-C).'));
  signal.addEventListener('abort', onSignal, { once: true });

  const throttled =
    options.rate > 0
      ? pThrottle({ ...pace(options.rate), signal: abort.signal })((call: () => Promise<ApiAnswer>) => call())
      : (call: () => Promise<ApiAnswer>) => call();

  async function* lines(): AsyncGenerator<SendLine> {
    for await (const entry of readInputLines(options.file, options.format)) {
      if (stop) {
        nextUntaken ??= entry.line;
        if (entry.kind === 'person' || entry.kind === 'subject') counts.not_sent += 1;
        continue;
      }
      if (entry.kind === 'skipped') {
        counts[entry.why] += 1;
      } else if (entry.kind === 'problem') {
        counts[entry.problem] += 1;
        const problem = { line: entry.line, value: entry.value, problem: entry.problem, message: entry.message };
        if (problems.length < KEPT) problems.push(problem);
        else problemsOmitted += 1;
        write(problem);
      } else if (entry.line < options.fromLine) {
        counts.before_from_line += 1;
      } else {
        unsettled.add(entry.line);
        yield entry;
        continue;
      }
      done += 1;
      tick();
    }
  }

  const sendLine = async (entry: SendLine): Promise<LineResult> => {
    const { line, personId } = entry;
    const subject = entry.kind === 'subject' ? entry.subject : undefined;
    const erasureId = lineErasureId(batch, line);
    const named = { line, ...(personId !== undefined && { personId }), ...(subject && { subject: subjectText(subject) }) };
    const body = {
      personIds: personId === undefined ? [] : [personId],
      ...(subject && { subject }),
      reason: options.reason,
      requestedBy: options.requestedBy,
    };
    try {
      const answer = await pRetry(
        async () => {
          const got = await throttled(() => target.submit(erasureId, body));
          const problem = configurationProblem(target, got);
          if (problem)
            throw new AbortError(new Stop('configuration', problem.message + (problem.fix ? ` Fix: ${problem.fix}` : '')));
          if (got.status === 429 || got.status >= 500) throw new Transient(describeAnswer(got));
          return got;
        },
        { retries: options.retries, minTimeout: options.retryDelayMs, factor: 2, randomize: true, signal: abort.signal },
      );
      view.countRequest();
      return resultOf(named, erasureId, answer);
    } catch (error) {
      if (error instanceof Stop) halt(error);
      else if (!abort.signal.aborted) {
        const why =
          error instanceof Transient
            ? error.message
            : error instanceof Error && error.cause instanceof Error
              ? error.cause.message
              : String(error);
        halt(new Stop('unreachable', `${target.label} is unreachable or failing (${why}) after ${options.retries} retries.`));
      }
      return { ...named, erasureId, outcome: 'not_sent', error: stop?.message };
    }
  };

  try {
    for await (const result of pMapIterable(lines(), sendLine, { concurrency: options.concurrency, preserveOrder: false })) {
      counts[result.outcome] += 1;
      if (result.outcome !== 'not_sent') unsettled.delete(result.line);
      if (result.outcome === 'failed' || result.outcome === 'refused') {
        if (failures.length < KEPT) failures.push(result);
        else failuresOmitted += 1;
      } else if (result.outcome === 'no_person_linked') {
        if (unlinked.length < KEPT) unlinked.push(result);
        else unlinkedOmitted += 1;
      }
      write(result);
      done += 1;
      tick();
    }
  } finally {
    signal.removeEventListener('abort', onSignal);
    view.stop();
    await new Promise<void>((resolve) => (report ? report.end(resolve) : resolve()));
  }

  const resumeFromLine = Math.min(...unsettled, nextUntaken ?? Number.POSITIVE_INFINITY);
  const stopped = stop
    ? {
        reason: stop.reason,
        message: stop.message,
        resumeFromLine: Number.isFinite(resumeFromLine) ? resumeFromLine : identity.lines + 1,
        resumeCommand: options.resumeCommand(Number.isFinite(resumeFromLine) ? resumeFromLine : identity.lines + 1),
      }
    : null;
  const somethingFailed = counts.failed + counts.refused + counts.invalid > 0;
  const exitCode: ExitCode = !stopped
    ? somethingFailed
      ? EXIT.failed
      : EXIT.ok
    : stopped.reason === 'interrupted'
      ? EXIT.interrupted
      : EXIT.unreachable;
  return {
    file: options.file,
    format: options.format,
    batch,
    sha256: identity.sha256,
    lines: identity.lines,
    fromLine: options.fromLine,
    counts,
    problems,
    problemsOmitted,
    failures,
    failuresOmitted,
    unlinked,
    unlinkedOmitted,
    stopped,
    exitCode,
  };
}

type Named = Pick<LineResult, 'line' | 'personId' | 'subject'>;

function resultOf(named: Named, erasureId: string, answer: ApiAnswer): LineResult {
  if (answer.status !== 200 && answer.status !== 202)
    return { ...named, erasureId, outcome: 'refused', error: describeAnswer(answer) };
  const persons = ((answer.body as { persons?: unknown }).persons ?? []) as {
    personId?: string;
    outcome?: string;
    lastError?: string;
  }[];
  const outcomes = new Set(persons.map((person) => person.outcome));
  const failed = persons.find((person) => !['erased', 'already_erased', 'pending'].includes(person.outcome ?? ''));
  const outcome: LineResult['outcome'] = failed
    ? 'failed'
    : persons.length === 0
      ? named.subject
        ? 'no_person_linked'
        : 'failed'
      : outcomes.has('pending')
        ? 'pending'
        : outcomes.has('erased')
          ? 'erased'
          : 'already_erased';
  const error = outcome === 'failed' ? (failed?.lastError ?? 'failed') : undefined;
  return {
    ...named,
    erasureId,
    outcome,
    ...(named.subject && {
      persons: persons.map((person) => ({ personId: String(person.personId), outcome: String(person.outcome) })),
    }),
    ...(error && { error }),
  };
}

/** `rate` requests a second as p-throttle's window: N a second, or one every 1/rate seconds below 1. */
export const pace = (rate: number) =>
  rate >= 1 ? { limit: Math.round(rate), interval: 1000 } : { limit: 1, interval: Math.round(1000 / rate) };
