import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { lambdaContext } from '../../infra/local/api-gateway';
import type { DynamoAuditStore } from '../../lambda/audit/dynamo-audit-store';
import { composeDeadlines } from '../../lambda/compose';
import { checkDeadlines, createDeadlineCheck } from '../../lambda/deadlines/deadline-check';
import type { Outcome } from '../../lambda/erasure/types';
import { addCalendarMonths, dueDateFor } from '../../lambda/erasure/statutory-clock';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/names';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { RecordingRetryQueue } from '../support/scripted-verifik';
import { FIRST_STEP } from '../../lambda/erasure/erasure-service';

const NOW = new Date('2026-06-15T12:00:00.000Z');

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(() => dynamo.close());

const silent = () => new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' });

/** The scheduled entry as the stack deploys it, on a dynalite table, a recording queue and `metrics`. */
const scheduledCheck = (tableName: string, retryQueue: RecordingRetryQueue, metrics: Metrics) =>
  createDeadlineCheck(
    composeDeadlines(
      { AUDIT_TABLE_NAME: tableName, DYNAMODB_ENDPOINT: dynamo.endpoint, RETRY_QUEUE_URL: 'https://sqs.local/retry' },
      { dynamodb: dynamo.client, retryQueue, logger: silent(), metrics, now: () => NOW },
    ),
  );

const requestOf = (erasureId: string, receivedAt: string, personIds: string[]) => ({
  erasureId,
  personIds,
  fingerprint: 'fp',
  receivedAt,
  dueAt: dueDateFor(receivedAt),
  expiresAt: 2_000_000_000,
});

/** Records an erasure as the service would: the request, then each person with its outcome (none: never attempted). */
async function record(
  store: DynamoAuditStore,
  erasureId: string,
  receivedAt: string,
  outcomes: Outcome[],
  extensionMonths?: 1 | 2,
) {
  const personIds = outcomes.length > 0 ? outcomes.map((_, i) => `${erasureId}_p${i}`) : [`${erasureId}_p`];
  const request = requestOf(erasureId, receivedAt, personIds);
  await store.createRequest(request);
  for (const [i, outcome] of outcomes.entries()) {
    const personId = personIds[i]!;
    const now = Date.parse(receivedAt);
    await store.claimPerson(erasureId, personId, {
      owner: 'o',
      now,
      leaseUntil: now + 1_000,
      receivedAt,
      expiresAt: 2_000_000_000,
    });
    await store.settlePerson(erasureId, personId, 'o', { outcome, attempts: 1, updatedAt: receivedAt, completedAt: receivedAt });
  }
  if (extensionMonths) {
    await store.extendDueDate(erasureId, {
      dueAt: request.dueAt,
      extendedDueAt: addCalendarMonths(receivedAt, 1 + extensionMonths),
      extension: { months: extensionMonths, reason: 'r', requestedAt: receivedAt },
    });
  }
}

