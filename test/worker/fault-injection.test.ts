import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import pMap from 'p-map';
import { httpEvent, lambdaContext } from '../../infra/local/api-gateway';
import { LocalRetryQueue } from '../../infra/local/local-retry-queue';
import { newMessageId, newWebhookSecret, signedHeaders } from '../../infra/local/signed-client';
import { VerifikSandbox, type SandboxAnswer } from '../../infra/local/verifik-sandbox';
import { DynamoAuditStore } from '../../lambda/audit/dynamo-audit-store';
import type { PersonState } from '../../lambda/erasure/types';
import { SERVICE_NAME } from '../../lambda/names';
import { composeLocal } from '../../infra/local/compose-local';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { PendingWork } from '../../infra/local/pending-work';
import { DyingStore, seededRandom } from '../support/dying-store';
import { SlowStore } from '../support/slow-store';

/**
 * 1,000 erasure requests while Verifik fails about a third of all calls, DELETEs and the GETs that
 * verify them alike (5xx, 429 with Retry-After, answers slower than our timeout, dropped connections), the store answers late now and then, a
 * fifth of the webhooks arrive twice (half of those concurrently) and invocations die between
 * Verifik's answer and the record update. The retry schedule is compressed to seconds. Every person
 * must end terminal, with the outcome the facts allow, no 401 may ever become an erasure, and the
 * work per erasure (retry messages, DELETEs) must stay within its bound.
 *
 * Sized for CI's 2 busy cores: 10 requests in flight, timings that leave a slow store room before
 * leases and visibility timeouts run out (as the stack does: visibility well past the worker's timeout).
 */
const REQUESTS = Number(process.env.FAULT_REQUESTS ?? 1_000);
const CONCURRENCY = 10;
const SEED = Number(process.env.FAULT_SEED ?? 20261128);
const INVOCATION_TIMEOUT_MS = 4_000;
const VISIBILITY_TIMEOUT_MS = 3 * INVOCATION_TIMEOUT_MS;
const RETRY_LIMIT = 2;
const SCHEDULE_S = [0.3, 0.4, 0.6, 0.8, 1, 1.5, 2, 2.5];
/** A slow store: 4% of its calls answer 50 to 600 ms late. */
const SLOW_STORE = { rate: 0.04, minMs: 50, maxMs: 600 };

type Kind = 'exists' | 'absent' | 'rejected' | 'unauthorized';
const KIND_SHARES: [Kind, number][] = [
  ['exists', 0.7],
  ['absent', 0.2],
  ['rejected', 0.05],
  ['unauthorized', 0.05],
];

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(() => dynamo.close());

