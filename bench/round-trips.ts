import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** One outbound call of the handler process: what it was, and when it started and was answered. */
export interface TracedCall {
  name: string;
  start: number;
  end: number;
}

interface UndiciRequest {
  method: string;
  origin: string;
  path: string;
}

/** DynamoDB and SQS (AWS JSON protocol) name their operation in x-amz-target; Verifik by its path. */
function nameOfHttp(request: ClientRequest): string {
  const target = String(request.getHeader('x-amz-target') ?? '');
  if (target.startsWith('DynamoDB_')) return target.split('.')[1]!;
  if (target.startsWith('AmazonSQS.')) return target.split('.')[1]!;
  return `${request.method} ${request.path}`;
}

function nameOfFetch(request: UndiciRequest): string {
  return request.path.startsWith('/v2/face-recognition/persons/')
    ? `Verifik ${request.method}`
    : `${request.method} ${request.path}`;
}

/**
 * Records every HTTP call the process makes (node:http, which the AWS SDK uses, and fetch, which ky
 * and the baseline use) through Node's diagnostics channels, from the request's start to its
 * response. Nothing is changed in the handlers: they are traced, not wrapped.
 */
export function traceCalls() {
  const open = new Map<object, TracedCall>();
  let calls: TracedCall[] = [];
  const begin = (key: object, name: string) => {
    const call = { name, start: performance.now(), end: Number.NaN };
    open.set(key, call);
    calls.push(call);
  };
  const finish = (key: object) => {
    const call = open.get(key);
    if (!call) return;
    call.end = performance.now();
    open.delete(key);
  };
  const handlers: [string, (message: unknown) => void][] = [
    [
      'http.client.request.start',
      (m) => begin((m as { request: ClientRequest }).request, nameOfHttp((m as { request: ClientRequest }).request)),
    ],
    ['http.client.response.finish', (m) => finish((m as { request: ClientRequest }).request)],
    [
      'undici:request:create',
      (m) => begin((m as { request: UndiciRequest }).request, nameOfFetch((m as { request: UndiciRequest }).request)),
    ],
    ['undici:request:trailers', (m) => finish((m as { request: UndiciRequest }).request)],
  ];
  for (const [channel, handler] of handlers) diagnostics.subscribe(channel, handler);
  return {
    /** The calls since the last take. */
    take(): TracedCall[] {
      const taken = calls;
      calls = [];
      return taken;
    },
    stop() {
      for (const [channel, handler] of handlers) diagnostics.unsubscribe(channel, handler);
    },
  };
}

/**
 * The calls as sequential round trips: a call's round is one more than the latest round of the calls
 * answered before it started, so calls made at once share a round. The number of rounds is the
 * critical path in round trips.
 */
export function roundTrips(calls: readonly TracedCall[]): string[][] {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  const round = new Map<TracedCall, number>();
  for (const call of sorted) {
    const before = sorted.filter((other) => other !== call && other.end <= call.start).map((other) => round.get(other) ?? 0);
    round.set(call, 1 + Math.max(0, ...before));
  }
  const rounds: string[][] = [];
  for (const call of sorted) (rounds[round.get(call)! - 1] ??= []).push(call.name);
  return rounds;
}

/** `SendMessage ∥ PutItem → Verifik DELETE → …` */
export const describeRounds = (rounds: readonly string[][]) => rounds.map((names) => names.join(' ∥ ')).join(' → ');