describe('the hourly deadline check, against dynalite', () => {
  it('counts erasures not completed near their due date and past it, and leaves the rest', async () => {
    const { store } = await dynamo.newTable();
    await record(store, 'near_pending', '2026-05-20T10:00:00.000Z', ['erased', 'pending']); // due 06-20: in 5 days
    await record(store, 'near_completed', '2026-05-20T10:00:00.000Z', ['erased', 'already_erased']);
    await record(store, 'near_failed_edge', '2026-05-25T12:00:00.000Z', ['failed']); // due 06-25 12:00: exactly 10 days
    await record(store, 'overdue_failed', '2026-05-01T10:00:00.000Z', ['failed', 'erased']); // due 06-01
    await record(store, 'overdue_never_attempted', '2026-05-10T10:00:00.000Z', []); // due 06-10
    await record(store, 'extended_on_time', '2026-05-01T10:00:00.000Z', ['pending'], 2); // due 08-01
    await record(store, 'extended_overdue', '2026-04-10T10:00:00.000Z', ['pending'], 1); // due 06-10
    await record(store, 'extended_near', '2026-04-20T10:00:00.000Z', ['pending'], 1); // due 06-20
    await record(store, 'on_time', '2026-06-01T10:00:00.000Z', ['pending']); // due 07-01
    await record(store, 'received_now', '2026-06-15T11:00:00.000Z', ['pending']);
    await record(store, 'overdue_beyond_lookback', '2025-12-01T10:00:00.000Z', ['pending']); // due 2026-01-01
    await record(store, 'completed_long_ago', '2026-01-10T10:00:00.000Z', ['erased']);
    const read: string[] = [];
    const counting = {
      requestsReceivedBetween: store.requestsReceivedBetween.bind(store),
      getErasure: (erasureId: string) => {
        read.push(erasureId);
        return store.getErasure(erasureId);
      },
    };
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    const added = jest.spyOn(metrics, 'addMetric');

    const report = await checkDeadlines({
      store: counting,
      retryQueue: new RecordingRetryQueue(),
      logger: silent(),
      metrics,
      overdueLookbackDays: 90,
      now: () => NOW,
    });

    expect(report.nearDue.sort()).toEqual(['extended_near', 'near_failed_edge', 'near_pending']);
    expect(report.overdue.sort()).toEqual(['extended_overdue', 'overdue_failed', 'overdue_never_attempted']);
    expect(added).toHaveBeenCalledWith('ErasuresNearDue', MetricUnit.Count, 3);
    expect(added).toHaveBeenCalledWith('ErasuresOverdue', MetricUnit.Count, 3);
    // Only erasures near or past their due date are read person by person; the index bounds the rest.
    expect(read.sort()).toEqual(
      [
        'extended_near',
        'extended_overdue',
        'near_completed',
        'near_failed_edge',
        'near_pending',
        'overdue_failed',
        'overdue_never_attempted',
      ].sort(),
    );
    expect(report.examined).toBeLessThan(12);
  });

  it('stops counting an erasure as overdue OVERDUE_LOOKBACK_DAYS after its due date', async () => {
    const { store } = await dynamo.newTable();
    await record(store, 'overdue_60_days', '2026-03-16T10:00:00.000Z', ['failed']); // due 04-16
    const run = (days: number) =>
      checkDeadlines({
        store,
        retryQueue: new RecordingRetryQueue(),
        logger: silent(),
        metrics: new Metrics(),
        overdueLookbackDays: days,
        now: () => NOW,
      });

    expect((await run(90)).overdue).toEqual(['overdue_60_days']);
    expect((await run(30)).overdue).toEqual([]);
  });

  it('publishes zeros when nothing is near or past due, so the alarms see every run', async () => {
    const { tableName } = await dynamo.newTable();
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    const added = jest.spyOn(metrics, 'addMetric');
    const published = jest.spyOn(metrics, 'publishStoredMetrics');
    const handler = scheduledCheck(tableName, new RecordingRetryQueue(), metrics);

    const report = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, lambdaContext(60_000));

    expect(report).toEqual({ examined: 0, candidates: 0, nearDue: [], overdue: [], rearmed: [], rearmFailed: [] });
    expect(added).toHaveBeenCalledWith('ErasuresNearDue', MetricUnit.Count, 0);
    expect(added).toHaveBeenCalledWith('ErasuresOverdue', MetricUnit.Count, 0);
    expect(added).toHaveBeenCalledWith('RetryChainsRearmed', MetricUnit.Count, 0);
    expect(published).toHaveBeenCalledTimes(1);
  });
});

