/**
 * Shared pieces of the property-based fuzz suite (test/fuzz/*.test.ts): how a property is run and
 * reported, a second instance of the real HTTP app over a harness's resources (for hand-built API
 * Gateway events), the contract as an oracle (docs/api.md, not the production code), generators, and
 * the checks every answer must pass.
 *
 * Reproduce a run: every property prints its seed; `FC_SEED=<seed> npx jest test/fuzz -t '<name>'`
 * replays it (fast-check also prints seed and path of a counterexample when a property fails).
 * `FUZZ_SCALE=<factor>` multiplies every property's numRuns (e.g. 10 for a long soak).
 */
import fc from 'fast-check';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createHmac, randomBytes } from 'node:crypto';
import { httpEvent, lambdaContext } from '../../infra/local/api-gateway';
import { signedHeaders } from '../../infra/local/signed-client';
import type { TestDynamo } from '../support/dynamo';
import { answerOf, useHarness, type Answer, type Harness } from '../support/http-harness';

// ---------------------------------------------------------------------------------------------
// Running and reporting properties
// ---------------------------------------------------------------------------------------------

const SCALE = Number(process.env.FUZZ_SCALE ?? '1') || 1;

/** One seed per property, printed; FC_SEED pins every property of the run to one seed. */
export function seedFor(): number {
  if (process.env.FC_SEED !== undefined) return Number(process.env.FC_SEED);
  return randomBytes(4).readInt32LE(0);
}

/**
 * Runs `predicate` on `numRuns` generated cases and prints how many cases ran, with the seed.
 * A thrown error or a rejected promise (including one from the handler itself) fails the property.
 */
export async function fuzz<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  /** May return a label (e.g. the status); the labels' counts are printed with the number of cases. */
  predicate: (value: T) => Promise<string | number | void>,
  numRuns: number,
): Promise<number> {
  const runs = Math.max(1, Math.round(numRuns * SCALE));
  const seed = seedFor();
  let cases = 0;
  const labels = new Map<string, number>();
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        cases += 1;
        const label = await predicate(value);
        if (label !== undefined) labels.set(String(label), (labels.get(String(label)) ?? 0) + 1);
      }),
      { numRuns: runs, seed },
    );
  } finally {
    const tally = [...labels]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([label, n]) => `${label}:${n}`)
      .join(' ');
    console.log(
      `[fuzz] ${name}: ${cases} cases (numRuns ${runs}), seed ${seed}, ${Date.now() - started} ms${tally ? ` [${tally}]` : ''}`,
    );
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// The real HTTP app over a harness's resources, for events built by hand
// ---------------------------------------------------------------------------------------------

export type RawSender = (event: APIGatewayProxyEventV2) => Promise<Answer>;

/**
 * The harness's HTTP app (the production composition over its table, Verifik sandbox, secrets and
 * retry queue), for API Gateway events the harness cannot build (isBase64Encoded either way, raw
 * paths, header case).
 */
export function rawApp(_dynamo: TestDynamo, api: Harness): RawSender {
  return async (event) => answerOf(await api.http(event, lambdaContext(29_000)));
}

/** An API Gateway (payload v2) event with the body given as bytes and isBase64Encoded chosen by the caller. */
export function eventWith(options: {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  base64?: boolean;
  /** Overrides the parsed path: what API Gateway would pass for a raw path that URL parsing normalises. */
  rawPath?: string;
}): APIGatewayProxyEventV2 {
  const event = httpEvent({ method: options.method, url: options.path, headers: {}, body: '' });
  // Header names exactly as given (API Gateway lower-cases them; middy's normalizer must cope either way).
  event.headers = { ...options.headers };
  const bytes = options.body ?? Buffer.alloc(0);
  if (bytes.length > 0) {
    event.isBase64Encoded = options.base64 === true;
    event.body = options.base64 ? bytes.toString('base64') : bytes.toString('utf8');
  }
  if (options.rawPath !== undefined) {
    event.rawPath = options.rawPath;
    event.requestContext.http.path = options.rawPath;
  }
  return event;
}

/** Standard Webhooks headers over raw bytes (HMAC-SHA256 of "{id}.{ts}.{bytes}"), for bodies that are not UTF-8. */
export function signBytes(secret: string, id: string, timestampS: number, body: Buffer): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(`${id}.${timestampS}.`, 'utf8'), body]))
    .digest('base64');
  return `v1,${mac}`;
}

export const nowS = () => Math.floor(Date.now() / 1000);
export { signedHeaders };

/** A GET as API Gateway passes it: `rawPath` exactly as given (never URL-parsed), the query string apart. */
export function getEvent(rawPath: string, headers: Record<string, string>, query?: string): APIGatewayProxyEventV2 {
  const event = eventWith({ method: 'GET', path: '/', headers, rawPath });
  if (query !== undefined) {
    event.rawQueryString = query;
    event.queryStringParameters = Object.fromEntries(new URLSearchParams(query));
  }
  return event;
}

// ---------------------------------------------------------------------------------------------
// The contract as an oracle (docs/api.md)
// ---------------------------------------------------------------------------------------------

