import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import pMap from 'p-map';
import { errorName } from '../errors';
import { tagged, type RootLogger } from '../log';
import { publishMetrics } from '../metrics-middleware';
import { FIRST_STEP, rearmIfUnarmed } from '../erasure/erasure-service';
import type { AuditStore, DeadlineMetricName, RetryQueue } from '../erasure/ports';
import { buildRecord } from '../erasure/record';
import { NEAR_DUE_DAYS, deadlineState, effectiveDueAt } from '../erasure/statutory-clock';

const DAY_MS = 86_400_000;
/** The shortest calendar month: no erasure is due sooner after receipt. */
const SHORTEST_MONTH_DAYS = 28;
/** Received + one month + the longest extension (two months): no erasure is due later after receipt. */
const LONGEST_PERIOD_DAYS = 92;

/**
 * The sweep looks at requests received between these two ages: old enough that their first retry
 * message is long due (about a minute after receipt by default, 15 minutes at most: SQS's longest
 * delay) even behind a backlog, recent enough that a few missed hourly runs still find them.
 */
export const UNARMED_AFTER_MS = 30 * 60_000;
export const UNARMED_LOOKBACK_MS = 6 * 3_600_000;

export interface DeadlineCheckDeps {
  store: Pick<AuditStore, 'requestsReceivedBetween' | 'getErasure'>;
  /** Where a retry chain is armed for an erasure recorded without one (the sweep). */
  retryQueue: RetryQueue;
  logger: RootLogger;
  metrics: Metrics;
  /** Days after its due date an erasure that is not completed keeps counting as overdue. */
  overdueLookbackDays: number;
  /** Erasures read at once. */
  concurrency?: number;
  now?: () => Date;
}

export interface DeadlineReport {
  /** Requests read from the time index, and how many of them were near or past their due date. */
  examined: number;
  candidates: number;
  nearDue: string[];
  overdue: string[];
  /** Erasures still at their first retry step, with a person open, that the sweep sent a first message for. */
  rearmed: string[];
  /** Those it could not (the queue or the table failed): the run then fails, after publishing its counts. */
  rearmFailed: string[];
}

/**
 * Counts the erasures that are not completed (pending, or failed) within NEAR_DUE_DAYS of their
 * (extended) due date, and those past it, and publishes both counts (ErasuresNearDue,
 * ErasuresOverdue), zeros included, so the alarms see the check run. No table scan: one Query per
 * month on the received-time index, over only the receipts whose due date can fall in the window,
 * then one Query per erasure near or past its due date to read its persons.
 */
export async function checkDeadlines(deps: DeadlineCheckDeps): Promise<DeadlineReport> {
  const now = (deps.now ?? (() => new Date()))();
  const since = now.getTime() - deps.overdueLookbackDays * DAY_MS;
  const received = await deps.store.requestsReceivedBetween(
    new Date(since - LONGEST_PERIOD_DAYS * DAY_MS),
    new Date(now.getTime() + (NEAR_DUE_DAYS - SHORTEST_MONTH_DAYS) * DAY_MS),
  );
  const candidates = received.filter((request) => {
    const due = effectiveDueAt(request);
    return deadlineState(due, now) !== 'on_time' && Date.parse(due) >= since;
  });
  const report: DeadlineReport = {
    examined: received.length,
    candidates: candidates.length,
    nearDue: [],
    overdue: [],
    rearmed: [],
    rearmFailed: [],
  };
  await pMap(
    candidates,
    async (request) => {
      const stored = await deps.store.getErasure(request.erasureId);
      if (!stored) return;
      const record = buildRecord(stored.request, stored.persons);
      if (record.status === 'completed') return;
      const dueAt = effectiveDueAt(stored.request);
      const state = deadlineState(dueAt, now);
      if (state === 'on_time') return;
      (state === 'overdue' ? report.overdue : report.nearDue).push(record.erasureId);
      tagged(deps.logger, { erasureId: record.erasureId }).warn(
        state === 'overdue' ? 'erasure overdue' : 'erasure near its due date',
        { status: record.status, dueAt },
      );
    },
    { concurrency: deps.concurrency ?? 8 },
  );
  const count = (name: DeadlineMetricName, value: number) => deps.metrics.addMetric(name, MetricUnit.Count, value);
  count('ErasuresNearDue', report.nearDue.length);
  count('ErasuresOverdue', report.overdue.length);
  // After the counts: the sweep needs the queue, and queue trouble must not silence the deadline alarms.
  await rearmUnarmed(deps, now, report);
  count('RetryChainsRearmed', report.rearmed.length);
  deps.logger.info('deadlines checked', {
    examined: report.examined,
    candidates: report.candidates,
    nearDue: report.nearDue.length,
    overdue: report.overdue.length,
    rearmed: report.rearmed.length,
    rearmFailed: report.rearmFailed.length,
  });
  if (report.rearmFailed.length > 0) {
    // The run fails (DeadlineCheckErrors; EventBridge runs it again), its counts published all the same.
    throw new Error(`the sweep could not arm the retry chain of ${report.rearmFailed.length} erasure(s)`);
  }
  return report;
}

/**
 * The sweep: a request still at its first retry step with a person open, received between
 * UNARMED_LOOKBACK_MS and UNARMED_AFTER_MS ago, was recorded by a delivery that could not arm its
 * retry message (it answered 503) and was not delivered again. It gets a first message now.
 */
async function rearmUnarmed(deps: DeadlineCheckDeps, now: Date, report: DeadlineReport): Promise<void> {
  const received = await deps.store.requestsReceivedBetween(
    new Date(now.getTime() - UNARMED_LOOKBACK_MS),
    new Date(now.getTime() - UNARMED_AFTER_MS),
  );
  await pMap(
    received.filter((request) => request.retryStep === FIRST_STEP),
    async ({ erasureId }) => {
      const log = tagged(deps.logger, { erasureId });
      try {
        if (!(await rearmIfUnarmed({ store: deps.store, retryQueue: deps.retryQueue, now: now.getTime() }, erasureId))) return;
        report.rearmed.push(erasureId);
        log.warn('no retry message has started the chain yet (recorded without one, or its first message is late): one sent');
      } catch (error) {
        report.rearmFailed.push(erasureId);
        log.error('retry chain could not be armed; the next run tries again', { error: errorName(error) });
      }
    },
    { concurrency: deps.concurrency ?? 8 },
  );
}

/** The scheduled entry (EventBridge, hourly): the event carries nothing the check needs. */
export function createDeadlineCheck(deps: DeadlineCheckDeps) {
  return middy<unknown, DeadlineReport>()
    .use(publishMetrics(deps.metrics))
    .handler(() => checkDeadlines(deps));
}
