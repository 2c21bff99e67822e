import { Logger } from '@aws-lambda-powertools/logger';
import pMap from 'p-map';
import { localDynamoClient } from '../infra/local/embedded-dynamodb';
import { startLocalStack } from '../infra/local/local-stack';
import { ErasureApiClient, newMessageId } from '../infra/local/signed-client';
import type { SandboxAnswer } from '../infra/local/verifik-sandbox';
import { DynamoAuditStore } from '../lambda/audit/dynamo-audit-store';
import { SERVICE_NAME } from '../lambda/names';
import { DynamoServer } from './dynamo-server';
import { table, type Section } from './report';
import { defaultBurst } from '../lambda/verifik/verifik-pace';
import type { CountedRun } from './storage';

export interface BulkOptions {
  persons: number;
  batch: number;
  /** Verifik's rate limit, requests per second. */
  rate: number;
  /** Tokens the bucket holds (its burst); default one second's worth, `rate`. */
  burst?: number;
  /** Erasure requests in flight at once. */
  inFlight: number;
  /** The client-side pace (VERIFIK_RATE_LIMIT), calls a second; none: Verifik's 429s alone set the pace. */
  pace?: number;
  /** VERIFIK_BURST with the pace; default a tenth of a second's worth. */
  paceBurst?: number;
  verbose?: boolean;
}

/** How the bulk run configures the handlers (environment), and why (printed beside the table). */
const BULK_CONFIG: Record<string, { value: string; why: string }> = {
  PERSON_CONCURRENCY: {
    value: '8',
    why: 'the default: 2 requests × 8 = 16 persons in flight; at ~5 ms per person that offers several times R, so the limit, not our concurrency, sets the pace, while few enough calls are turned away at each refill',
  },
  VERIFIK_RETRY_LIMIT: {
    value: '4',
    why: 'the default: a person turned away waits Retry-After (1 s) and finds the bucket refilled, so it rarely needs more than one retry',
  },
  INLINE_BUDGET_MS: {
    value: '10000',
    why: 'the default: a request of 100 persons at ~R/2 per second takes ~1–2 s, well inside it, so the retry path stays idle',
  },
  RETRY_SCHEDULE: {
    value: '5,10,20,40,80',
    why: 'compressed from hours to seconds: each request arms its first retry 4–6 s ahead (longer than a request takes, so it never races the request for the same persons), and a person left pending would finish within the run',
  },
};

const BULK_ENV = Object.fromEntries(Object.entries(BULK_CONFIG).map(([name, { value }]) => [name, value]));

/** A token bucket: R tokens per second, holding at most `burst` (default one second's worth); 429 + Retry-After beyond. */
class RateLimiter {
  private tokens: number;
  private last = performance.now();
  accepted = 0;
  refused = 0;

  constructor(
    private readonly rate: number,
    private readonly burst = rate,
  ) {
    this.tokens = burst;
  }

  /** Takes a token, or says how many whole seconds until one is there. */
  take(): { ok: true } | { ok: false; retryAfterS: number } {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.accepted += 1;
      return { ok: true };
    }
    this.refused += 1;
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - this.tokens) / this.rate)) };
  }
}

/** One bulk run's figures, a column of the section. */
export interface BulkRun {
  options: BulkOptions;
  burst: number;
  /** Verifik calls the run needs: a DELETE and a verifying GET per person. */
  callsNeeded: number;
  boundS: number;
  terminalS: number;
  answeredS: number;
  idleS: number;
  statuses: Record<string, number>;
  accepted: number;
  refused: number;
  viaRetryPath: number;
  outcomes: Record<string, number>;
  wrong: string[];
  requests: number;
  storage: CountedRun;
}

/**
 * Bulk: `persons` erasures as requests of `batch` persons through the local stack (npm start's
 * handlers behind its HTTP server), against a Verifik that allows `rate` calls a second.
 */
