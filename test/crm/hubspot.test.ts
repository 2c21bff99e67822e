import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { createHmac } from 'node:crypto';
import { hashSubject } from '../../lambda/erasure/fingerprint';
import { hubSpotSignedUri } from '../../lambda/crm/hubspot';
import { useHarness, type Harness } from '../support/http-harness';
import type { TestDynamo } from '../support/dynamo';

/** API Gateway's host name as HubSpot calls it (the URI its v3 signature covers). */
const HOST = 'abc123defg.execute-api.eu-central-1.amazonaws.com';
const HOOK_URI = `https://${HOST}/hooks/hubspot`;

/**
 * A batch as HubSpot sends it (its documented event fields, compact JSON): a privacy deletion of
 * contact 123, the plain deletion HubSpot sends with it, a property change (ignored), and the
 * privacy deletion again (a second attempt of the same event).
 */
const RECORDED_BATCH =
  '[{"eventId":3816279340,"subscriptionId":25,"portalId":62515,"appId":1160452,"occurredAt":1764410400000,"subscriptionType":"contact.privacyDeletion","attemptNumber":0,"objectId":123,"changeSource":"GDPR","changeFlag":"DELETED"},' +
  '{"eventId":3816279341,"subscriptionId":26,"portalId":62515,"appId":1160452,"occurredAt":1764410400000,"subscriptionType":"contact.deletion","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"DELETED"},' +
  '{"eventId":3816279342,"subscriptionId":27,"portalId":62515,"appId":1160452,"occurredAt":1764410400500,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":124,"propertyName":"lastname","propertyValue":"Lovelace","changeSource":"CRM"},' +
  '{"eventId":3816279340,"subscriptionId":25,"portalId":62515,"appId":1160452,"occurredAt":1764410400000,"subscriptionType":"contact.privacyDeletion","attemptNumber":1,"objectId":123,"changeSource":"GDPR","changeFlag":"DELETED"}]';
const ERASURE_ID = 'hubspot:62515:contact:123';

/**
 * Signs as HubSpot documents signature v3, written out here rather than taken from the service:
 * base64 HMAC-SHA256, keyed with the app's client secret, of method + URI + body + timestamp (ms).
 */
function hubSpotHeaders(
  secret: string,
  body: string,
  { uri = HOOK_URI, timestamp = Date.now(), method = 'POST' }: { uri?: string; timestamp?: number; method?: string } = {},
): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`${method}${uri}${body}${timestamp}`, 'utf8').digest('base64');
  return {
    host: HOST,
    'content-type': 'application/json',
    'X-HubSpot-Signature-v3': signature,
    'X-HubSpot-Request-Timestamp': String(timestamp),
    'X-HubSpot-Signature-Version': 'v1',
  };
}

const deliver = (api: Harness, body: string, headers = hubSpotHeaders(api.env.HUBSPOT_CLIENT_SECRET!, body)) =>
  api.send('POST', '/hooks/hubspot', body, { unsigned: true, headers });
const tableItems = async (dynamo: TestDynamo, api: Harness) =>
  (await dynamo.client.send(new ScanCommand({ TableName: api.env.AUDIT_TABLE_NAME }))).Items ?? [];
const linkAll = async (api: Harness, subjectId: string, personIds: string[]) => {
  for (const personId of personIds) {
    expect((await api.send('PUT', `/subjects/hubspot/${subjectId}/persons/${personId}`, '')).status).toBe(201);
  }
};