describe('the sweep for erasures recorded without a retry chain', () => {
  const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();
  /** A request as the service records it (at FIRST_STEP), then each person with its outcome. */
  async function recordAtFirstStep(store: DynamoAuditStore, erasureId: string, receivedAt: string, outcomes: Outcome[]) {
    const personIds = outcomes.map((_, i) => `${erasureId}_p${i}`);
    await store.createRequest({ ...requestOf(erasureId, receivedAt, personIds), retryStep: FIRST_STEP });
    const first = { receivedAt, expiresAt: 2_000_000_000 };
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome === 'pending') continue; // never attempted: no item
      await store.settlePerson(
        erasureId,
        personIds[i]!,
        'o',
        { outcome, attempts: 1, updatedAt: receivedAt, completedAt: receivedAt },
        first,
      );
    }
  }

  it('arms a first message for an erasure still at its first step with a person open, and for no other', async () => {
    const { store } = await dynamo.newTable();
    await recordAtFirstStep(store, 'unarmed', minutesAgo(45), ['erased', 'pending']);
    await recordAtFirstStep(store, 'unarmed_edge', minutesAgo(6 * 60 - 1), ['pending']);
    await recordAtFirstStep(store, 'erased_on_the_request_path', minutesAgo(45), ['erased', 'already_erased']);
    await recordAtFirstStep(store, 'first_message_still_due', minutesAgo(25), ['pending']);
    await recordAtFirstStep(store, 'older_than_the_sweep', minutesAgo(7 * 60), ['pending']);
    await recordAtFirstStep(store, 'chain_started', minutesAgo(45), ['pending']);
    await store.advanceRetryStep('chain_started', FIRST_STEP, 'step-2');
    const retryQueue = new RecordingRetryQueue();
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    const added = jest.spyOn(metrics, 'addMetric');

    const report = await checkDeadlines({
      store,
      retryQueue,
      logger: silent(),
      metrics,
      overdueLookbackDays: 90,
      now: () => NOW,
    });

    expect(report.rearmed.sort()).toEqual(['unarmed', 'unarmed_edge']);
    expect(retryQueue.scheduled.map((m) => m.erasureId).sort()).toEqual(['unarmed', 'unarmed_edge']);
    expect(retryQueue.scheduled[0]).toEqual({
      erasureId: expect.any(String),
      attempt: 0,
      notBefore: NOW.getTime(),
      step: expect.any(String),
      after: FIRST_STEP,
    });
    expect(added).toHaveBeenCalledWith('RetryChainsRearmed', MetricUnit.Count, 2);
  });

  it('publishes the deadline counts even when the queue fails, then fails the run so that it is retried and alarmed on', async () => {
    const { tableName, store } = await dynamo.newTable();
    await recordAtFirstStep(store, 'unarmed', minutesAgo(60), ['pending']);
    await record(store, 'overdue', '2026-05-01T10:00:00.000Z', ['failed']);
    const retryQueue = new RecordingRetryQueue();
    retryQueue.failing = true;
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    const added = jest.spyOn(metrics, 'addMetric');
    const published = jest.spyOn(metrics, 'publishStoredMetrics');
    const handler = scheduledCheck(tableName, retryQueue, metrics);

    await expect(handler({}, lambdaContext(60_000))).rejects.toThrow(/could not arm the retry chain of 1 erasure/);

    expect(added).toHaveBeenCalledWith('ErasuresOverdue', MetricUnit.Count, 1);
    expect(added).toHaveBeenCalledWith('RetryChainsRearmed', MetricUnit.Count, 0);
    expect(published).toHaveBeenCalledTimes(1);
  });
});

describe('requestsReceivedBetween', () => {
  it('answers nothing, without a query, for an empty or inverted range', async () => {
    const { store } = await dynamo.newTable();
    await record(store, 'e1', '2026-05-20T10:00:00.000Z', ['erased']);
    const from = new Date('2026-05-01T00:00:00.000Z');
    const to = new Date('2026-06-01T00:00:00.000Z');

    await expect(store.requestsReceivedBetween(to, from)).resolves.toEqual([]);
    await expect(store.requestsReceivedBetween(from, from)).resolves.toEqual([]);
    await expect(store.requestsReceivedBetween(from, to)).resolves.toHaveLength(1);
  });
});
