/**
 * Fuzzes the Standard Webhooks headers and the other headers of the webhook routes, through the real
 * handler: valid signatures with either active secret, wrong secrets, tampered bodies, ids and
 * timestamps, stale and future timestamps, malformed and mixed signature lists, missing, empty,
 * duplicated (comma-joined, as API Gateway joins repeated headers) and garbage webhook-* headers,
 * header-name case, content types and Idempotency-Key (ignored on these routes).
 *
 * The expected answer comes from a reference verifier written from the spec (fuzz-support.ts), not
 * from the library the service uses. A request the spec accepts is made cheap to judge: its body is
 * mostly schema-invalid (so an accepted signature shows as a 400, a refused one as a 401) and
 * sometimes a small valid erasure (a 2xx).
 */
import fc from 'fast-check';
import { type Answer } from '../support/http-harness';
import {
  GET_PATH_FORMS,
  IdempotencyModel,
  anyErasureId,
  assertNoSideEffects,
  assertOutcome,
  assertThat,
  bodyVerdict,
  checkAnswer,
  contentType,
  eventWith,
  expectedGet,
  expectedPost,
  fuzz,
  getEvent,
  getPathForm,
  getRequestLine,
  hmacSignature,
  isErasureId,
  isGetRoute,
  mediaVerdict,
  nowS,
  rawApp,
  referenceSignatureVerdict,
  schemaInvalidBody,
  sideEffects,
  signedHeaders,
  validBody,
  validErasureId,
  type Tri,
  useFuzzHarness,
} from './fuzz-support';

const t = useFuzzHarness();
let counter = 0;
const unique = () => `h${(counter += 1)}`;

type HeaderName = 'webhook-id' | 'webhook-timestamp' | 'webhook-signature';
const headerName = fc.constantFrom<HeaderName>('webhook-id', 'webhook-timestamp', 'webhook-signature');

/** Changes to what is signed (before the signature is computed). */
const signingOp = fc.oneof(
  fc.record({ op: fc.constant('id' as const), value: anyErasureId, resign: fc.boolean() }),
  fc.record({
    op: fc.constant('ts' as const),
    offset: fc.oneof(
      fc.integer({ min: -290, max: 290 }),
      fc.integer({ min: 296, max: 304 }).map((n) => (n % 2 ? n : -n)),
      fc.integer({ min: 305, max: 10_000_000 }),
      fc.integer({ min: -2_000_000_000, max: -305 }),
    ),
    resign: fc.boolean(),
  }),
  fc.record({ op: fc.constant('secret' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant('secret1' as const) }),
  fc.record({ op: fc.constant('body' as const), at: fc.nat(), insert: fc.string({ minLength: 1, maxLength: 3 }) }),
);

/** Changes to the header strings (after signing). */
const headerOp = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), name: headerName }),
  fc.record({ op: fc.constant('empty' as const), name: headerName }),
  fc.record({
    op: fc.constant('garbage' as const),
    name: headerName,
    value: fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 60 })),
  }),
  fc.record({
    op: fc.constant('dup' as const),
    name: headerName,
    other: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  }),
  fc.record({
    op: fc.constant('ts_text' as const),
    form: fc.constantFrom('prefix+', 'prefix0', 'suffix.9', 'suffix ', 'suffixabc', 'suffixe3', 'prefix ', 'float', 'hex', 'ms'),
  }),
  fc.record({
    op: fc.constant('list' as const),
    decoys: fc.array(
      fc.oneof(
        fc.base64String({ minLength: 4, maxLength: 44 }).map((s) => `v1,${s}`),
        fc.base64String({ minLength: 4, maxLength: 44 }).map((s) => `v2,${s}`),
        fc.constantFrom('v1', 'v1,', ',', 'v1a,AAAA', 'V1,AAAA', 'v1,=', 'v1 ,x', 'v1,AAAA,v1'),
        fc.string({ maxLength: 20 }).map((s) => s.replace(/ /g, '')),
      ),
      { minLength: 1, maxLength: 5 },
    ),
    keepValid: fc.boolean(),
    at: fc.nat(),
    separator: fc.constantFrom(' ', '  ', '\t', ','),
  }),
  fc.record({
    op: fc.constant('mangle' as const),
    form: fc.constantFrom('v2', 'noversion', 'truncate', 'base64url', 'upper', 'extra', 'trailing_space', 'leading_space', 'hex'),
  }),
  fc.record({ op: fc.constant('case' as const), name: headerName, form: fc.constantFrom('upper', 'title') }),
);

