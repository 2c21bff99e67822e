/**
 * Fuzzes what a correctly signed POST /erasures carries: the body (near-valid erasure bodies with
 * mutated fields, arbitrary JSON, arbitrary strings, broken JSON, huge arrays, unicode, prototype
 * keys, numbers where strings go, sizes around 64 KiB), its content type, and its encoding
 * (isBase64Encoded true or false, bytes that are not UTF-8), through the real handler.
 */
import fc from 'fast-check';
import {
  IdempotencyModel,
  MAX_BODY_BYTES,
  anyBodyText,
  anyErasureId,
  assertNoSideEffects,
  assertOutcome,
  assertPrototypeClean,
  assertThat,
  bodyVerdict,
  callbackUrlValue,
  callbackUrlVerdict,
  checkAnswer,
  contentType,
  eventWith,
  expectedPost,
  fuzz,
  mediaVerdict,
  nowS,
  rawApp,
  signBytes,
  sideEffects,
  signedHeaders,
  validBody,
  validErasureId,
  useFuzzHarness,
} from './fuzz-support';

const t = useFuzzHarness();
const unique = (() => {
  let n = 0;
  return () => `f${(n += 1)}`;
})();

describe('fuzz: POST /erasures bodies', () => {
  it('takes a callbackUrl only on the allowlisted host: a record naming it and one announcement once terminal, or a 400 with nothing recorded, called or announced', async () => {
    await fuzz(
      'webhook POST callbackUrl',
      callbackUrlValue,
      async (callbackUrl) => {
        const erasureId = unique();
        const before = sideEffects(t.api);
        const answer = await t.api.post({ personIds: [t.api.sandbox.createPerson()], callbackUrl }, { id: erasureId });
        const verdict = callbackUrlVerdict(callbackUrl);
        const where = { callbackUrl, verdict, answer };
        checkAnswer(answer, t.api, where);
        if (verdict.kind === 'invalid' || (verdict.kind === 'ambiguous' && answer.status === 400)) {
          assertThat(answer.status === 400 && answer.body.error === 'invalid_request', 'a refused callbackUrl is a 400', where);
          assertNoSideEffects(t.api, before, where);
          assertThat((await t.api.store.getErasure(erasureId)) === undefined, 'a refused request records nothing', where);
          return 'refused';
        }
        assertThat(
          answer.status === 200 || answer.status === 202,
          `an allowlisted callbackUrl is accepted (${answer.status})`,
          where,
        );
        assertThat(answer.body.callback?.url === verdict.url, 'the record names the URL, normalized', where);
        const announced = t.api.callbackQueue.sent - before.announced;
        assertThat(announced === (answer.status === 200 ? 1 : 0), 'one announcement once terminal, none before', where);
        return `accepted ${answer.status}`;
      },
      150,
    );
  }, 300_000);

  it('answers every signed body as the contract says: 2xx with the deduplicated persons, or a JSON 4xx without side effects', async () => {
    const model = new IdempotencyModel();
    const arbitrary = fc.record({
      text: anyBodyText,
      contentType,
      // Mostly a fresh valid id (so valid bodies are new erasures), sometimes any id at all.
      id: fc.oneof(
        { weight: 8, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: anyErasureId },
        { weight: 1, arbitrary: validErasureId },
      ),
    });
    await fuzz(
      'webhook POST body x content-type x webhook-id',
      arbitrary,
      async ({ text, contentType: type, id }) => {
        const erasureId = id ?? unique();
        const before = sideEffects(t.api);
        const answer = await t.api.post(undefined, {
          rawBody: text,
          id: erasureId,
          headers: type === undefined ? { 'content-type': '' } : { 'content-type': type },
        });
        const expected = expectedPost({
          bytes: Buffer.byteLength(text),
          // An empty content-type header is what the harness sends for "none".
          media: mediaVerdict(type === undefined || type === '' ? undefined : type),
          // The harness signs with webhook-id = erasureId; an empty one counts as a missing header.
          signature: erasureId === '' ? 'bad' : 'ok',
          erasureId: { kind: 'named', value: erasureId },
          verdict: bodyVerdict(text),
          model,
        });
        assertOutcome(answer, expected, t.api, before, model, { text, type, erasureId });
        assertPrototypeClean();
        return answer.status;
      },
      1500,
    );
  }, 300_000);

  it('decodes base64 bodies like plain ones, answers 400 (never a 401 or a 5xx) to bytes that are not UTF-8 signed over those bytes, and checks size on the decoded bytes', async () => {
    const send = rawApp(t.dynamo, t.api);
    const model = new IdempotencyModel();
    const secret = t.api.secrets[0]!;
    const bodyBytes = fc.oneof(
      { weight: 5, arbitrary: anyBodyText.map((text) => ({ bytes: Buffer.from(text, 'utf8'), text })) },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => ({ bytes: Buffer.from(a), text: undefined })) },
      {
        weight: 1,
        // A JSON body with a stray byte that is not UTF-8 inside a string.
        arbitrary: fc.constantFrom(0x80, 0xc3, 0xff, 0xed).map((b) => ({
          bytes: Buffer.concat([Buffer.from('{"personIds":["p1"],"reason":"'), Buffer.from([b]), Buffer.from('"}')]),
          text: undefined,
        })),
      },
    );
    await fuzz(
      'webhook POST encodings (isBase64Encoded) x sizes x bytes',
      fc.record({
        body: bodyBytes,
        type: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
          { weight: 1, arbitrary: contentType },
        ),
        both: fc.boolean(),
      }),
      async ({ body, type, both }) => {
        const { bytes } = body;
        const utf8 = Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
        const text = bytes.toString('utf8');
        const id = unique();
        const headersFor = () => {
          const ts = nowS();
          // The sender signs the bytes it sends; for UTF-8 this is the same as signing the text.
          const signature = utf8
            ? signedHeaders(secret, { id, body: text, timestamp: new Date(ts * 1000) })['webhook-signature']
            : signBytes(secret, id, ts, bytes);
          return {
            ...(type === undefined ? {} : { 'content-type': type }),
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': signature,
          };
        };
        const before = sideEffects(t.api);
        const encoded = await send(
          eventWith({ method: 'POST', path: '/erasures', headers: headersFor(), body: bytes, base64: true }),
        );
        const context = { base64: true, type, bytes: bytes.length, head: text.slice(0, 200) };
        if (utf8) {
          const expected = expectedPost({
            bytes: bytes.length,
            media: mediaVerdict(type),
            signature: 'ok',
            erasureId: { kind: 'named', value: id },
            verdict: bodyVerdict(text),
            model,
          });
          assertOutcome(encoded, expected, t.api, before, model, context);
          if (both) {
            // The same message again, not base64-encoded: the same answer (a redelivery for a 2xx).
            const callsBefore = t.api.sandbox.calls.length;
            const plain = await send(
              eventWith({ method: 'POST', path: '/erasures', headers: headersFor(), body: bytes, base64: false }),
            );
            checkAnswer(plain, t.api, context);
            assertThat(plain.status === encoded.status, `plain ${plain.status} vs base64 ${encoded.status}`, context);
            if (plain.status === 200) {
              assertThat(
                JSON.stringify(plain.body) === JSON.stringify(encoded.body),
                'a redelivery returns the same record',
                context,
              );
              assertThat(
                t.api.sandbox.calls.length === callsBefore,
                'a redelivery of a terminal erasure never calls Verifik',
                context,
              );
            }
          }
        } else {
          // Not UTF-8, so not JSON. The signature covers these exact bytes, so it passes: after the
          // size and media-type checks the body is a 400, never a 401, a 2xx, a 5xx or a Verifik call.
          checkAnswer(encoded, t.api, context);
          const media = mediaVerdict(type);
          const allowed =
            bytes.length > MAX_BODY_BYTES ? [413, 415] : media === 'json' ? [400] : media === 'not_json' ? [415] : [400, 415];
          assertThat(allowed.includes(encoded.status), `status ${encoded.status} for non-UTF-8 bytes, allowed ${allowed}`, {
            encoded,
            context,
          });
          assertNoSideEffects(t.api, before, context);
        }
        assertPrototypeClean();
        return `${utf8 ? 'utf8' : 'bytes'}-${encoded.status}`;
      },
      600,
    );
  }, 300_000);

  it('verifies the signature over the exact bytes: random bytes signed over them are a 400 when not UTF-8, signed over their U+FFFD reading a 401, never a 5xx', async () => {
    const send = rawApp(t.dynamo, t.api);
    const model = new IdempotencyModel();
    const secret = t.api.secrets[0]!;
    // Sequences that are not UTF-8: stray continuation bytes, overlong forms, surrogate halves, past
    // U+10FFFF, bytes UTF-8 never uses, sequences cut short.
    const NOT_UTF8 = [
      [0x80],
      [0xbf],
      [0xc0, 0x80],
      [0xc1, 0xbf],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xed, 0xbf, 0xbf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0xfe],
      [0xff],
      [0xc3],
      [0xe2, 0x82],
      [0xf0, 0x9f, 0x98],
    ];
    const spliced = fc
      .record({ text: validBody.map((b) => b.text), at: fc.nat(), bad: fc.constantFrom(...NOT_UTF8) })
      .map(({ text, at, bad }) => {
        const bytes = Buffer.from(text, 'utf8');
        const cut = at % (bytes.length + 1);
        return Buffer.concat([bytes.subarray(0, cut), Buffer.from(bad), bytes.subarray(cut)]);
      });
    const bodyBytes = fc.oneof(
      { weight: 3, arbitrary: fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)) },
      { weight: 3, arbitrary: spliced },
      {
        weight: 1,
        arbitrary: fc
          .string({ unit: 'grapheme', maxLength: 40 })
          .map((reason) => Buffer.from(JSON.stringify({ personIds: ['p1'], reason }), 'utf8')),
      },
    );
    await fuzz(
      'webhook POST random bytes, signed over the bytes or over their U+FFFD reading',
      fc.record({ bytes: bodyBytes, over: fc.constantFrom('bytes' as const, 'text' as const) }),
      async ({ bytes, over }) => {
        // Independent of the service's decoder: UTF-8 exactly when decoding and encoding again gives the same bytes.
        const utf8 = Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
        const id = unique();
        const ts = nowS();
        const signature =
          over === 'bytes'
            ? signBytes(secret, id, ts, bytes)
            : signedHeaders(secret, { id, body: bytes.toString('utf8'), timestamp: new Date(ts * 1000) })['webhook-signature'];
        const headers = {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(ts),
          'webhook-signature': signature,
        };
        const before = sideEffects(t.api);
        const answer = await send(eventWith({ method: 'POST', path: '/erasures', headers, body: bytes, base64: true }));
        const context = { over, utf8, base64: bytes.toString('base64') };
        if (utf8) {
          // Signing the text is signing the bytes: the body decides, as for any body.
          const expected = expectedPost({
            bytes: bytes.length,
            media: 'json',
            signature: 'ok',
            erasureId: { kind: 'named', value: id },
            verdict: bodyVerdict(bytes.toString('utf8')),
            model,
          });
          assertOutcome(answer, expected, t.api, before, model, context);
        } else {
          checkAnswer(answer, t.api, context);
          assertNoSideEffects(t.api, before, context);
          const wanted = over === 'bytes' ? 400 : 401;
          assertThat(
            answer.status === wanted,
            `status ${answer.status} for bytes that are not UTF-8 signed over the ${over}, wanted ${wanted}`,
            { answer, context },
          );
        }
        return `${utf8 ? 'utf8' : 'not-utf8'}-${over}-${answer.status}`;
      },
      600,
    );
  }, 300_000);

  it('rejects a body that claims base64 but is not, or is base64 of something else, without side effects', async () => {
    const send = rawApp(t.dynamo, t.api);
    await fuzz(
      'webhook POST mismatched isBase64Encoded',
      fc.record({ text: anyBodyText, base64: fc.boolean() }),
      async ({ text, base64 }) => {
        const id = unique();
        // Signed over the text, but delivered with the opposite encoding flag.
        const headers = { 'content-type': 'application/json', ...signedHeaders(t.api.secrets[0]!, { id, body: text }) };
        const event = eventWith({ method: 'POST', path: '/erasures', headers, body: Buffer.from(text, 'utf8'), base64 });
        event.isBase64Encoded = !base64;
        const before = sideEffects(t.api);
        const answer = await send(event);
        checkAnswer(answer, t.api, { text, base64 });
        // The bytes the service reads are not the bytes that were signed: a 4xx, nothing recorded or called.
        assertThat(answer.status >= 400, `status ${answer.status} for a mis-flagged body`, { answer, text, base64 });
        assertThat(t.api.sandbox.calls.length === before.calls, 'a rejected request called Verifik', { answer, text });
        return answer.status;
      },
      400,
    );
  }, 300_000);
});
