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

export interface BulkOutcome {
  section: Section;
  storage: CountedRun;
}

/**
 * Bulk: `persons` erasures as requests of `batch` persons through the local stack (npm start's
 * handlers behind its HTTP server), against a Verifik that allows `rate` calls a second.
 */
export async function bulk(options: BulkOptions): Promise<BulkOutcome> {
  // Locally, as npm start does: EMF metrics would only fill the terminal.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const dynamo = await DynamoServer.start();
  const stack = await startLocalStack(
    { PORT: '0', DYNAMODB_ENDPOINT: dynamo.endpoint, ...BULK_ENV },
    { logger: new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' }), sandboxPersons: 0, archive: false },
  );
  const reader = localDynamoClient(dynamo.direct);
  try {
    const sandbox = stack.sandbox!;
    const burst = options.burst ?? options.rate;
    const limiter = new RateLimiter(options.rate, burst);
    sandbox.responder = (): SandboxAnswer | undefined => {
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
    const boundS = options.persons / options.rate;
    const ratio = terminalS / boundS;
    const verifikCalls = limiter.accepted + limiter.refused;
    const viaRetryPath = stack.retryQueue.sent - requests.length;

    const section: Section = {
      title: 'Bulk throughput',
      command: 'npm run bench -- bulk',
      samples: `${options.persons.toLocaleString('en-US')} persons in ${requests.length} requests of ${options.batch}, ${options.inFlight} requests in flight, one run`,
      table: table(
        ['measure', 'value'],
        [
          [
            'Verifik rate limit R',
            `${options.rate}/s (token bucket holding ${burst === options.rate ? '1 s' : `${burst} calls`}, 429 + Retry-After: 1 beyond)`,
          ],
          [`bound ${options.persons.toLocaleString('en-US')} / R`, `${boundS.toFixed(1)} s`],
          ['all persons terminal (last completedAt)', `${terminalS.toFixed(1)} s`],
          ['× bound', `${ratio.toFixed(2)}×`],
          ['all requests answered', `${answeredS.toFixed(1)} s`],
          ['retry queue idle (every armed retry delivered)', `${idleS.toFixed(1)} s`],
          ['achieved rate (persons / time to terminal)', `${(options.persons / terminalS).toFixed(1)}/s`],
          [
            'HTTP answers',
            Object.entries(statuses)
              .map(([s, n]) => `${s}: ${n}`)
              .join(', '),
          ],
          ['Verifik calls (accepted + 429)', `${verifikCalls} (${limiter.accepted} + ${limiter.refused})`],
          ['retry messages beyond the one armed per request', String(viaRetryPath)],
          [
            'outcomes',
            Object.entries(outcomes)
              .map(([o, n]) => `${o}: ${n}`)
              .join(', '),
          ],
          ['**not terminal and correct (must be 0)**', `**${wrong.length}**`],
        ],
      ),
      targets: [
        [`bulk within 1.1× of the rate-limit bound (${ratio.toFixed(2)}×)`, ratio <= 1.1],
        [`nothing lost: ${wrong.length} persons not terminal and correct`, wrong.length === 0],
      ],
      notes: [
        `Configuration: ${Object.entries(BULK_ENV)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}; ${options.inFlight} requests in flight.`,
        ...Object.entries(BULK_CONFIG).map(([k, { why }]) => `${k}: ${why}.`),
        'Time is from the first request sent to the last person’s completedAt in the audit trail; every request also arms one retry message, delivered 4–6 s after its request and finding the erasure terminal (the “retry queue idle” line).',
        'The local stack as npm start runs it (one process: HTTP server, handlers, retry worker on LocalRetryQueue, sandbox); logs silent and EMF metrics off; dynalite and a counting proxy in a child process.',
        `The bucket starts full, so the fastest possible run is (N − burst) / R = ${((options.persons - burst) / options.rate).toFixed(1)} s (${((options.persons - burst) / options.persons).toFixed(2)}× the bound).`,
        ...wrong.slice(0, 5).map((w) => `wrong: ${w}`),
      ],
    };
    return { section, storage: { counts, persons: options.persons } };
  } finally {
    reader.destroy();
    await stack.close();
    await dynamo.close();
  }
}