describe('POST /hooks/hubspot with contact.deletion turned on, Verifik on the retry path', () => {
  // A slow answer on a busy machine must not read as a timeout (the client would call again).
  const t = useHarness({ HUBSPOT_CONTACT_DELETION: 'true', RETRY_SCHEDULE: '0.05,0.05,0.05', VERIFIK_TIMEOUT_MS: '5000' });

  it('turns a recorded batch into one erasure by subject, and the retry path erases each linked person once', async () => {
    const persons = [t.api.sandbox.createPerson(), t.api.sandbox.createPerson()];
    await linkAll(t.api, '123', persons);

    const answer = await deliver(t.api, RECORDED_BATCH);
    // HubSpot redelivers a batch it got no 2xx for: it meets the same erasure.
    const redelivery = await deliver(t.api, RECORDED_BATCH);
    await t.api.retryQueue.idle();

    expect(answer).toMatchObject({ status: 200, body: { erasures: [{ erasureId: ERASURE_ID }], ignored: 1 } });
    expect(redelivery).toMatchObject({ status: 200, body: { erasures: [{ erasureId: ERASURE_ID }], ignored: 1 } });
    // Each linked person is deleted at Verifik (more than one DELETE only when a slow answer on a loaded
    // machine reads as a timeout and the client asks again: the outcome then stays proven by the 404).
    for (const personId of persons) expect(t.api.sandbox.callsFor(personId, 'DELETE').length).toBeGreaterThanOrEqual(1);
    expect(t.api.sandbox.calls.every((call) => persons.includes(call.personId ?? ''))).toBe(true);
    const stored = await t.api.store.getErasure(ERASURE_ID);
    expect(stored?.request).toMatchObject({
      requestedBy: 'hubspot:62515',
      reason: 'hubspot-contact-deletion',
      personIds: [...persons].sort(),
      subject: {
        source: 'hubspot',
        hash: hashSubject(t.api.env.SUBJECT_REF_PEPPER!, { source: 'hubspot', id: '123' }),
        linkedPersonIds: [...persons].sort(),
      },
    });
    for (const person of stored?.persons ?? []) expect(['erased', 'already_erased']).toContain(person.outcome);
    expect(stored?.persons).toHaveLength(2);
    const read = await t.api.get(ERASURE_ID);
    expect(read.body).toMatchObject({ status: 'completed', subject: { source: 'hubspot' } });
    // Only the requests and persons of one erasure, and the two links: the ignored contact left nothing.
    expect((await tableItems(t.dynamo, t.api)).map((item) => item.sk?.S).sort()).toEqual(
      ['REQUEST', ...persons.map((p) => `PERSON#${p}`), ...persons.map((p) => `LINK#${p}`)].sort(),
    );
  });

  it('records an erasure with no person, completed with its note, for a contact nothing was linked to', async () => {
    const body = RECORDED_BATCH.replaceAll('"objectId":123', '"objectId":999');
    const answer = await deliver(t.api, body);

    expect(answer.body).toEqual({ erasures: [{ erasureId: 'hubspot:62515:contact:999', status: 'completed' }], ignored: 1 });
    expect((await t.api.get('hubspot:62515:contact:999')).body).toMatchObject({
      status: 'completed',
      persons: [],
      note: expect.any(String),
    });
    expect(t.api.sandbox.calls).toEqual([]);
  });

  it('refuses a bad signature, a stale or future timestamp, a re-aimed URI and a tampered body with 401, recording nothing', async () => {
    const secret = t.api.env.HUBSPOT_CLIENT_SECRET!;
    const sixMinutes = 6 * 60 * 1000;
    const refused = [
      await deliver(t.api, RECORDED_BATCH, hubSpotHeaders('not-the-client-secret', RECORDED_BATCH)),
      await deliver(t.api, RECORDED_BATCH, hubSpotHeaders(secret, RECORDED_BATCH, { timestamp: Date.now() - sixMinutes })),
      await deliver(t.api, RECORDED_BATCH, hubSpotHeaders(secret, RECORDED_BATCH, { timestamp: Date.now() + sixMinutes })),
      await deliver(t.api, RECORDED_BATCH, hubSpotHeaders(secret, RECORDED_BATCH, { uri: `https://${HOST}/hooks/other` })),
      await deliver(t.api, RECORDED_BATCH, hubSpotHeaders(secret, RECORDED_BATCH, { method: 'GET' })),
      await deliver(t.api, RECORDED_BATCH.replace('"objectId":123', '"objectId":125'), hubSpotHeaders(secret, RECORDED_BATCH)),
      await deliver(t.api, RECORDED_BATCH, { host: HOST, 'content-type': 'application/json' }),
      await deliver(t.api, RECORDED_BATCH, {
        ...hubSpotHeaders(secret, RECORDED_BATCH),
        'X-HubSpot-Request-Timestamp': `${Date.now()}abc`,
      }),
    ];

    for (const answer of refused) expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_signature' } });
    expect(await tableItems(t.dynamo, t.api)).toEqual([]);
  });

  it('refuses a malformed batch with 400, recording none of its events', async () => {
    const batches = [
      '{"subscriptionType":"contact.privacyDeletion","portalId":1,"objectId":2}',
      '[]',
      '[{"portalId":1,"objectId":2}]',
      '[{"subscriptionType":"contact.privacyDeletion","portalId":1,"objectId":2},{"subscriptionType":"contact.privacyDeletion","portalId":1}]',
      '[{"subscriptionType":"contact.privacyDeletion","portalId":1,"objectId":"2"}]',
      '[{"subscriptionType":"contact.privacyDeletion","portalId":1,"objectId":-2}]',
      '[{"subscriptionType":"contact.deletion","portalId":1.5,"objectId":2}]',
      '[1,2]',
      '[{"subscriptionType":"contact.privacyDeletion"',
    ];
    for (const body of batches) {
      const answer = await deliver(t.api, body);
      expect({ body, answer: answer.status, error: answer.body.error }).toEqual({ body, answer: 400, error: 'invalid_request' });
    }
    expect(await tableItems(t.dynamo, t.api)).toEqual([]);
  });
});

