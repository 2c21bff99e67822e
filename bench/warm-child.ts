/**
 * The handler process of the warm benchmark (forked by warm.ts, configured by its environment like
 * a Lambda): the real HTTP handler as lambda/compose.ts builds it for production (SQS retry queue
 * against the fake SQS, DynamoDB client to dynalite), the same-calls reference and the baseline,
 * called in-process with signed API Gateway events. dynalite, the sandbox and the fake SQS live in the parent, so the
 * CPU time and memory measured here are the handlers' own (and the event building's).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { httpEvent, lambdaContext } from '../infra/local/api-gateway';
import { signedHeaders } from '../infra/local/signed-client';
import { composeHttp } from '../lambda/compose';
import { readConfig } from '../lambda/config';
import { createHttpApp } from '../lambda/http/http-app';
import { createBaselineHandler, createSameCallsHandler, referenceConfig, type ErasureHandler } from './references';
import { describeRounds, roundTrips, traceCalls } from './round-trips';
import { StorageCounter } from './storage';
import { SIDES, type RoundTripResult, type Side, type SideResult, type WarmPlan, type WarmResult } from './warm-plan';

async function run(plan: WarmPlan): Promise<WarmResult> {
  const env = process.env;
  const secret = (env.WEBHOOK_SECRET ?? '').split(' ')[0]!;
  const config = readConfig('http', env);
  // As production builds it (compose.ts), with the DynamoDB client passed in to count its calls.
  const dynamodb = new DynamoDBClient({ endpoint: config.DYNAMODB_ENDPOINT });
  const app = createHttpApp(composeHttp(env, { dynamodb }));
  const sameCalls = referenceConfig(env);
  const baseline = referenceConfig(env);
  const handlers: Record<Side, ErasureHandler> = {
    http: (event) => app(event, lambdaContext(29_000)),
    sameCalls: createSameCallsHandler(sameCalls),
    baseline: createBaselineHandler(baseline),
  };
  const counters: Record<Side, StorageCounter> = {
    http: StorageCounter.attachedTo(dynamodb),
    sameCalls: StorageCounter.attachedTo(sameCalls.dynamodb),
    baseline: StorageCounter.attachedTo(baseline.dynamodb),
  };
  const next: Record<Side, number> = { http: 0, sameCalls: 0, baseline: 0 };
  const events = (side: Side, count: number) =>
    Array.from({ length: count }, () => {
      const personId = plan.persons[side][next[side]++]!;
      const body = JSON.stringify({ personIds: [personId], reason: 'gdpr-art-17', requestedBy: 'bench' });
      const id = `warm_${side}_${next[side]}_${process.pid}`;
      return httpEvent({
        method: 'POST',
        url: '/erasures',
        headers: { 'content-type': 'application/json', ...signedHeaders(secret, { id, body }) },
        body,
      });
    });
  const results = Object.fromEntries(
    SIDES.map((side): [Side, SideResult] => [
      side,
      { latenciesMs: [], cpuUserUs: 0, cpuSystemUs: 0, requests: 0, failures: [], storage: StorageCounter.empty() },
    ]),
  ) as Record<Side, SideResult>;
  const check = (side: Side, answer: APIGatewayProxyStructuredResultV2, into: string[]) => {
    if (answer.statusCode !== 200) {
      into.push(`${side}: ${answer.statusCode} ${String(answer.body).slice(0, 200)}`);
      return;
    }
    if (side === 'http') {
      const record = JSON.parse(String(answer.body)) as { status: string; persons: { outcome: string }[] };
      if (record.status !== 'completed' || record.persons[0]?.outcome !== 'erased') {
        into.push(`http: ${record.status}/${record.persons[0]?.outcome}`);
      }
    }
  };

  // Warm-up, not measured: JIT, connection pools, first-call paths.
  for (const side of SIDES) {
    for (const event of events(side, plan.warmup)) check(side, await handlers[side](event), results[side].failures);
    counters[side].take();
  }

  // Alternating blocks, the first side rotating, so drift on a noisy machine hits all alike.
  for (let block = 0; block < plan.blocksPerSide; block++) {
    const order = SIDES.map((_, i) => SIDES[(i + block) % SIDES.length]!);
    for (const side of order) {
      const handler = handlers[side];
      const result = results[side];
      const batch = events(side, plan.blockSize);
      const cpu = process.cpuUsage();
      for (const event of batch) {
        const started = performance.now();
        const answer = await handler(event);
        result.latenciesMs.push(performance.now() - started);
        check(side, answer, result.failures);
      }
      const used = process.cpuUsage(cpu);
      result.cpuUserUs += used.user;
      result.cpuSystemUs += used.system;
      result.requests += batch.length;
    }
  }
  for (const side of SIDES) results[side].storage = counters[side].take();
  const roundTrips = await traceRoundTrips(
    plan.traced,
    (side) => events(side, 1)[0]!,
    handlers,
    (side, answer) => check(side, answer, results[side].failures),
  );
  return { sides: results, roundTrips, rss: process.memoryUsage().rss };
}

/** Each side's requests one at a time with every outbound call traced, after the timed blocks (tracing costs a little). */
async function traceRoundTrips(
  count: number,
  nextEvent: (side: Side) => APIGatewayProxyEventV2,
  handlers: Record<Side, ErasureHandler>,
  /** Each answer is checked as the timed ones are: a failed request makes fewer calls. */
  check: (side: Side, answer: APIGatewayProxyStructuredResultV2) => void,
): Promise<Record<Side, RoundTripResult>> {
  const tracer = traceCalls();
  try {
    const result = {} as Record<Side, RoundTripResult>;
    for (const side of SIDES) {
      const seen = new Map<string, number>();
      const counts: number[] = [];
      for (let i = 0; i < count; i++) {
        tracer.take();
        check(side, await handlers[side](nextEvent(side)));
        const rounds = roundTrips(tracer.take());
        counts.push(rounds.length);
        const described = describeRounds(rounds);
        seen.set(described, (seen.get(described) ?? 0) + 1);
      }
      const [typical, typicalCount] = [...seen].sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
      result[side] = { counts, typical, typicalCount };
    }
    return result;
  } finally {
    tracer.stop();
  }
}

process.once('message', (plan: WarmPlan) => {
  run(plan).then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (error: unknown) => process.send!({ ok: false, error: String((error as Error)?.stack ?? error) }, () => process.exit(1)),
  );
});
