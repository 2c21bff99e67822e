import { SingleBar } from 'cli-progress';

/** Counts shown while a file runs, by what happened to each line. */
export interface LineCounts {
  erased: number;
  already_erased: number;
  pending: number;
  failed: number;
  no_person_linked: number;
  refused: number;
  invalid: number;
  duplicate: number;
  blank: number;
  header: number;
  before_from_line: number;
  not_sent: number;
}

export const emptyCounts = (): LineCounts => ({
  erased: 0,
  already_erased: 0,
  pending: 0,
  failed: 0,
  no_person_linked: 0,
  refused: 0,
  invalid: 0,
  duplicate: 0,
  blank: 0,
  header: 0,
  before_from_line: 0,
  not_sent: 0,
});

const COUNTS =
  'erased {erased} | already {already_erased} | pending {pending} | failed {failed} | no link {no_person_linked} | refused {refused} | skipped {skipped}';

/**
 * The progress of a file on stderr (stdout keeps the summary or the JSON): a live bar with the
 * counts, the rate and an ETA when stderr is a terminal; otherwise the same figures as a plain line
 * every `intervalMs` (cli-progress's non-TTY schedule) and once at the end.
 */
export class ProgressView {
  private readonly bar: SingleBar | undefined;
  private readonly started = Date.now();
  private sent = 0;

  constructor(
    total: number,
    {
      enabled = true,
      intervalMs = 2000,
      stream = process.stderr,
    }: { enabled?: boolean; intervalMs?: number; stream?: NodeJS.WriteStream } = {},
  ) {
    if (!enabled) return;
    const tty = stream.isTTY === true;
    this.bar = new SingleBar({
      stream,
      format: tty
        ? `{bar} {percentage}% {value}/{total} lines | ${COUNTS} | {rate}/s | ETA {eta_formatted}`
        : `progress: {value}/{total} lines ({percentage}%), ${COUNTS.replaceAll(' |', ',')}, {rate}/s, ETA {eta_formatted}`,
      hideCursor: tty ? true : null,
      noTTYOutput: true,
      notTTYSchedule: intervalMs,
      etaBuffer: 200,
      etaAsynchronousUpdate: true,
      fps: 5,
      barsize: 24,
    });
    this.bar.start(total, 0, this.payload(emptyCounts()));
  }

  /** One more request answered (for the rate). */
  countRequest(): void {
    this.sent += 1;
  }

  update(done: number, counts: LineCounts): void {
    this.bar?.update(done, this.payload(counts));
  }

  stop(): void {
    this.bar?.stop();
  }

  private payload(counts: LineCounts) {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const skipped = counts.invalid + counts.duplicate + counts.not_sent;
    return { ...counts, skipped, rate: (this.sent / seconds).toFixed(1) };
  }
}