export const MAX_BODY_BYTES = 64 * 1024;
const PERSON_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ERASURE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export const isPersonId = (value: unknown): value is string => typeof value === 'string' && PERSON_ID.test(value);
export const isErasureId = (value: unknown): value is string => typeof value === 'string' && ERASURE_ID.test(value);

/** docs/api.md: a signed GET signs its request line, the path exactly as sent. Written here from the contract. */
export const getRequestLine = (path: string) => `GET ${path}`;

/**
 * What `GET {path}` must answer once its signature passed: 404 off the route, 400 for an id that is not
 * one once percent-decoded, else 200 with the record when it is recorded and 404 when not.
 */
export function expectedGet(path: string, recorded: readonly string[]): { status: number; erasureId?: string } {
  const named = erasureIdInPath(path, /^\/erasures\/([^/]+)\/?$/);
  if (!('erasureId' in named)) return named;
  return recorded.includes(named.erasureId) ? { status: 200, erasureId: named.erasureId } : { status: 404 };
}

/** The erasure id a route's path names (its pattern's first group, percent-decoded): 404 off the route, 400 when malformed. */
export function erasureIdInPath(path: string, route: RegExp): { status: 400 | 404 } | { erasureId: string } {
  const param = route.exec(path)?.[1];
  if (param === undefined) return { status: 404 };
  let decoded: string;
  try {
    decoded = decodeURIComponent(param);
  } catch {
    return { status: 400 };
  }
  return isErasureId(decoded) ? { erasureId: decoded } : { status: 400 };
}

/** Whether a path reaches the signed GET route at all (the router answers 404 before any check otherwise). */
export const isGetRoute = (path: string) => /^\/erasures\/[^/]+\/?$/.test(path);

const hexAll = (id: string, lower: boolean) =>
  [...Buffer.from(id, 'utf8')]
    .map((b) => `%${b.toString(16).padStart(2, '0')}`)
    .map((h) => (lower ? h : h.toUpperCase()))
    .join('');

/** Ways a client may write one erasure id in a GET path: each is a different path, and so a different signature. */
export const GET_PATH_FORMS = {
  encoded: (id: string) => `/erasures/${encodeURIComponent(id)}`,
  raw: (id: string) => `/erasures/${id}`,
  lowerHex: (id: string) => `/erasures/${encodeURIComponent(id).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())}`,
  allHex: (id: string) => `/erasures/${hexAll(id, false)}`,
  allHexLower: (id: string) => `/erasures/${hexAll(id, true)}`,
  double: (id: string) => `/erasures/${encodeURIComponent(encodeURIComponent(id))}`,
  slash: (id: string) => `/erasures/${encodeURIComponent(id)}/`,
};
export type GetPathForm = keyof typeof GET_PATH_FORMS;
export const getPathForm = fc.constantFrom(...(Object.keys(GET_PATH_FORMS) as GetPathForm[]));

/** What a valid erasure body asks for: ids deduplicated in the order first named. */
export interface ErasureRequest {
  personIds: string[];
  subjectRef?: string;
  reason?: string;
  requestedBy?: string;
  /** As recorded: the URL normalized. */
  callbackUrl?: string;
}

// ---------------------------------------------------------------------------------------------
// Callbacks: the harness of the fuzz suites admits one loopback host
// ---------------------------------------------------------------------------------------------

/** The one host a fuzzed callbackUrl may name (a loopback port where nothing listens). */
export const FUZZ_CALLBACK_HOST = '127.0.0.1:9';

/**
 * The harness of every fuzz suite: the production composition with FUZZ_CALLBACK_HOST on the
 * callback allowlist. Its callback queue keeps what is announced and delivers nothing (delivery is
 * tested in test/callbacks), so `callbackQueue.sent` counts announcements: a bad input must add none.
 */
export function useFuzzHarness() {
  const t = useHarness({ CALLBACK_ALLOWED_HOSTS: FUZZ_CALLBACK_HOST });
  beforeEach(() => {
    t.api.callbackQueue.consumer = undefined;
  });
  return t;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * The contract's rules for callbackUrl (docs/callbacks.md), written from the page: an absolute https
 * URL (http only for loopback), no user info, no fragment, at most 2048 characters, its host (with a
 * port other than the scheme's default) on the allowlist. A URL the service would store in another
 * form (normalized) is ambiguous: the page says it is stored after normalisation, not which forms a
 * parser may refuse.
 */
export function callbackUrlVerdict(
  value: unknown,
  hosts: readonly string[] = [FUZZ_CALLBACK_HOST],
): { kind: 'valid' | 'ambiguous'; url: string; why?: string } | { kind: 'invalid'; why: string } {
  if (typeof value !== 'string') return { kind: 'invalid', why: 'not a string' };
  if (value.length > 2048) return { kind: 'invalid', why: 'too long' };
  if (!URL.canParse(value)) return { kind: 'invalid', why: 'not an absolute URL' };
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { kind: 'invalid', why: 'not http(s)' };
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)) return { kind: 'invalid', why: 'http, not loopback' };
  if (url.username !== '' || url.password !== '') return { kind: 'invalid', why: 'user info' };
  if (url.hash !== '') return { kind: 'invalid', why: 'fragment' };
  const host = url.port === '' ? url.hostname : `${url.hostname}:${url.port}`;
  if (!hosts.includes(host)) return { kind: 'invalid', why: 'host not allowlisted' };
  if (value !== url.href || value.includes('#')) return { kind: 'ambiguous', url: url.href, why: 'stored normalized' };
  return { kind: 'valid', url: url.href };
}