it('loses no erasure and reports no false one under injected faults', async () => {
  const random = seededRandom(SEED);
  const token = `token-${randomBytes(8).toString('hex')}`;
  const sandbox = await VerifikSandbox.start({ token });
  const { tableName } = await dynamo.newTable();
  const secret = newWebhookSecret();
  const env = {
    VERIFIK_BASE_URL: sandbox.url,
    VERIFIK_TOKEN: token,
    WEBHOOK_SECRET: secret,
    SUBJECT_REF_PEPPER: randomBytes(32).toString('hex'),
    HUBSPOT_CLIENT_SECRET: randomBytes(18).toString('hex'),
    AUDIT_TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    VERIFIK_TIMEOUT_MS: '250',
    VERIFIK_RETRY_LIMIT: String(RETRY_LIMIT),
    VERIFIK_BACKOFF_BASE_MS: '5',
    VERIFIK_BACKOFF_LIMIT_MS: '40',
    INLINE_BUDGET_MS: '900',
    RESERVE_MS: '1500',
    LEASE_MARGIN_MS: '1500',
    RETRY_SCHEDULE: SCHEDULE_S.join(','),
  };

  // The facts at Verifik, and every answer it gave to a DELETE.
  const kinds = new Map<string, Kind>();
  const answers = new Map<string, (number | 'drop')[]>();
  const faults = { '5xx': 0, '429': 0, slow: 0, dropped: 0 };
  const note = (personId: string, answer: number | 'drop') => answers.set(personId, [...(answers.get(personId) ?? []), answer]);
  // The same faults on the GET that verifies a delete; its truth is whether Verifik still holds the person.
  sandbox.getResponder = (personId) => faulty(personId, () => sandbox.documentedGet(personId));
  sandbox.responder = (personId) => {
    const answer = faulty(personId, () => truth(personId, kinds.get(personId)!));
    note(personId, 'drop' in answer ? 'drop' : answer.status);
    return answer;
  };
  const faulty = (personId: string, truthNow: () => SandboxAnswer) => {
    let answer: SandboxAnswer;
    const r = random();
    if (r < 0.12) {
      faults['5xx'] += 1;
      answer = { status: r < 0.06 ? 503 : 500 };
    } else if (r < 0.19) {
      faults['429'] += 1;
      answer = { status: 429, headers: { 'retry-after': '1' } };
    } else if (r < 0.26) {
      // Slower than our timeout, but Verifik does the work all the same.
      faults.slow += 1;
      answer = { ...truthNow(), delayMs: 500 };
    } else if (r < 0.33) {
      faults.dropped += 1;
      if (random() < 0.5) truthNow(); // dropped after the work was done
      answer = { drop: true };
    } else {
      answer = truthNow();
    }
    return answer;
  };
  const truth = (personId: string, kind: Kind): SandboxAnswer => {
    if (kind === 'rejected') return { status: 400, body: { error: 'Bad request', message: 'INVALID_PERSON' } };
    if (kind === 'unauthorized') return { status: 401, body: { error: 'Unauthorized', message: 'UNAUTHORIZED' } };
    return sandbox.documented(personId);
  };

  const logger = new Logger({
    serviceName: SERVICE_NAME,
    logLevel: (process.env.TEST_LOG_LEVEL as 'ERROR' | undefined) ?? 'SILENT',
  });
  const dying = new DyingStore(
    new DynamoAuditStore(dynamo.client, tableName),
    { afterRecording: 0.01, beforeOutcomeRecorded: 0.03 },
    random,
  );
  const slow = new SlowStore(dying, SLOW_STORE, random);
  const retryQueue = new LocalRetryQueue({
    visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS,
    invocationTimeoutMs: INVOCATION_TIMEOUT_MS,
    maxReceiveCount: 50,
  });
  // Retry messages per erasure: every one sent, whatever it turns out to be (a step, a hop, a dropped duplicate).
  const messagesFor = new Map<string, number>();
  const schedule = retryQueue.schedule.bind(retryQueue);
  retryQueue.schedule = (message) => {
    messagesFor.set(message.erasureId, (messagesFor.get(message.erasureId) ?? 0) + 1);
    return schedule(message);
  };
  const { http } = composeLocal(env, {
    dynamodb: dynamo.client,
    store: () => slow,
    retryQueue,
    logger,
    workerTimeoutMs: INVOCATION_TIMEOUT_MS,
  });
  // Deliveries whose caller gave up on them (the "died" ones) still run: awaited before teardown.
  const abandoned = new PendingWork();

  // 1,000 requests of 1 to 3 persons.
  const requests = Array.from({ length: REQUESTS }, () => {
    const personIds = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
      const id = randomBytes(12).toString('hex');
      const kind = pick(random());
      kinds.set(id, kind);
      if (kind === 'exists' || kind === 'unauthorized') sandbox.createPerson(id);
      return id;
    });
    return {
      erasureId: newMessageId(),
      body: JSON.stringify({ personIds, reason: 'gdpr-art-17', requestedBy: 'crm' }),
      personIds,
    };
  });

  const deliveries = {
    first: 0,
    sequentialDuplicates: 0,
    concurrentDuplicates: 0,
    died: 0,
    answers: {} as Record<string, number>,
  };
  const deliveryCount = new Map<string, number>();
  const deliver = async ({ erasureId, body }: (typeof requests)[number]) => {
    deliveryCount.set(erasureId, (deliveryCount.get(erasureId) ?? 0) + 1);
    const event = httpEvent({
      method: 'POST',
      url: '/erasures',
      headers: { 'content-type': 'application/json', ...signedHeaders(secret, { id: erasureId, body }) },
      body,
    });
    const result = await Promise.race([
      // Its own clock ends the work (the inline budget); the race below is the caller giving up on it.
      // A context with room to spare keeps middy's early answer from leaving that work untracked.
      abandoned.track(http(event, lambdaContext(10 * INVOCATION_TIMEOUT_MS))),
      sleep(INVOCATION_TIMEOUT_MS).then(() => 'died' as const),
    ]);
    const status = result === 'died' ? 'died' : String(result.statusCode);
    if (result === 'died') deliveries.died += 1;
    deliveries.answers[status] = (deliveries.answers[status] ?? 0) + 1;
    // 503: the request could not be recorded or armed in time (a slow store); 'died': the caller gave up.
    expect(['200', '202', '503', 'died']).toContain(status);
  };

  const started = Date.now();
  await pMap(
    requests,
    async (request) => {
      const r = random();
      deliveries.first += 1;
      if (r < 0.1) {
        deliveries.concurrentDuplicates += 1;
        await Promise.all([deliver(request), deliver(request)]);
      } else if (r < 0.2) {
        deliveries.sequentialDuplicates += 1;
        await deliver(request);
        await deliver(request);
      } else {
        await deliver(request);
      }
    },
    { concurrency: CONCURRENCY },
  );
  const answeredMs = Date.now() - started;
  await retryQueue.idle();
  const settledMs = Date.now() - started;

  // Every request recorded, every person terminal, with an outcome the facts allow.
  const store = new DynamoAuditStore(dynamo.client, tableName);
  const outcomes: Record<string, number> = {};
  const problems: string[] = [];
  let persons = 0;
  let notes = 0;
  for (const request of requests) {
    const stored = await store.getErasure(request.erasureId);
    if (!stored) {
      problems.push(`${request.erasureId}: lost`);
      continue;
    }
    for (const personId of request.personIds) {
      persons += 1;
      const person = stored.persons.find((p) => p.personId === personId);
      const outcome = person?.outcome ?? 'never attempted';
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (person?.note) notes += 1;
      const problem = judge(kinds.get(personId)!, person, answers.get(personId) ?? [], sandbox.has(personId));
      if (problem) problems.push(`${request.erasureId}/${personId} (${kinds.get(personId)}): ${problem}`);
    }
  }

  // Work per erasure. Each delivery arms one message; only the chain's current step acts, and it
  // sends at most one next message (a hop past SQS's delay cap or a Retry-After pause included, each
  // counted against the schedule or bounded by it); a step seen twice (visibility timeout, a death)
  // may send one more that is then dropped. DELETEs per person: a call makes at most RETRY_LIMIT + 1;
  // the first delivery and redeliveries stop at the redelivery cap; each step makes one call; a
  // death or an expired lease can repeat one. GETs per person: the same bound (each invocation that
  // deletes or verifies a person makes at most one GET call, and the cap counts GETs too).
  const perCall = RETRY_LIMIT + 1;
  const redeliveryCap = 2 * perCall;
  const byErasure = requests.map((request) => {
    const deliveredTimes = deliveryCount.get(request.erasureId) ?? 1;
    const most = (method: 'DELETE' | 'GET') => Math.max(...request.personIds.map((id) => sandbox.callsFor(id, method).length));
    return {
      erasureId: request.erasureId,
      deliveredTimes,
      messages: messagesFor.get(request.erasureId) ?? 0,
      deletes: most('DELETE'),
      gets: most('GET'),
    };
  });
  const messageBound = (delivered: number) => delivered + 2 * SCHEDULE_S.length + 2;
  const deleteBound = redeliveryCap + perCall * (SCHEDULE_S.length + 3);
  for (const e of byErasure) {
    if (e.messages > messageBound(e.deliveredTimes))
      problems.push(
        `${e.erasureId}: ${e.messages} retry messages for ${e.deliveredTimes} deliveries (bound ${messageBound(e.deliveredTimes)})`,
      );
    if (e.deletes > deleteBound) problems.push(`${e.erasureId}: ${e.deletes} DELETEs for one person (bound ${deleteBound})`);
    if (e.gets > deleteBound) problems.push(`${e.erasureId}: ${e.gets} GETs for one person (bound ${deleteBound})`);
  }
  const most = (key: 'messages' | 'deletes' | 'gets') => Math.max(...byErasure.map((e) => e[key]));
  const mean = (key: 'messages' | 'deletes' | 'gets') => byErasure.reduce((sum, e) => sum + e[key], 0) / byErasure.length;

  console.log(
    [
      `fault injection (seed ${SEED}): ${REQUESTS} requests, ${persons} persons, ${sandbox.calls.length} Verifik calls, ${CONCURRENCY} in flight`,
      `  faults injected: ${JSON.stringify(faults)} (${pct(
        Object.values(faults).reduce((a, b) => a + b, 0),
        sandbox.calls.length,
      )} of calls); slow store answers: ${slow.slowCalls}`,
      `  deliveries: ${JSON.stringify(deliveries)}`,
      `  invocations died: ${JSON.stringify(dying.deaths)}; retry messages sent ${retryQueue.sent}, redelivered ${retryQueue.redeliveries}, dead-lettered ${retryQueue.deadLetters.length}`,
      `  per erasure: retry messages mean ${mean('messages').toFixed(2)}, max ${most('messages')} (bound deliveries + ${2 * SCHEDULE_S.length + 2}); DELETEs per person mean ${mean('deletes').toFixed(2)}, max ${most('deletes')} (bound ${deleteBound}); GETs per person mean ${mean('gets').toFixed(2)}, max ${most('gets')}`,
      `  outcomes: ${JSON.stringify(outcomes)}; with an auditor's note: ${notes}`,
      `  wrong or lost: ${problems.length}; erased without a 2xx (a 401 among them or not): ${problems.filter((p) => p.includes('without a 2xx')).length}`,
      `  time: all answered in ${(answeredMs / 1000).toFixed(1)} s, all terminal in ${(settledMs / 1000).toFixed(1)} s`,
    ].join('\n'),
  );

  // Teardown: the dead invocations end, the queue and every abandoned delivery finish, then the sandbox closes.
  dying.bury();
  await retryQueue.close();
  await abandoned.settled();
  await sandbox.close();
  expect(problems).toEqual([]);
  // The same fault mix on every run, each kind in a count that matters.
  expect(Object.values(faults).reduce((a, b) => a + b, 0) / sandbox.calls.length).toBeGreaterThanOrEqual(0.3);
  expect(faults['5xx']).toBeGreaterThanOrEqual(300);
  expect(faults['429']).toBeGreaterThanOrEqual(150);
  expect(faults.slow).toBeGreaterThanOrEqual(150);
  expect(faults.dropped).toBeGreaterThanOrEqual(150);
  expect(slow.slowCalls).toBeGreaterThanOrEqual(200);
  expect(dying.deaths.beforeOutcomeRecorded).toBeGreaterThanOrEqual(50);
  expect(dying.deaths.afterRecording).toBeGreaterThanOrEqual(3);
  expect(deliveries.concurrentDuplicates).toBeGreaterThanOrEqual(50);
  expect(deliveries.sequentialDuplicates).toBeGreaterThanOrEqual(50);
}, 900_000);