const planArbitrary = fc.record({
  method: fc.constantFrom('POST', 'POST', 'POST', 'GET'),
  body: fc.oneof(
    { weight: 6, arbitrary: schemaInvalidBody.map((text) => ({ text, valid: false })) },
    { weight: 1, arbitrary: validBody.map(({ text }) => ({ text, valid: true })) },
  ),
  // About a third of the plans change nothing: the valid path is exercised as much as the refusals.
  signing: fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 2, arbitrary: fc.array(signingOp, { minLength: 1, maxLength: 2 }) },
  ),
  headers: fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 2, arbitrary: fc.array(headerOp, { minLength: 1, maxLength: 3 }) },
  ),
  contentType: fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: contentType }),
  idempotencyKey: fc.option(fc.oneof(anyErasureId, fc.string({ maxLength: 40 })), { freq: 4, nil: undefined }),
});

type Plan = typeof planArbitrary extends fc.Arbitrary<infer P> ? P : never;

/** Builds the request a plan describes; returns the headers as sent, the body as sent and a label. */
function build(plan: Plan, secrets: readonly string[]) {
  const id = unique();
  let signId = id;
  let idHeader = id;
  let ts = nowS();
  let tsHeader = String(ts);
  let secret = secrets[0]!;
  // docs/api.md: a signed GET signs its request line in place of a body, the path exactly as sent.
  const signedBody = plan.method === 'GET' ? getRequestLine(`/erasures/${id}`) : plan.body.text;
  let sentBody = signedBody;
  for (const op of plan.signing) {
    if (op.op === 'id') {
      idHeader = op.value;
      if (op.resign) signId = op.value;
    } else if (op.op === 'ts') {
      tsHeader = String(ts + op.offset);
      if (op.resign) ts += op.offset;
    } else if (op.op === 'secret') secret = `whsec_${Buffer.from(op.bytes).toString('base64')}`;
    else if (op.op === 'secret1') secret = secrets[1]!;
    else if (op.op === 'body' && plan.method === 'POST') {
      const at = op.at % (sentBody.length + 1);
      sentBody = sentBody.slice(0, at) + op.insert + sentBody.slice(at);
    }
  }
  const valid = `v1,${hmacSignature(secret, signId, ts, signedBody)}`;
  const headers: Record<string, string> = { 'webhook-id': idHeader, 'webhook-timestamp': tsHeader, 'webhook-signature': valid };
  const names: Record<HeaderName, string> = {
    'webhook-id': 'webhook-id',
    'webhook-timestamp': 'webhook-timestamp',
    'webhook-signature': 'webhook-signature',
  };
  for (const op of plan.headers) {
    if (op.op === 'drop') delete headers[op.name];
    else if (op.op === 'empty') headers[op.name] = '';
    else if (op.op === 'garbage') headers[op.name] = op.value;
    else if (op.op === 'dup' && headers[op.name] !== undefined)
      headers[op.name] = `${headers[op.name]},${op.other ?? headers[op.name]}`;
    else if (op.op === 'ts_text' && headers['webhook-timestamp'] !== undefined) {
      const value = headers['webhook-timestamp'];
      const n = Number(value);
      headers['webhook-timestamp'] = {
        'prefix+': `+${value}`,
        prefix0: `0${value}`,
        'suffix.9': `${value}.9`,
        'suffix ': `${value} `,
        suffixabc: `${value}abc`,
        suffixe3: `${value}e3`,
        'prefix ': ` ${value}`,
        float: `${n}.0`,
        hex: `0x${n.toString(16)}`,
        ms: String(n * 1000),
      }[op.form];
    } else if (op.op === 'list' && headers['webhook-signature'] !== undefined) {
      const entries = [...op.decoys];
      if (op.keepValid) entries.splice(op.at % (entries.length + 1), 0, headers['webhook-signature']);
      headers['webhook-signature'] = entries.join(op.separator);
    } else if (op.op === 'mangle' && headers['webhook-signature'] !== undefined) {
      const value = headers['webhook-signature'];
      const mac = value.slice(3);
      headers['webhook-signature'] = {
        v2: `v2,${mac}`,
        noversion: mac,
        truncate: value.slice(0, -2),
        base64url: `v1,${mac.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`,
        upper: `V1,${mac}`,
        extra: `${value},extra`,
        trailing_space: `${value} `,
        leading_space: ` ${value}`,
        hex: `v1,${Buffer.from(mac, 'base64').toString('hex')}`,
      }[op.form];
    } else if (op.op === 'case')
      names[op.name] =
        op.form === 'upper'
          ? op.name.toUpperCase()
          : op.name.replace(/(^|-)([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase());
  }
  const sent: Record<string, string> = {};
  if (plan.method === 'POST') sent['content-type'] = plan.contentType ?? '';
  if (plan.idempotencyKey !== undefined) sent['idempotency-key'] = plan.idempotencyKey;
  for (const name of Object.keys(headers) as HeaderName[]) sent[names[name]] = headers[name]!;
  return { id, headers, sent, sentBody };
}

describe('fuzz: webhook signatures and headers', () => {
  it('accepts exactly what the Standard Webhooks spec accepts, answers 401 with nothing revealed otherwise, and never calls Verifik for a refused request', async () => {
    const send = rawApp(t.dynamo, t.api);
    const model = new IdempotencyModel();
    await fuzz(
      'webhook signatures x webhook-* headers x content-type x idempotency-key',
      planArbitrary,
      async (plan) => {
        const { id, headers, sent, sentBody } = build(plan, t.api.secrets);
        const before = sideEffects(t.api);
        const path = plan.method === 'POST' ? '/erasures' : `/erasures/${id}`;
        const answer = await send(eventWith({ method: plan.method, path, headers: sent, body: Buffer.from(sentBody, 'utf8') }));
        const payload = plan.method === 'POST' ? Buffer.from(sentBody, 'utf8').toString('utf8') : getRequestLine(path);
        const signature: Tri = referenceSignatureVerdict(headers, payload, t.api.secrets);
        const context = { plan, sent, sentBody: sentBody.slice(0, 200), signature };
        if (answer.status === 401) {
          // Nothing revealed beyond "the signature failed".
          assertThat(
            JSON.stringify(answer.body) ===
              JSON.stringify({
                error: 'invalid_signature',
                message: 'The webhook signature is missing, invalid or outside the allowed time window.',
              }),
            'a 401 says nothing else',
            { answer, context },
          );
        }
        if (plan.method === 'GET') {
          checkAnswer(answer, t.api, context);
          // Unknown erasure: 404 once the signature passes (the id in the path is always well-formed here).
          const allowed = signature === 'ok' ? [404] : signature === 'bad' ? [401] : [401, 404];
          assertThat(allowed.includes(answer.status), `GET answered ${answer.status}, allowed ${allowed}`, { answer, context });
          assertNoSideEffects(t.api, before, context);
          return `GET-${signature}-${answer.status}`;
        }
        const expected = expectedPost({
          bytes: Buffer.byteLength(sentBody),
          media: mediaVerdict(sent['content-type'] === '' ? undefined : sent['content-type']),
          signature,
          erasureId: { kind: 'named', value: headers['webhook-id'] ?? '' },
          verdict: bodyVerdict(sentBody),
          model,
        });
        const status = assertOutcome(answer, expected, t.api, before, model, context);
        if (status >= 200 && status < 300)
          assertThat(
            isErasureId(answer.body.erasureId) && answer.body.erasureId === headers['webhook-id'],
            'the erasure id is the webhook-id',
            context,
          );
        return `POST-${signature}-${status}`;
      },
      2000,
    );
  }, 300_000);
});

describe('fuzz: methods and paths', () => {
  it('answers any method on any path with a JSON 404 unless it names a route, and an unsigned call on a route never gets past the checks', async () => {
    const send = rawApp(t.dynamo, t.api);
    const ROUTES: [string, RegExp][] = [
      ['POST', /^\/erasures\/?$/],
      ['GET', /^\/erasures\/[^/]+\/?$/],
      ['POST', /^\/portal\/erasures\/?$/],
      ['GET', /^\/portal\/erasures\/[^/]+\/?$/],
      ['GET', /^\/erasures\/[^/]+\/certificate\/?$/],
      ['GET', /^\/portal\/erasures\/[^/]+\/certificate\/?$/],
    ];
    const path = fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom('/erasures', '/portal/erasures') },
      fc.constantFrom(
        '/erasures',
        '/erasures/',
        '/erasures/x',
        '/erasures/x/',
        '/erasures//x',
        '/erasures/x/y',
        '//erasures',
        '/ERASURES',
        '/portal/erasures',
        '/portal/erasures/x',
        '/portal/erasures/x/y',
        '/portal',
        '/',
        '/erasures/%2F',
        '/erasures/..',
        '/erasures/__proto__',
        '/erasures/constructor',
        '/erasures/x/certificate',
        '/erasures/x/certificate/',
        '/erasures//certificate',
        '/erasures/x/CERTIFICATE',
        '/erasures/x/certificate/y',
        '/erasures/certificate',
        '/portal/erasures/x/certificate',
        '/portal/erasures/x/certificate/x',
      ),
      fc.webPath(),
      fc.tuple(fc.constantFrom('/erasures/', '/portal/erasures/'), fc.string({ maxLength: 30 })).map(([a, b]) => a + b),
    );
    await fuzz(
      'HTTP methods x paths (unsigned, no IAM principal)',
      fc.record({
        method: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom('GET', 'POST') },
          fc.constantFrom(
            'GET',
            'POST',
            'PUT',
            'PATCH',
            'DELETE',
            'OPTIONS',
            'HEAD',
            'TRACE',
            'post',
            'Get',
            '__proto__',
            'constructor',
          ),
          fc.stringMatching(/^[A-Z]{1,10}$/),
        ),
        path: path.map((p) => (p.startsWith('/') ? p : `/${p}`)),
        body: fc.option(
          fc.oneof(
            schemaInvalidBody,
            validBody.map((b) => b.text),
          ),
          { nil: undefined },
        ),
        type: fc.option(contentType, { nil: undefined }),
      }),
      async ({ method, path: p, body, type }) => {
        const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
        const before = sideEffects(t.api);
        const answer = await send(
          eventWith({ method, path: '/', headers, body: body === undefined ? undefined : Buffer.from(body), rawPath: p }),
        );
        const context = { method, path: p, body, type };
        checkAnswer(answer, t.api, context);
        assertNoSideEffects(t.api, before, context);
        const routed = ROUTES.some(([m, re]) => m === method && re.test(p));
        const allowed = !routed ? [404] : p.startsWith('/portal') ? [403] : [401, 413, 415];
        assertThat(allowed.includes(answer.status), `${method} ${p} answered ${answer.status}, allowed ${allowed}`, {
          answer,
          context,
        });
        return `${routed ? 'route' : 'none'}-${answer.status}`;
      },
      1000,
    );
  }, 60_000);
});