export type Verdict =
  | { kind: 'valid'; request: ErasureRequest }
  /** The contract and a defensible reading of it disagree: either a 2xx for `request` or a 400 is accepted. */
  | { kind: 'ambiguous'; why: string; request?: ErasureRequest }
  | { kind: 'invalid'; why: string };

/**
 * Keys a JSON body may not carry (the project rejects them with 400, see test/http/validation.test.ts):
 * `__proto__` anywhere, and `constructor` holding an object with its own `prototype`.
 */
export function hasPrototypeKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasPrototypeKey);
  if (typeof value !== 'object' || value === null) return false;
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (key === '__proto__') return true;
    if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) return true;
    if (hasPrototypeKey(child)) return true;
  }
  return false;
}

/** The verdict on a raw webhook/portal body (already within size and media type). */
export function bodyVerdict(text: string): Verdict {
  let value: unknown;
  try {
    // The body travels as UTF-8: a lone surrogate in the sender's string arrives as U+FFFD.
    value = JSON.parse(Buffer.from(text, 'utf8').toString('utf8'));
  } catch {
    return { kind: 'invalid', why: 'not JSON' };
  }
  if (hasPrototypeKey(value)) return { kind: 'invalid', why: 'prototype key' };
  return valueVerdict(value);
}

const TEXT_FIELDS = ['subjectRef', 'reason', 'requestedBy'] as const;

/** The verdict on a parsed body (also the invoke event minus `action` and `erasureId`). */
export function valueVerdict(value: unknown): Verdict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'invalid', why: 'not an object' };
  const body = value as Record<string, unknown>;
  const hasIds = Object.hasOwn(body, 'personIds');
  const hasOne = Object.hasOwn(body, 'personId');
  if (hasIds && hasOne) return { kind: 'invalid', why: 'personIds and personId' };
  if (!hasIds && !hasOne) return { kind: 'invalid', why: 'no personIds' };
  let named: string[];
  if (hasIds) {
    const ids = body.personIds;
    if (!Array.isArray(ids) || !ids.every(isPersonId)) return { kind: 'invalid', why: 'bad personIds' };
    named = ids;
  } else {
    if (!isPersonId(body.personId)) return { kind: 'invalid', why: 'bad personId' };
    named = [body.personId];
  }
  const personIds = [...new Set(named)];
  if (personIds.length < 1 || personIds.length > 100) return { kind: 'invalid', why: `${personIds.length} distinct ids` };
  const request: ErasureRequest = { personIds };
  let ambiguity: string | undefined;
  for (const field of TEXT_FIELDS) {
    if (!Object.hasOwn(body, field)) continue;
    const text = body[field];
    if (typeof text !== 'string') return { kind: 'invalid', why: `${field} not a string` };
    const codePoints = [...text].length;
    if (codePoints > 256) return { kind: 'invalid', why: `${field} too long` };
    if (!text.isWellFormed()) return { kind: 'invalid', why: `${field} is not well-formed Unicode` };
    // "up to 256 characters": code points or UTF-16 units? Both readings are accepted.
    if (text.length > 256) ambiguity = `${field}: 256 code points but ${text.length} UTF-16 units`;
    request[field] = text;
  }
  if (Object.hasOwn(body, 'callbackUrl')) {
    const callback = callbackUrlVerdict(body.callbackUrl);
    if (callback.kind === 'invalid') return { kind: 'invalid', why: `callbackUrl: ${callback.why}` };
    request.callbackUrl = callback.url;
    if (callback.kind === 'ambiguous') ambiguity ??= `callbackUrl: ${callback.why}`;
  }
  return ambiguity ? { kind: 'ambiguous', why: ambiguity, request } : { kind: 'valid', request };
}

/** Is this content-type JSON? `ambiguous` for forms the contract does not settle. */
export function mediaVerdict(contentType: string | undefined): 'json' | 'not_json' | 'ambiguous' {
  if (contentType === undefined) return 'not_json';
  if (/^\s/.test(contentType) || contentType.includes(',')) return 'ambiguous';
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  if (essence === 'text/json') return 'ambiguous';
  return /^application\/([a-z0-9.+-]+\+)?json$/.test(essence) ? 'json' : 'not_json';
}

/** "The same request": the same set of ids and the same optional fields (docs/api.md, idempotency). */
export const sameRequestKey = (request: ErasureRequest) =>
  JSON.stringify([
    [...new Set(request.personIds)].sort(),
    request.subjectRef ?? null,
    request.reason ?? null,
    request.requestedBy ?? null,
    request.callbackUrl ?? null,
  ]);

/** Which erasure ids this table has recorded, with what request: predicts 409 and redeliveries. */
export class IdempotencyModel {
  private readonly seen = new Map<string, ErasureRequest>();

  expect(
    erasureId: string,
    request: ErasureRequest,
  ): { kind: 'new' } | { kind: 'same'; original: ErasureRequest } | { kind: 'conflict' } {
    const original = this.seen.get(erasureId);
    if (!original) return { kind: 'new' };
    return sameRequestKey(original) === sameRequestKey(request) ? { kind: 'same', original } : { kind: 'conflict' };
  }