describe('POST /hooks/hubspot by default (contact.privacyDeletion only)', () => {
  const t = useHarness({ RETRY_SCHEDULE: '60' });

  it('records and answers without calling Verifik, and ignores contact.deletion', async () => {
    const person = t.api.sandbox.createPerson();
    await linkAll(t.api, '123', [person]);

    const answer = await deliver(t.api, RECORDED_BATCH);

    // The first retry is a minute away: whatever Verifik saw, the hook's own invocation did it.
    expect(answer).toMatchObject({ status: 200, body: { erasures: [{ erasureId: ERASURE_ID, status: 'pending' }], ignored: 2 } });
    expect(t.api.sandbox.calls).toEqual([]);
    expect((await t.api.get(ERASURE_ID)).body).toMatchObject({ status: 'pending', persons: [{ personId: person, attempts: 0 }] });
    const onlyDeletion = RECORDED_BATCH.replaceAll('contact.privacyDeletion', 'contact.deletion').replaceAll('123', '321');
    expect((await deliver(t.api, onlyDeletion)).body).toEqual({ erasures: [], ignored: 4 });
    expect(await t.api.store.getErasure('hubspot:62515:contact:321')).toBeUndefined();
  });
});

describe('POST /hooks/hubspot behind a configured public URL', () => {
  const url = 'https://privacy.example.com/crm/hubspot?portal=62515%3Aeu&x=%28a%29%2Fb%25';
  const t = useHarness({ HUBSPOT_WEBHOOK_URL: url });

  it('checks the signature over that URL with the characters HubSpot decodes decoded, the rest as sent', async () => {
    // HubSpot decodes %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B before signing; %25 stays.
    const signedUri = 'https://privacy.example.com/crm/hubspot?portal=62515:eu&x=(a)/b%25';
    const body = '[{"subscriptionType":"contact.propertyChange","objectId":1}]';

    const decodedRight = await deliver(t.api, body, hubSpotHeaders(t.api.env.HUBSPOT_CLIENT_SECRET!, body, { uri: signedUri }));
    const asSent = await deliver(t.api, body, hubSpotHeaders(t.api.env.HUBSPOT_CLIENT_SECRET!, body, { uri: url }));
    const gatewayUri = await deliver(t.api, body);

    expect(decodedRight).toMatchObject({ status: 200, body: { erasures: [], ignored: 1 } });
    expect(asSent.status).toBe(401);
    expect(gatewayUri.status).toBe(401);
  });
});

describe('hubSpotSignedUri', () => {
  it('decodes exactly the twelve escapes HubSpot lists, in either case, and nothing else', () => {
    expect(hubSpotSignedUri('https://h/p?a=%3a%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B')).toBe("https://h/p?a=::/?@!$'()*,;");
    expect(hubSpotSignedUri('https://h/p?a=%20%25%26%3D%2B%23%5B')).toBe('https://h/p?a=%20%25%26%3D%2B%23%5B');
  });
});