export async function bulk(options: BulkOptions): Promise<BulkRun> {
  // Locally, as npm start does: EMF metrics would only fill the terminal.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const dynamo = await DynamoServer.start();
  // The pace's burst resolved once: the environment and the table's column name say the same.
  if (options.pace !== undefined) options = { ...options, paceBurst: options.paceBurst ?? defaultBurst(options.pace) };
  const pace =
    options.pace === undefined ? {} : { VERIFIK_RATE_LIMIT: String(options.pace), VERIFIK_BURST: String(options.paceBurst) };
  const stack = await startLocalStack(
    { PORT: '0', DYNAMODB_ENDPOINT: dynamo.endpoint, ...BULK_ENV, ...pace },
    { logger: new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' }), sandboxPersons: 0, archive: false },
  );
  const reader = localDynamoClient(dynamo.direct);
  try {
    const sandbox = stack.sandbox!;
    const burst = options.burst ?? options.rate;
    const limiter = new RateLimiter(options.rate, burst);
    // Every call counts against Verifik's limit: the DELETE and the GET that verifies it.
    sandbox.responder = sandbox.getResponder = (): SandboxAnswer | undefined => {
      const taken = limiter.take();
      if (taken.ok) return undefined; // the documented answer: 200, and the person is gone
      return {
        status: 429,
        headers: { 'retry-after': String(taken.retryAfterS) },
        body: { error: 'Too many requests', message: 'RATE_LIMITED' },
      };
    };
    const requests = Array.from({ length: Math.ceil(options.persons / options.batch) }, (_, i) => ({
      erasureId: newMessageId(),
      personIds: Array.from({ length: Math.min(options.batch, options.persons - i * options.batch) }, () =>
        sandbox.createPerson(),
      ),
    }));
    const client = new ErasureApiClient(stack.url, stack.env.WEBHOOK_SECRET!.split(' ')[0]!);
    await dynamo.take(); // table creation is not the run's

    const statuses: Record<string, number> = {};
    const started = performance.now();
    const startedAt = Date.now();
    let done = 0;
    await pMap(
      requests,
      async ({ erasureId, personIds }) => {
        const answer = await client.erase({ personIds, reason: 'gdpr-art-17', requestedBy: 'bench' }, erasureId);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        done += 1;
        if (options.verbose && done % 20 === 0) {
          process.stderr.write(
            `bulk: ${done}/${requests.length} requests answered, ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
          );
        }
      },
      { concurrency: options.inFlight },
    );
    const answeredS = (performance.now() - started) / 1000;
    await stack.retryQueue.idle();
    const idleS = (performance.now() - started) / 1000;
    const counts = await dynamo.take();

    // Every person terminal and correct: erased, or already_erased with a note; gone from Verifik.
    const store = new DynamoAuditStore(reader, stack.env.AUDIT_TABLE_NAME!);
    const outcomes: Record<string, number> = {};
    const wrong: string[] = [];
    let lastCompleted = 0;
    await pMap(
      requests,
      async ({ erasureId, personIds }) => {
        const stored = await store.getErasure(erasureId);
        for (const personId of personIds) {
          const person = stored?.persons.find((p) => p.personId === personId);
          const outcome = person?.outcome ?? (stored ? 'never attempted' : 'request lost');
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          const correct = outcome === 'erased' || (outcome === 'already_erased' && !!person?.note);
          if (!correct || sandbox.has(personId))
            wrong.push(`${erasureId}/${personId}: ${outcome}${sandbox.has(personId) ? ', still at Verifik' : ''}`);
          if (person?.completedAt) lastCompleted = Math.max(lastCompleted, Date.parse(person.completedAt));
        }
      },
      { concurrency: 8 },
    );
    const terminalS = lastCompleted ? (lastCompleted - startedAt) / 1000 : Number.NaN;
    const callsNeeded = options.persons * 2;
    return {
      options,
      burst,
      callsNeeded,
      boundS: callsNeeded / options.rate,
      terminalS,
      answeredS,
      idleS,
      statuses,
      accepted: limiter.accepted,
      refused: limiter.refused,
      viaRetryPath: stack.retryQueue.sent - requests.length,
      outcomes,
      wrong,
      requests: requests.length,
      storage: { counts, persons: options.persons },
    };
  } finally {
    reader.destroy();
    await stack.close();
    await dynamo.close();
  }
}

const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([key, n]) => `${key}: ${n}`)
    .join(', ');
const paceName = (run: BulkRun) =>
  run.options.pace === undefined
    ? 'no pace (429s alone)'
    : `VERIFIK_RATE_LIMIT=${run.options.pace}, VERIFIK_BURST=${run.options.paceBurst}`;

/** The bulk runs side by side: one column each, the same Verifik, the same persons. */
export function bulkSection(runs: BulkRun[], command: string): Section {
  const first = runs[0]!;
  const { persons, rate, batch, inFlight } = first.options;
  const row = (measure: string, value: (run: BulkRun) => string | number) => [measure, ...runs.map(value)];
  return {
    title: 'Bulk throughput',
    command,
    samples: `${persons.toLocaleString('en-US')} persons in ${first.requests} requests of ${batch}, ${inFlight} requests in flight, one run each`,
    table: table(
      ['measure', ...runs.map(paceName)],
      [
        row('Verifik rate limit R', (run) => `${rate}/s, token bucket of ${run.burst} calls, 429 + Retry-After beyond`),
        row(
          'bound: calls needed / R',
          (run) => `${run.callsNeeded.toLocaleString('en-US')} / ${rate} = ${run.boundS.toFixed(1)} s`,
        ),
        row('all persons terminal (last completedAt)', (run) => `${run.terminalS.toFixed(1)} s`),
        row('**× bound**', (run) => `**${(run.terminalS / run.boundS).toFixed(2)}×**`),
        row('all requests answered', (run) => `${run.answeredS.toFixed(1)} s`),
        row('retry queue idle (every armed retry delivered)', (run) => `${run.idleS.toFixed(1)} s`),
        row(
          'achieved rate (Verifik calls accepted / time to terminal)',
          (run) => `${(run.accepted / run.terminalS).toFixed(1)}/s`,
        ),
        row('HTTP answers', (run) => list(run.statuses)),
        row('Verifik calls (accepted + 429)', (run) => `${run.accepted + run.refused} (${run.accepted} + ${run.refused})`),
        row('retry messages beyond the one armed per request', (run) => run.viaRetryPath),
        row('outcomes', (run) => list(run.outcomes)),
        row('**not terminal and correct (must be 0)**', (run) => `**${run.wrong.length}**`),
      ],
    ),
    targets: runs.flatMap((run): [string, boolean][] => [
      [
        `${paceName(run)}: bulk within 1.1× of the rate-limit bound (${(run.terminalS / run.boundS).toFixed(2)}×)`,
        run.terminalS / run.boundS <= 1.1,
      ],
      [`${paceName(run)}: nothing lost: ${run.wrong.length} persons not terminal and correct`, run.wrong.length === 0],
    ]),
    notes: [
      `Configuration: ${Object.entries(BULK_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}; ${inFlight} requests in flight.`,
      ...Object.entries(BULK_CONFIG).map(([k, { why }]) => `${k}: ${why}.`),
      'Verifik counts every call against its limit: each person costs a DELETE and the GET that verifies it, so the bound is 2 × persons / R.',
      'The pace (VERIFIK_RATE_LIMIT, a token bucket from the limiter package) holds each call until a slot is free: at most VERIFIK_BURST calls at once, refilled at VERIFIK_RATE_LIMIT a second from the time that has passed; a 429 that still comes is honoured as without a pace.',
      'Time is from the first request sent to the last person’s completedAt in the audit trail; every request also arms one retry message, delivered 4–6 s after its request and finding the erasure terminal (the “retry queue idle” line).',
      'The local stack as npm start runs it (one process: HTTP server, handlers, retry worker on LocalRetryQueue, sandbox); logs silent and EMF metrics off; dynalite and a counting proxy in a child process.',
      ...runs.flatMap((run) => run.wrong.slice(0, 5).map((w) => `wrong (${paceName(run)}): ${w}`)),
    ],
  };
}