  remember(erasureId: string, request: ErasureRequest): void {
    if (!this.seen.has(erasureId)) this.seen.set(erasureId, request);
  }

  has(erasureId: string): boolean {
    return this.seen.has(erasureId);
  }

  ids(): string[] {
    return [...this.seen.keys()];
  }
}

// ---------------------------------------------------------------------------------------------
// Checks on every answer
// ---------------------------------------------------------------------------------------------

const CODES_FOR_STATUS: Record<number, readonly string[]> = {
  400: ['invalid_request'],
  401: ['invalid_signature'],
  403: ['forbidden'],
  404: ['not_found'],
  // An erasure id reused with another request; an extension asked twice, or past the due date.
  409: ['idempotency_conflict', 'already_extended', 'past_due'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
};

export class PropertyError extends Error {}

export function assertThat(condition: unknown, message: string, context?: unknown): asserts condition {
  if (!condition) throw new PropertyError(context === undefined ? message : `${message}\n${describe(context)}`);
}

const describe = (value: unknown) => {
  const text = JSON.stringify(value, (_k, v) =>
    typeof v === 'string' && v.length > 300 ? `${v.slice(0, 300)}…(${v.length})` : v,
  );
  return text && text.length > 3000 ? `${text.slice(0, 3000)}…` : text;
};

/** Never a 5xx, always JSON, every 4xx an `error` code matching its status, no secret in any answer. */
export function checkAnswer(answer: Answer, api: Harness, context?: unknown): void {
  const where = { answer, context };
  assertThat(answer.status >= 200 && answer.status < 500, `status ${answer.status}: never a 5xx (or a non-HTTP status)`, where);
  assertThat(/^application\/json/.test(answer.headers['content-type'] ?? ''), 'the answer is declared JSON', where);
  assertThat(typeof answer.body === 'object' && answer.body !== null, 'the answer has a JSON object body', where);
  if (answer.status >= 400) {
    assertThat(
      typeof answer.body.error === 'string' && typeof answer.body.message === 'string',
      'a 4xx has error and message',
      where,
    );
    assertThat(
      (CODES_FOR_STATUS[answer.status] ?? []).includes(answer.body.error),
      `error code ${answer.body.error} for ${answer.status}`,
      where,
    );
  } else {
    assertThat(answer.status === 200 || answer.status === 202, `2xx is 200 or 202`, where);
  }
  const text = JSON.stringify(answer);
  for (const secret of secretsOf(api)) assertThat(!text.includes(secret), 'no secret in an answer', where);
}

export const secretsOf = (api: Harness): string[] => [
  api.env.VERIFIK_TOKEN!,
  api.env.SUBJECT_REF_PEPPER!,
  ...api.secrets,
  ...api.secrets.map((s) => s.slice('whsec_'.length)),
];

/** Side effects a rejected request must not have: no Verifik call, nothing armed on the retry path, no callback announced. */
export function sideEffects(api: Harness) {
  return { calls: api.sandbox.calls.length, scheduled: api.retryQueue.sent, announced: api.callbackQueue.sent };
}

export function assertNoSideEffects(api: Harness, before: ReturnType<typeof sideEffects>, context?: unknown): void {
  const after = sideEffects(api);
  assertThat(after.calls === before.calls, `a rejected request called Verifik (${after.calls - before.calls} calls)`, context);
  assertThat(after.scheduled === before.scheduled, 'a rejected request armed the retry path', context);
  assertThat(after.announced === before.announced, 'a rejected request announced a callback', context);
}

/** The answer to a request the oracle accepts: 200/202 with a record of exactly these persons. */
/** Answers of a direct invocation: a result object, no HTTP headers (so no Location on a 202). */
export const invokeAnswers = new WeakSet<Answer>();

export function assertRecord(
  answer: Answer,
  erasureId: string | undefined,
  request: ErasureRequest,
  expectation: { kind: 'new' } | { kind: 'same'; original: ErasureRequest },
  context?: unknown,
): void {
  const where = { answer, request, context };
  assertThat(answer.status === 200 || answer.status === 202, `expected 200/202, got ${answer.status}`, where);
  const record = answer.body;
  if (erasureId !== undefined) assertThat(record.erasureId === erasureId, 'the record carries the erasure id', where);
  const named = (record.persons as { personId: string }[]).map((p) => p.personId);
  const wanted = expectation.kind === 'same' ? expectation.original.personIds : request.personIds;
  if (expectation.kind === 'new')
    assertThat(JSON.stringify(named) === JSON.stringify(wanted), 'persons are the deduplicated ids, in order', where);
  else
    assertThat(JSON.stringify([...named].sort()) === JSON.stringify([...wanted].sort()), 'persons are the recorded ids', where);
  assertThat((answer.status === 202) === (record.status === 'pending'), '202 exactly when the record is pending', where);
  if (answer.status === 202 && !invokeAnswers.has(answer)) {
    assertThat(typeof answer.headers.location === 'string', '202 carries Location', where);
  }
  assertThat(record.reason === request.reason, 'reason is recorded', where);
  assertThat(record.requestedBy === request.requestedBy, 'requestedBy is recorded', where);
  assertThat(!Object.hasOwn(record, 'subjectRef'), 'the record never carries the subjectRef itself', where);
  // The keyed hash stays in the table: in an answer it would let a reader link erasures of one subject.
  assertThat(!Object.hasOwn(record, 'subjectRefHash'), 'the record never carries the subjectRef hash', where);
  assertThat(record.callback?.url === request.callbackUrl, 'the callbackUrl is recorded (normalized), or none', where);
}

/** The stored request keeps subjectRef only as HMAC-SHA256(pepper, subjectRef), and only when one was given. */
export function assertStoredSubjectHash(
  stored: { subjectRefHash?: string } | undefined,
  subjectRef: string | undefined,
  pepper: string,
): void {
  const where = { stored, subjectRef };
  assertThat(stored !== undefined, 'the request is recorded', where);
  if (subjectRef === undefined) assertThat(stored!.subjectRefHash === undefined, 'no subjectRefHash without a subjectRef', where);
  else {
    const hash = createHmac('sha256', pepper).update(subjectRef, 'utf8').digest('hex');
    assertThat(stored!.subjectRefHash === hash, 'subjectRefHash is HMAC-SHA256(pepper, subjectRef)', where);
  }
}

/** Object.prototype is untouched (prototype-pollution keys did nothing). */
export function assertPrototypeClean(): void {
  assertThat(Object.keys(Object.prototype).length === 0, 'Object.prototype gained keys');
  assertThat(({} as Record<string, unknown>).polluted === undefined, 'Object.prototype.polluted is set');
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

export const validPersonId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
/** Short valid ids, so repeats happen. */
export const shortPersonId = fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/);
export const validErasureId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,128}$/);