describe('fuzz: signed GET paths', () => {
  const INVALID = JSON.stringify({
    error: 'invalid_signature',
    message: 'The webhook signature is missing, invalid or outside the allowed time window.',
  });
  // Erasure ids with every character one may hold, so that their encodings differ.
  const recorded = ['plain', 'a:b', 'x.y', 'urn:crm:contact:1', 'A-_.:9', '-', '..', 'm'.repeat(128)];
  const record = async () => {
    for (const id of recorded) expect((await t.api.post({ personIds: ['p1'] }, { id })).status).toBe(200);
  };
  /**
   * The answer a GET to `path` must get from a signature over `GET {signedPath}`: the record's own answer
   * when the paths are the same bytes, else 401. A signer signs UTF-8 bytes, so a lone surrogate in its
   * text signs as U+FFFD; a path that holds one has no exact bytes and is never verified.
   */
  const expectedFor = (path: string, signedPath: string) => {
    if (!isGetRoute(path)) return { status: 404 };
    if (!path.isWellFormed() || !Buffer.from(path, 'utf8').equals(Buffer.from(signedPath, 'utf8'))) return { status: 401 };
    return expectedGet(path, recorded);
  };
  const assertAnswer = (answer: Answer, wanted: { status: number; erasureId?: string }, context: unknown) => {
    checkAnswer(answer, t.api, context);
    assertThat(answer.status === wanted.status, `answered ${answer.status}, wanted ${wanted.status}`, { answer, context });
    if (wanted.erasureId !== undefined)
      assertThat(answer.body.erasureId === wanted.erasureId, 'the record signed for', { answer, context });
    if (answer.status === 401)
      assertThat(JSON.stringify(answer.body) === INVALID, 'a 401 says nothing else', { answer, context });
  };

  it('never lets a GET signature made for one erasure read another: on any other path it is a 401, on its own path (any query string) it reads its record', async () => {
    const send = rawApp(t.dynamo, t.api);
    await record();
    const before = sideEffects(t.api);
    await fuzz(
      'signed GET: a captured signature replayed on the paths of other erasures',
      fc.record({
        signed: fc.record({ id: fc.constantFrom(...recorded), form: getPathForm }),
        replays: fc.array(
          fc.record({
            id: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...recorded) }, { weight: 1, arbitrary: validErasureId }),
            form: getPathForm,
          }),
          { minLength: 1, maxLength: 4 },
        ),
        query: fc.option(fc.constantFrom('', 'x=1', 'collection=c1', 'erasureId=plain'), { nil: undefined }),
        secret: fc.constantFrom(0, 1),
      }),
      async ({ signed, replays, query, secret }) => {
        const signedPath = GET_PATH_FORMS[signed.form](signed.id);
        const headers = signedHeaders(t.api.secrets[secret]!, { id: unique(), body: getRequestLine(signedPath) });
        const own = await send(getEvent(signedPath, headers, query));
        assertAnswer(own, expectedFor(signedPath, signedPath), { signedPath, query });
        let other = 0;
        for (const replay of replays) {
          const path = GET_PATH_FORMS[replay.form](replay.id);
          const answer = await send(getEvent(path, headers, query));
          assertAnswer(answer, expectedFor(path, signedPath), { signedPath, path, query });
          if (path !== signedPath) other += 1;
        }
        return `own-${own.status} others-${other > 0 ? 401 : 'none'}`;
      },
      300,
    );
    assertNoSideEffects(t.api, before);
  }, 300_000);

  it('verifies a signature over "GET {path}" for random ids and encodings only on that exact path, and never one over another request line', async () => {
    const send = rawApp(t.dynamo, t.api);
    await record();
    const before = sideEffects(t.api);
    const anyId = fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...recorded) },
      { weight: 3, arbitrary: anyErasureId },
      // Strings with a lone surrogate: they would sign as U+FFFD, like one another.
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom('a', 'plain'), fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\ufffd'))
          .map(([a, b]) => a + b),
      },
    );
    // A path as a client might write it: the id in some encoding, sometimes with a stray change.
    const anyPath = fc
      .record({
        id: anyId,
        form: fc.oneof({ weight: 4, arbitrary: getPathForm }, { weight: 1, arbitrary: fc.constant('raw' as const) }),
        tweak: fc.constantFrom('none', 'none', 'none', 'upper', 'lower', 'space', 'prefix'),
      })
      .map(({ id, form, tweak }) => {
        const path = form === 'raw' || !id.isWellFormed() ? GET_PATH_FORMS.raw(id) : GET_PATH_FORMS[form](id);
        return { none: path, upper: path.toUpperCase(), lower: path.toLowerCase(), space: `${path} `, prefix: `/${path}` }[tweak];
      });
    const otherLines = (path: string) => [
      '',
      path,
      `get ${path}`,
      `GET  ${path}`,
      `GET ${path} HTTP/1.1`,
      `GET ${path}?`,
      `POST ${path}`,
      `GET http://localhost${path}`,
      ` GET ${path}`,
    ];
    await fuzz(
      'signed GET: random ids x encodings x request lines',
      fc.record({ paths: fc.array(anyPath, { minLength: 2, maxLength: 5 }), line: fc.nat() }),
      async ({ paths, line }) => {
        const [signedPath, ...others] = paths as [string, ...string[]];
        const headers = signedHeaders(t.api.secrets[0]!, { id: unique(), body: getRequestLine(signedPath) });
        const labels: string[] = [];
        for (const path of [signedPath, ...others]) {
          const answer = await send(getEvent(path, headers));
          assertAnswer(answer, expectedFor(path, signedPath), { signedPath, path });
          labels.push(String(answer.status));
        }
        // The same path under a signature over anything but its exact request line (the old empty body included).
        const near = otherLines(signedPath)[line % otherLines(signedPath).length]!;
        const nearHeaders = signedHeaders(t.api.secrets[0]!, { id: unique(), body: near });
        const answer = await send(getEvent(signedPath, nearHeaders));
        assertAnswer(answer, { status: isGetRoute(signedPath) ? 401 : 404 }, { signedPath, near });
        return `own-${labels[0]} near-${answer.status}`;
      },
      500,
    );
    assertNoSideEffects(t.api, before);
  }, 300_000);
});