/** What may be recorded for a person, given what Verifik holds and answered. */
function judge(
  kind: Kind,
  person: PersonState | undefined,
  given: (number | 'drop')[],
  stillAtVerifik: boolean,
): string | undefined {
  if (!person) return 'never attempted';
  const { outcome } = person;
  const gave = (status: number) => given.includes(status);
  if (outcome === 'pending') return 'still pending';
  if (outcome === 'erased' && !given.some((a) => typeof a === 'number' && a >= 200 && a < 300))
    return `erased without a 2xx (answers ${given.join(',')}, 401 among them: ${gave(401)})`;
  // Verification is on: nothing is erased until Verifik said it holds no such person.
  if ((outcome === 'erased' || outcome === 'already_erased') && !person.verifiedAbsentAt)
    return `${outcome} without verifiedAbsentAt`;
  switch (kind) {
    case 'exists':
      if (stillAtVerifik) return `${outcome} but still at Verifik`;
      if (outcome === 'already_erased' && !person.note) return 'already_erased for a person we deleted, without a note';
      return outcome === 'erased' || outcome === 'already_erased' ? undefined : `${outcome} (${person.lastError})`;
    case 'absent':
      return outcome === 'already_erased' ? undefined : `${outcome} for an absent person`;
    case 'rejected':
      return outcome === 'failed' && person.vendorStatus === 400 ? undefined : `${outcome} for a refused person`;
    case 'unauthorized':
      return outcome === 'failed' && person.exhausted && stillAtVerifik ? undefined : `${outcome} for a person behind 401`;
  }
}

function pick(r: number): Kind {
  let acc = 0;
  for (const [kind, share] of KIND_SHARES) {
    acc += share;
    if (r < acc) return kind;
  }
  return 'exists';
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`;