const NASTY = [
  '',
  ' ',
  '.',
  '..',
  '../',
  '../../auth/session',
  '..%2F..%2Fauth',
  'a/b',
  '/',
  '\\',
  '..\\..\\x',
  '%2F',
  'a%2Fb',
  '%2e%2e',
  '%2e%2e%2f',
  '%252F',
  'p1?collection=c1',
  '?collection=x',
  'p1&collection=c1',
  'p1#frag',
  'p1;x',
  'p1,p2',
  'a b',
  ' p1',
  'p1 ',
  'p1\n',
  'p1\r\nx-injected: 1',
  'p1\t',
  'p1\u0000',
  'p1%00',
  'pérson',
  'p\u0301',
  '人',
  '😀',
  '\u202ep1',
  'ｐ１',
  '\ufeffp1',
  'p\u200b1',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'x'.repeat(64),
  'x'.repeat(65),
  'm'.repeat(128),
  'm'.repeat(129),
  'x'.repeat(200),
  '$where',
  '{"$ne":1}',
  '<script>',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  '*',
  'urn:x:y',
  'a:b',
  'a.b',
  '-',
  '_',
  '--',
  'p1.json',
];

/** Strings that are (mostly) not valid ids: traversal, encodings, queries, unicode, control characters, lengths 0..200. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        shortPersonId,
        fc.constantFrom('/', '..', '%2F', '?collection=c', '#', ' ', 'é', '.', ':', '\u0000', '+', '=', '~', '@'),
        shortPersonId,
      )
      .map(([a, b, c]) => a + b + c),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 200 }), fc.constantFrom('a', 'Z', '9', '_', '-', '.', ':'))
      .map(([n, c]) => c.repeat(n)),
  },
);

export const anyPersonId = fc.oneof({ weight: 3, arbitrary: validPersonId }, { weight: 2, arbitrary: nastyString });
export const anyErasureId = fc.oneof({ weight: 3, arbitrary: validErasureId }, { weight: 2, arbitrary: nastyString });

/** Values of the wrong type where a string goes. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
);

const optionalText: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 260 }).map((n) => 's'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 120, max: 140 }).map((n) => '😀'.repeat(n)) },
  { weight: 1, arbitrary: wrongType },
);

/** Id arrays: mostly short lists with repeats, sometimes wrong entries, sometimes huge. */
export const personIdArray: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.array(
      fc.oneof(
        { weight: 12, arbitrary: shortPersonId },
        { weight: 1, arbitrary: anyPersonId },
        { weight: 1, arbitrary: wrongType },
      ),
      { minLength: 0, maxLength: 8 },
    ),
  },
  {
    weight: 1,
    // Huge arrays: few distinct ids (cheap when valid) or more than 100 (invalid); up to well past 64 KiB.
    arbitrary: fc
      .record({
        length: fc.oneof(fc.integer({ min: 90, max: 1200 }), fc.integer({ min: 1200, max: 16_000 })),
        distinct: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 101, max: 130 })),
        prefix: fc.constantFrom('p', 'person_', '65175da13e81e4fabc'),
      })
      .map(({ length, distinct, prefix }) => Array.from({ length }, (_, i) => `${prefix}${i % distinct}`)),
  },
  { weight: 1, arbitrary: wrongType },
);

/**
 * callbackUrl values: the allowlisted loopback host with random paths and queries, https on it, URLs
 * of other hosts, and the tricks that try to reach another host through an allowlisted name (user
 * info, fragments, other encodings of loopback, redirect-like forms), long, nasty and wrong-typed values.
 */
