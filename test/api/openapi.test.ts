import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PERSON_ID_PATTERN } from '../../lambda/erasure/rules';
import { OPENAPI_FILE, currentOpenApi } from '../../infra/openapi/text';
import { expectAnswerMatchesContract } from '../support/openapi-contract';

const committed = () => readFileSync(OPENAPI_FILE, 'utf8');
const record = {
  erasureId: 'msg_1',
  status: 'pending',
  receivedAt: '2026-11-29T09:23:53.230Z',
  dueAt: '2026-12-29T09:23:53.230Z',
  persons: [
    {
      personId: '65175da13e81e4fabc12345f',
      outcome: 'pending',
      attempts: 1,
      vendorStatus: 503,
      lastError: 'Verifik answered 503',
    },
  ],
};

describe('openapi.json', () => {
  it('is what the schemas generate today (run npm run openapi after changing a schema or a route)', () => {
    // Its formatting is checked with the rest of the repository (npm run format:check).
    expect(JSON.parse(committed())).toEqual(currentOpenApi());
  });

  it('describes the request body with the schema the handlers validate with', () => {
    const document = JSON.parse(committed());
    const body = document.components.schemas.ErasureRequest;
    expect(body.properties.personIds.items.pattern).toBe(PERSON_ID_PATTERN.source);
    expect(document.paths['/erasures'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ErasureRequest',
    });
  });

  it('passes the Redocly linter with no warning', () => {
    const lint = spawnSync(path.join('node_modules', '.bin', 'redocly'), ['lint', OPENAPI_FILE], { encoding: 'utf8' });
    expect({ status: lint.status, warnings: /warning/i.test(lint.stdout + lint.stderr) }).toEqual({ status: 0, warnings: false });
  });
});

describe('the contract check every harness answer goes through', () => {
  const location = { location: '/erasures/msg_1' };

  it('accepts a documented answer', () => {
    expect(() =>
      expectAnswerMatchesContract('POST', '/erasures', { status: 202, headers: location, body: record }),
    ).not.toThrow();
    expect(() =>
      expectAnswerMatchesContract('GET', '/portal/erasures/msg_1', {
        status: 404,
        headers: {},
        body: { error: 'not_found', message: 'No.' },
      }),
    ).not.toThrow();
  });

  it('refuses a field the document does not name, a missing one, a wrong type', () => {
    const answer = (body: unknown) => () =>
      expectAnswerMatchesContract('GET', '/erasures/msg_1', { status: 202, headers: {}, body });
    expect(answer({ ...record, subjectRefHash: 'abc' })).toThrow(/does not allow/);
    expect(answer({ ...record, receivedAt: undefined })).toThrow(/does not allow/);
    expect(answer({ ...record, persons: [{ ...record.persons[0], outcome: 'gone' }] })).toThrow(/does not allow/);
  });

  it('refuses an undocumented status and a missing documented header', () => {
    expect(() => expectAnswerMatchesContract('GET', '/erasures/msg_1', { status: 409, headers: {}, body: {} })).toThrow(
      /a status openapi.json does not document/,
    );
    expect(() => expectAnswerMatchesContract('POST', '/portal/erasures', { status: 202, headers: {}, body: record })).toThrow(
      /without its documented header location/,
    );
  });
});
