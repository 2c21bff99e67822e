import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { hashSubject } from '../../lambda/erasure/fingerprint';
import { NO_LINKED_PERSON_NOTE } from '../../lambda/erasure/record';
import { PORTAL_PRINCIPAL, useHarness } from '../support/http-harness';

const t = useHarness();

const linkPath = (source: string, subjectId: string, personId: string) =>
  `/subjects/${source}/${encodeURIComponent(subjectId)}/persons/${personId}`;
const link = (source: string, subjectId: string, personId: string) =>
  t.api.send('PUT', linkPath(source, subjectId, personId), '');
const readSubject = (source: string, subjectId: string) =>
  t.api.send('GET', `/subjects/${source}/${encodeURIComponent(subjectId)}`, '');
const dump = async () =>
  JSON.stringify((await t.dynamo.client.send(new ScanCommand({ TableName: t.api.env.AUDIT_TABLE_NAME }))).Items ?? []);

describe('subject links (PUT /subjects/{source}/{subjectId}/persons/{personId})', () => {
  it('answers 201 for a new link and 200 for one that exists, and lists the linked persons', async () => {
    const created = await link('hubspot', '8812', 'person_a');
    const again = await link('hubspot', '8812', 'person_a');
    await link('hubspot', '8812', 'person_b');
    const read = await readSubject('hubspot', '8812');

    expect(created.status).toBe(201);
    expect(again.status).toBe(200);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ source: 'hubspot', subjectId: '8812', erasures: [] });
    expect(read.body.persons.map((p: { personId: string }) => p.personId)).toEqual(['person_a', 'person_b']);
  });

  it('stores the subject only under the keyed hash of source:subjectId', async () => {
    const subjectId = 'crm-contact-77123@example';
    await link('zendesk', subjectId, 'person_z');
    const table = await dump();

    expect(table).not.toContain(subjectId);
    expect(table).toContain(`SUBJECT#${hashSubject(t.api.env.SUBJECT_REF_PEPPER!, { source: 'zendesk', id: subjectId })}`);
  });

  it('keeps subjects of different sources apart, and takes ids with %, / and spaces percent-encoded', async () => {
    const odd = '50%/off me';
    await link('hubspot', odd, 'person_1');
    await link('zendesk', odd, 'person_2');

    expect((await readSubject('hubspot', odd)).body.persons).toEqual([expect.objectContaining({ personId: 'person_1' })]);
    expect((await readSubject('zendesk', odd)).body).toMatchObject({ subjectId: odd, persons: [{ personId: 'person_2' }] });
  });

  it('refuses a malformed source, subject id or person id, a body, and an unsigned or re-aimed signature', async () => {
    const long = 'x'.repeat(129);
    const cases = await Promise.all([
      t.api.send('PUT', '/subjects/HubSpot/1/persons/p1', ''),
      t.api.send('PUT', '/subjects/9hub/1/persons/p1', ''),
      t.api.send('PUT', `/subjects/hubspot/${long}/persons/p1`, ''),
      t.api.send('PUT', '/subjects/hubspot/%E0%A4%A/persons/p1', ''),
      t.api.send('PUT', '/subjects/hubspot/a%07b/persons/p1', ''),
      t.api.send('PUT', '/subjects/hubspot/1/persons/bad.id', ''),
      t.api.send('PUT', '/subjects/hubspot/1/persons/p1', '{"x":1}'),
    ]);
    for (const answer of cases) expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request' } });

    const unsigned = await t.api.send('PUT', linkPath('hubspot', '1', 'p1'), '', { unsigned: true });
    expect(unsigned).toMatchObject({ status: 401, body: { error: 'invalid_signature' } });
    // A signature made for one link does not make another.
    const headers = await signedHeadersFor('PUT', linkPath('hubspot', '1', 'p1'));
    const reaimed = await t.api.send('PUT', linkPath('hubspot', '2', 'p1'), '', { unsigned: true, headers });
    expect(reaimed.status).toBe(401);
    expect(await dump()).toBe('[]');
  });

  it('links and reads on the portal twins (IAM)', async () => {
    const created = await t.api.portal('PUT', '/portal/subjects/portal/u-1/persons/person_p', undefined);
    const read = await t.api.portal('GET', '/portal/subjects/portal/u-1', undefined);
    const anonymous = await t.api.portal('PUT', '/portal/subjects/portal/u-1/persons/person_q', undefined, { principal: null });

    expect(created.status).toBe(201);
    expect(read.body.persons).toEqual([expect.objectContaining({ personId: 'person_p' })]);
    expect(anonymous.status).toBe(403);
    expect(PORTAL_PRINCIPAL).toMatch(/^arn:/);
  });
});