export const callbackUrlValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('http', 'https'), fc.webPath(), fc.option(fc.webQueryParameters(), { nil: undefined }))
      .map(([scheme, path, query]) => `${scheme}://${FUZZ_CALLBACK_HOST}${path || '/'}${query === undefined ? '' : `?${query}`}`),
  },
  { weight: 2, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      `http://${FUZZ_CALLBACK_HOST}@attacker.example/x`,
      `http://attacker.example#@${FUZZ_CALLBACK_HOST}/`,
      `http://user:pw@${FUZZ_CALLBACK_HOST}/`,
      `http://${FUZZ_CALLBACK_HOST}/#frag`,
      `http://${FUZZ_CALLBACK_HOST}/#`,
      `HTTP://${FUZZ_CALLBACK_HOST}/Hooks`,
      `http:${FUZZ_CALLBACK_HOST}/x`,
      `http:/${FUZZ_CALLBACK_HOST}/x`,
      `http://${FUZZ_CALLBACK_HOST}/a/../b`,
      `http://${FUZZ_CALLBACK_HOST}.attacker.example/`,
      'http://127.0.0.1:09/',
      'http://0x7f.0.0.1:9/',
      'http://2130706433:9/',
      'http://localhost:9/',
      'http://[::1]:9/',
      'http://127.0.0.1/',
      'http://127.0.0.1:80/',
      'http://169.254.169.254/latest/meta-data',
      'https://attacker.example/?next=http://127.0.0.1:9/',
      'ftp://127.0.0.1:9/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/plain,x',
      '//127.0.0.1:9/x',
      '/hooks',
      ` http://${FUZZ_CALLBACK_HOST}/`,
      `http://${FUZZ_CALLBACK_HOST}/\n`,
      `http://${FUZZ_CALLBACK_HOST}/x y`,
      `http://${FUZZ_CALLBACK_HOST}/${'a'.repeat(2040)}`,
      `http://${FUZZ_CALLBACK_HOST}/${'a'.repeat(2100)}`,
      '',
    ),
  },
  { weight: 1, arbitrary: nastyString },
  { weight: 1, arbitrary: wrongType },
);

const fieldOrWrong = (good: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: wrongType });

const PROTO_ENTRIES: [string, string][] = [
  ['__proto__', '{"polluted":true}'],
  ['__proto__', '{"personIds":["p1"]}'],
  ['constructor', '{"prototype":{"polluted":true}}'],
  ['nested', '{"__proto__":{"polluted":true}}'],
  ['nested', '[{"constructor":{"prototype":{"polluted":true}}}]'],
  ['constructor', '{"name":"x"}'],
  ['prototype', '{"polluted":true}'],
  ['toString', '"x"'],
  ['hasOwnProperty', '1'],
];

const extraKey = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'PersonIds',
      'personids',
      'personIds ',
      'person_ids',
      'erasureId',
      'action',
      'subjectref',
      'valueOf',
    ),
  },
);

/** A body as JSON text, built entry by entry so `__proto__` keys and repeated keys survive. */
export type BodyEntries = [string, string][];
export const bodyText = (entries: BodyEntries) => `{${entries.map(([key, json]) => `${JSON.stringify(key)}:${json}`).join(',')}}`;

/** Near-valid erasure bodies: each field present, absent, mutated or of the wrong type; unknown and prototype keys. */
export const nearValidBody: fc.Arbitrary<string> = fc
  .record({
    form: fc.constantFrom('ids', 'ids', 'ids', 'ids', 'one', 'both', 'neither'),
    ids: personIdArray,
    one: fieldOrWrong(anyPersonId),
    subjectRef: fc.option(optionalText, { freq: 2, nil: undefined }),
    reason: fc.option(optionalText, { freq: 2, nil: undefined }),
    requestedBy: fc.option(optionalText, { freq: 3, nil: undefined }),
    callbackUrl: fc.option(callbackUrlValue, { freq: 3, nil: undefined }),
    extras: fc.array(fc.tuple(extraKey, fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }),
    proto: fc.option(fc.constantFrom(...PROTO_ENTRIES), { freq: 8, nil: undefined }),
    shuffle: fc.nat(),
  })
  .map(({ form, ids, one, subjectRef, reason, requestedBy, callbackUrl, extras, proto, shuffle }) => {
    const entries: BodyEntries = [];
    if (form === 'ids' || form === 'both') entries.push(['personIds', JSON.stringify(ids)]);
    if (form === 'one' || form === 'both') entries.push(['personId', JSON.stringify(one)]);
    if (subjectRef !== undefined) entries.push(['subjectRef', JSON.stringify(subjectRef)]);
    if (reason !== undefined) entries.push(['reason', JSON.stringify(reason)]);
    if (requestedBy !== undefined) entries.push(['requestedBy', JSON.stringify(requestedBy)]);
    if (callbackUrl !== undefined) entries.push(['callbackUrl', JSON.stringify(callbackUrl)]);
    for (const [key, value] of extras) entries.push([key, JSON.stringify(value)]);
    if (proto) entries.splice(shuffle % (entries.length + 1), 0, proto);
    return bodyText(entries);
  });

