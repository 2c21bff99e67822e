/**
 * Bugs the fuzz suite found, kept as minimal regression tests now that they are fixed.
 */

import { useFuzzHarness } from './fuzz-support';

const t = useFuzzHarness();

describe('the erasure id in a GET path is URL-decoded', () => {
  // POST accepts any erasure id of [A-Za-z0-9_.:-]{1,128}; the 202 Location, the project's CLI
  // (ErasureApiClient.status) and the harness's get() put it in the path with encodeURIComponent,
  // which turns ':' into %3A; the router hands the raw segment to parseErasureId, which refuses '%'.
  it('GET on the Location of a 202 answers the record, for an erasure id with ":"', async () => {
    t.api.sandbox.script('locked_person', { status: 403 });
    const posted = await t.api.post({ personIds: ['locked_person'] }, { id: 'urn:crm:erasure:1' });
    const read = await t.api.send('GET', posted.headers.location ?? '', '');
    expect({ posted: posted.status, location: posted.headers.location, read: read.status }).toEqual({
      posted: 202,
      location: '/erasures/urn%3Acrm%3Aerasure%3A1',
      read: 200,
    });
  });

  it('GET /erasures/{encodeURIComponent(id)} and the portal GET read an erasure whose id has ":"', async () => {
    expect((await t.api.post({ personIds: ['p1'] }, { id: 'a:b' })).status).toBe(200);
    const webhook = await t.api.get('a:b');
    const portal = await t.api.portal('GET', `/portal/erasures/${encodeURIComponent('a:b')}`, undefined);
    expect([webhook.status, portal.status]).toEqual([200, 200]);
  });
});

describe('repeats collapse to one id, however many', () => {
  // docs/api.md: "personIds: 1 to 100 distinct ids …; repeats collapse to one." The raw array is bounded
  // only by the 64 KiB body.
  it('1,001 repeats of one id are one distinct id', async () => {
    const answer = await t.api.post({ personIds: Array.from({ length: 1001 }, () => 'p1') });
    expect([answer.status, answer.body.persons?.length]).toEqual([200, 1]);
  });
});

describe('text fields must be well-formed Unicode', () => {
  // A JSON escape can carry a lone surrogate ("\ud800"); the HMAC over UTF-8 would map every lone
  // surrogate to U+FFFD, so different subjectRefs would share one subjectRefHash. They are refused.
  it('refuses a subjectRef with a lone surrogate, without calling Verifik', async () => {
    const first = await t.api.post(undefined, {
      id: 'msg_surrogate',
      rawBody: '{"personIds":["p1"],"subjectRef":"crm-\\ud800"}',
    });
    const second = await t.api.post(undefined, {
      id: 'msg_surrogate',
      rawBody: '{"personIds":["p1"],"subjectRef":"crm-\\udfff"}',
    });
    expect([first.status, second.status]).toEqual([400, 400]);
    expect(t.api.sandbox.calls).toHaveLength(0);
  });
});
