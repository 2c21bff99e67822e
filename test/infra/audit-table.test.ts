import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AUDIT_RETRIER_ACCESS, AuditTable } from '../../infra/constructs/audit-table';
import { grantsOf, statementsOfRole, synthStack } from './stack-template';

describe('AuditTable.grantItemAccess', () => {
  let outdir: string;
  beforeEach(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'verifik-erasure-grants-'));
  });
  afterEach(() => rmSync(outdir, { recursive: true, force: true }));

  const grantedTo = (access: Parameters<AuditTable['grantItemAccess']>[1]) => {
    const stack = new Stack(new App({ outdir }), 'Grants');
    const table = new AuditTable(stack, 'Audit');
    const role = new Role(stack, 'Reader', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    table.grantItemAccess(role, access);
    return Template.fromStack(stack);
  };

  it('names each index a function queries one by one, never index/*', () => {
    const template = grantedTo({ actions: ['dynamodb:Query'], queryIndexes: ['byPerson'] });
    const query = statementsOfRole(template, 'Reader').filter((s) => s.Effect === 'Allow' && s.Action === 'dynamodb:Query');

    expect(query.map((s) => s.Resource)).toEqual(
      expect.arrayContaining([
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^AuditTable/), 'Arn'] }, '/index/byPerson']] },
      ]),
    );
    expect(JSON.stringify(query)).not.toContain('/index/*');
    expect(JSON.stringify(query)).not.toContain('byReceivedAt');
  });

  it('grants no index at all unless one is named', () => {
    const template = grantedTo(AUDIT_RETRIER_ACCESS);

    expect(JSON.stringify(statementsOfRole(template, 'Reader'))).not.toContain('/index/');
  });
});

describe('customer-managed audit table key', () => {
  const template = synthStack({
    auditTableEncryption: 'customer-managed',
    env: { account: '123456789012', region: 'eu-west-1' },
  });

  it.each(['Http', 'Invoke', 'Worker'])('lets %s use the table key only through DynamoDB in the stack region', (name) => {
    // The certificate key (kms:Sign, HTTP function only) is another key: test/infra/certificate-signing.test.ts.
    const kms = statementsOfRole(template, `${name}Role`).filter(
      (s) => JSON.stringify(s.Action).includes('kms:') && !JSON.stringify(s.Resource).includes('CertificatesKey'),
    );

    expect(kms).toHaveLength(1);
    expect(kms[0]).toMatchObject({
      Effect: 'Allow',
      Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
    });
    expect(
      Object.entries(grantsOf(template, `${name}Role`)).filter(([action]) => action.startsWith('kms:') && action !== 'kms:Sign'),
    ).toEqual([
      ['kms:Decrypt', ['AuditKey']],
      ['kms:DescribeKey', ['AuditKey']],
      ['kms:Encrypt', ['AuditKey']],
      ['kms:GenerateDataKey', ['AuditKey']],
    ]);
  });
});