/** A body of about `target` bytes (64 KiB give or take a few bytes), valid apart from its size. */
export const sizedBody: fc.Arbitrary<string> = fc
  .record({ delta: fc.integer({ min: -6, max: 6 }), pad: fc.constantFrom('x', 'é', '€', '😀'), id: shortPersonId })
  .map(({ delta, pad, id }) => {
    const head = `{"personIds":[${JSON.stringify(id)}],"padding":"`;
    const target = MAX_BODY_BYTES + delta;
    const room = target - Buffer.byteLength(head) - 2;
    const padBytes = Buffer.byteLength(pad);
    return `${head}${pad.repeat(Math.floor(room / padBytes))}${'x'.repeat(room % padBytes)}"}`;
  });

/** Any body text: near-valid bodies, arbitrary JSON, arbitrary strings, broken JSON, sizes around 64 KiB. */
export const anyBodyText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: nearValidBody },
  { weight: 3, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 100 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(nearValidBody, fc.nat(), fc.constantFrom('', '"', '}', ',', '\\', '\u0000', ']', 'x'))
      .map(([text, at, insert]) => {
        const cut = at % (text.length + 1);
        return text.slice(0, cut) + insert + text.slice(cut + 1);
      }),
  },
  { weight: 1, arbitrary: sizedBody },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'null',
      '[]',
      '{}',
      '""',
      'true',
      '0',
      '1e999',
      '-0',
      '{"personIds":null}',
      '{"personIds":["p1"]}\u0000',
      '\ufeff{"personIds":["p1"]}',
      '{"personIds":["p1"]} {"personIds":["p2"]}',
      '{"personIds":["p1"],}',
      "{'personIds':['p1']}",
      '{"personIds":["p1"]',
      '{"personIds":{"0":"p1","length":1}}',
      '{"personIds":[["p1"]]}',
      '{"personId":["p1"]}',
      '{"personIds":["p1","p1","p1"],"personId":null}',
      '{"personIds":["p1"],"personIds":[]}',
      '{"personIds":[],"personIds":["p1"]}',
    ),
  },
);

/** Bodies that fail the schema for sure (cheap: a request that passes the signature answers 400, writing nothing). */
export const schemaInvalidBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('{"personIds":[]}', '{}', '[]', 'null', '{"personIds":["a/b"]}', '{"personId":"p1","personIds":["p1"]}'),
  fc.string({ maxLength: 30 }).map((s) => JSON.stringify({ personIds: [], note: s })),
);

/** Small valid bodies (they write to DynamoDB and call the sandbox, so use them sparingly). */
export const validBody: fc.Arbitrary<{ text: string; request: ErasureRequest }> = fc
  .record({
    ids: fc.array(shortPersonId, { minLength: 1, maxLength: 4 }),
    shorthand: fc.boolean(),
    reason: fc.option(fc.string({ unit: 'grapheme', maxLength: 20 }), { nil: undefined }),
  })
  .map(({ ids, shorthand, reason }) => {
    const body = shorthand ? { personId: ids[0], reason } : { personIds: ids, reason };
    const request: ErasureRequest = {
      personIds: shorthand ? [ids[0]!] : [...new Set(ids)],
      ...(reason === undefined ? {} : { reason }),
    };
    return { text: JSON.stringify(body), request };
  });

export const JSON_CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'Application/JSON',
  'APPLICATION/JSON; CHARSET=UTF-8',
  'application/json ; charset=utf-8',
  'application/vnd.api+json',
  'application/problem+json',
  'application/ld+json',
  'application/json-patch+json',
];
const OTHER_CONTENT_TYPES = [
  '',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/jsonp',
  'application/json5',
  'application/xjson',
  'json',
  'application/',
  'application/*',
  '*/*',
  'text/html',
  'image/png',
  'application/javascript',
  'application/x-json-stream',
  'text/json',
  ' application/json',
  'application/json, text/plain',
  'application/json,application/json',
  'application/json\u0000',
];

/** Content types: mostly JSON ones, then others, then arbitrary strings; undefined means no header. */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 14, arbitrary: fc.constantFrom(...JSON_CONTENT_TYPES) },
  { weight: 3, arbitrary: fc.constantFrom(...OTHER_CONTENT_TYPES) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.mixedCase(fc.constantFrom('application/json', 'application/foo+json', 'text/plain')) },
);

// ---------------------------------------------------------------------------------------------
// The expected answer to one request
// ---------------------------------------------------------------------------------------------

export type Tri = 'ok' | 'bad' | 'either';

export interface Outcome {
  /** Every status the contract allows for this request. */
  statuses: Set<number>;
  /** When a 2xx is allowed: what its record must hold. */
  accepted?: {
    erasureId?: string;
    request: ErasureRequest;
    expectation: { kind: 'new' } | { kind: 'same'; original: ErasureRequest };
  };
}

/**
 * What docs/api.md says a POST must answer, in the order the checks apply: size and media type
 * (before the signature), the signature, the erasure id, the body, idempotency.
 */