describe('erasure by subject (POST /erasures with subject)', () => {
  it('erases every person linked to the subject at Verifik, and marks the links with the erasure', async () => {
    const [a, b] = [t.api.sandbox.createPerson(), t.api.sandbox.createPerson()];
    await link('hubspot', '8812', a);
    await link('hubspot', '8812', b);

    const answer = await t.api.post(
      { subject: { source: 'hubspot', id: '8812' }, reason: 'gdpr-art-17' },
      { id: 'msg_subject_1' },
    );

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'completed', subject: { source: 'hubspot', linkedPersonIds: [a, b].sort() } });
    expect(answer.body.persons.map((p: { personId: string; outcome: string }) => [p.personId, p.outcome])).toEqual(
      [a, b].sort().map((id) => [id, 'erased']),
    );
    expect(t.api.sandbox.callsFor(a, 'DELETE')).toHaveLength(1);
    expect(t.api.sandbox.callsFor(b, 'DELETE')).toHaveLength(1);
    const subject = await readSubject('hubspot', '8812');
    expect(subject.body.erasures).toEqual([{ erasureId: 'msg_subject_1', receivedAt: answer.body.receivedAt }]);
    expect(subject.body.persons.map((p: { erasureIds: string[] }) => p.erasureIds)).toEqual([
      ['msg_subject_1'],
      ['msg_subject_1'],
    ]);
    expect(await dump()).not.toContain('"8812"');
  });

  it('completes an erasure of a subject with no linked person at once, with persons [] and a note', async () => {
    const answer = await t.api.post({ subject: { source: 'hubspot', id: 'nobody' } }, { id: 'msg_subject_empty' });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'completed',
      persons: [],
      note: NO_LINKED_PERSON_NOTE,
      completedAt: answer.body.receivedAt,
      subject: { source: 'hubspot', linkedPersonIds: [] },
    });
    expect(t.api.sandbox.calls).toEqual([]);
    expect((await readSubject('hubspot', 'nobody')).body.erasures).toEqual([
      expect.objectContaining({ erasureId: 'msg_subject_empty' }),
    ]);
  });

  it('adds the linked persons to personIds named beside the subject', async () => {
    const [named, linked] = [t.api.sandbox.createPerson(), t.api.sandbox.createPerson()];
    await link('portal', 'u-9', linked);
    await link('portal', 'u-9', named);

    const answer = await t.api.post({ personIds: [named], subject: { source: 'portal', id: 'u-9' } }, { id: 'msg_both' });

    expect(answer.body.persons.map((p: { personId: string }) => p.personId).sort()).toEqual([named, linked].sort());
    expect(t.api.sandbox.callsFor(named, 'DELETE')).toHaveLength(1);
  });

  it('answers a redelivery with the persons resolved at first receipt, even after a new link, and 409 for another subject', async () => {
    const first = t.api.sandbox.createPerson();
    await link('hubspot', '5', first);
    const body = { subject: { source: 'hubspot', id: '5' } };
    const answer = await t.api.post(body, { id: 'msg_redelivered' });
    const later = t.api.sandbox.createPerson();
    await link('hubspot', '5', later);

    const redelivered = await t.api.post(body, { id: 'msg_redelivered' });
    const other = await t.api.post({ subject: { source: 'hubspot', id: '6' } }, { id: 'msg_redelivered' });
    const named = await t.api.post({ ...body, personIds: [later] }, { id: 'msg_redelivered' });

    expect(redelivered.status).toBe(200);
    expect(redelivered.body).toEqual(answer.body);
    expect(t.api.sandbox.callsFor(later)).toEqual([]);
    expect(other).toMatchObject({ status: 409, body: { error: 'idempotency_conflict' } });
    expect(named.status).toBe(409);
  });

  it('refuses a malformed subject with 400 and calls nobody', async () => {
    const bad = await Promise.all([
      t.api.post({ subject: { source: 'HubSpot', id: '1' } }),
      t.api.post({ subject: { source: 'hubspot', id: '' } }),
      t.api.post({ subject: { source: 'hubspot' } }),
      t.api.post({ subject: 'hubspot:1' }),
      t.api.post({ subject: { source: 'hubspot', id: 'a\u0000b' } }),
      t.api.post({ subject: { source: 'hubspot', id: '\ud800' } }),
    ]);
    for (const answer of bad) expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(t.api.sandbox.calls).toEqual([]);
  });
});

async function signedHeadersFor(method: string, path: string): Promise<Record<string, string>> {
  const { newMessageId, signedContent, signedHeaders } = await import('../../infra/local/signed-client');
  return signedHeaders(t.api.secrets[0]!, { id: newMessageId(), body: signedContent(method, path, '') });
}