export function expectedPost(o: {
  bytes: number;
  media: 'json' | 'not_json' | 'ambiguous';
  /** `ok` for portal routes (IAM, checked separately). */
  signature: Tri;
  /** The erasure id the caller names; `generated` when it names none (portal, invoke). */
  erasureId: { kind: 'named'; value: string } | { kind: 'generated' };
  verdict: Verdict;
  /** The portal records the IAM principal as requestedBy. */
  requestedBy?: string;
  model: IdempotencyModel;
}): Outcome {
  const statuses = new Set<number>();
  const outcome: Outcome = { statuses };
  if (o.bytes > MAX_BODY_BYTES) {
    statuses.add(413);
    if (o.media !== 'json') statuses.add(415);
    if (o.signature !== 'ok') statuses.add(401);
    return outcome;
  }
  if (o.media !== 'json') {
    statuses.add(415);
    if (o.signature !== 'ok') statuses.add(401);
    if (o.media === 'not_json') return outcome;
  }
  if (o.signature !== 'ok') {
    statuses.add(401);
    if (o.signature === 'bad') return outcome;
  }
  if (o.erasureId.kind === 'named' && !isErasureId(o.erasureId.value)) {
    statuses.add(400);
    return outcome;
  }
  const { verdict } = o;
  if (verdict.kind !== 'valid') statuses.add(400);
  const body = verdict.kind === 'invalid' ? undefined : verdict.request;
  if (!body) return outcome;
  const request: ErasureRequest = o.requestedBy === undefined ? body : { ...body, requestedBy: o.requestedBy };
  if (o.erasureId.kind === 'generated') {
    statuses.add(200).add(202);
    outcome.accepted = { request, expectation: { kind: 'new' } };
    return outcome;
  }
  const erasureId = o.erasureId.value;
  const expectation = o.model.expect(erasureId, request);
  if (expectation.kind === 'conflict') {
    statuses.add(409);
    return outcome;
  }
  statuses.add(200).add(202);
  outcome.accepted = { erasureId, request, expectation };
  return outcome;
}

/**
 * Checks an answer against the expected outcome: an allowed status; for a 2xx the record (and the
 * model learns the erasure); for anything else no Verifik call and (but for a 409, which arms the
 * retry path before it finds the conflict, by design) nothing scheduled.
 */
export function assertOutcome(
  answer: Answer,
  expected: Outcome,
  api: Harness,
  before: ReturnType<typeof sideEffects>,
  model: IdempotencyModel,
  context?: unknown,
): number {
  checkAnswer(answer, api, context);
  const where = { answer, allowed: [...expected.statuses], context };
  assertThat(
    expected.statuses.has(answer.status),
    `status ${answer.status} not in {${[...expected.statuses].join(', ')}}`,
    where,
  );
  if (answer.status === 200 || answer.status === 202) {
    const { accepted } = expected;
    // A read (invoke `get`) has no request to compare with.
    if (accepted) {
      assertRecord(answer, accepted.erasureId, accepted.request, accepted.expectation, context);
      model.remember(answer.body.erasureId, accepted.request);
    } else assertNoSideEffects(api, before, where);
    return answer.status;
  }
  if (answer.status === 409) {
    assertThat(api.sandbox.calls.length === before.calls, 'a 409 called Verifik', where);
    return answer.status;
  }
  assertNoSideEffects(api, before, where);
  return answer.status;
}

// ---------------------------------------------------------------------------------------------
// A reference Standard Webhooks verifier (the spec, written independently of the library)
// ---------------------------------------------------------------------------------------------

const TOLERANCE_S = 300;
/** Seconds either side of the tolerance edge where the clock ticking during a request decides. */
const EDGE_S = 3;

export const hmacSignature = (secret: string, id: string, timestampS: number, payload: string) =>
  createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
    .update(`${id}.${timestampS}.${payload}`, 'utf8')
    .digest('base64');

/**
 * `ok` when the spec accepts the headers for this payload with one of `secrets`: all three present,
 * an integer timestamp within 5 minutes of now, and a space-separated `v1,<sig>` entry that matches.
 * `either` where the spec is strict but a lenient reading (the reference library's: `parseInt` on the
 * timestamp, an entry `v1,<sig>,<anything>`) accepts, or the clock sits on the tolerance edge.
 */
export function referenceSignatureVerdict(
  headers: Record<string, string | undefined>,
  payload: string,
  secrets: readonly string[],
): Tri {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signature = headers['webhook-signature'];
  if (!id || !timestamp || !signature) return 'bad';
  const now = nowS();
  const window = (ts: number): Tri => {
    const skew = Math.abs(now - ts);
    return skew <= TOLERANCE_S - EDGE_S ? 'ok' : skew <= TOLERANCE_S + EDGE_S ? 'either' : 'bad';
  };
  const entries = signature.split(' ');
  const matches = (ts: number, lenient: boolean) =>
    secrets.some((secret) => {
      const expected = hmacSignature(secret, id, ts, payload);
      return entries.some((entry) => {
        if (entry === `v1,${expected}`) return true;
        const [version, value] = entry.split(',');
        return lenient && version === 'v1' && value === expected;
      });
    });
  const strictTs = /^\d+$/.test(timestamp) ? Number(timestamp) : undefined;
  if (strictTs !== undefined && Number.isSafeInteger(strictTs) && window(strictTs) === 'ok' && matches(strictTs, false))
    return 'ok';
  const lenientTs = parseInt(timestamp, 10);
  if (!Number.isNaN(lenientTs) && window(lenientTs) !== 'bad' && matches(lenientTs, true)) return 'either';
  return 'bad';
}
