import { iamMatches, resolve, statementApplies, type PolicyStatementJson } from './cfn-evaluator';
import {
  ACCOUNT,
  asArray,
  deployedRoleArn,
  deploymentScope,
  grantsOf,
  resourceNamed,
  roleArn,
  synthStack,
} from './stack-template';

const template = synthStack();
const scope = deploymentScope(template, { SecretAdminRoleArns: [roleArn('PrivacyOps')], OrganizationName: 'Example GmbH' });
const key = resourceNamed(template, 'AWS::KMS::Key', 'CertificatesKey');
const keyPolicy = resolve(key.resource.Properties.KeyPolicy.Statement, scope) as PolicyStatementJson[];
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const HTTP = deployedRoleArn(template, 'HttpRole');

/**
 * KMS's decision on one call with this key policy: an explicit deny wins; the key policy allows the
 * principal itself, or delegates the action to IAM in the account (a statement for the account root),
 * where the principal's identity policy must allow it too (here: as broad as an administrator's).
 */
function kmsDecides(principalArn: string, action: string, identityAllows = true): 'allowed' | 'denied' {
  const request = { principalArn, action, resource: '*' };
  const applies = (s: PolicyStatementJson) => {
    // Only aws:PrincipalArn conditions are evaluated; the signing conditions are checked separately below.
    const { StringEquals: _signing, ...rest } = s.Condition ?? {};
    return statementApplies({ ...s, Condition: rest }, request);
  };
  const principals = (s: PolicyStatementJson) => asArray((s.Principal as { AWS: string | string[] }).AWS);
  if (keyPolicy.some((s) => s.Effect === 'Deny' && principals(s).includes('*') && applies(s))) return 'denied';
  const allows = keyPolicy.filter((s) => s.Effect === 'Allow' && applies(s));
  if (allows.some((s) => principals(s).includes(principalArn))) return 'allowed';
  if (identityAllows && allows.some((s) => principals(s).includes(ROOT))) return 'allowed';
  return 'denied';
}

describe('the certificate key', () => {
  it('is an ECC P-256 signing key, retained when the stack or the key is replaced or deleted', () => {
    expect(key.resource).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
    });
    // KMS rotates only symmetric keys; the certificate key is replaced, if ever, by a new stack key.
    expect(key.resource.Properties.EnableKeyRotation).toBeUndefined();
  });

  it('lets the HTTP function sign, with ECDSA_SHA_256 only, and no other function or principal', () => {
    expect(kmsDecides(HTTP, 'kms:Sign')).toBe('allowed');
    for (const other of [
      deployedRoleArn(template, 'InvokeRole'),
      deployedRoleArn(template, 'WorkerRole'),
      roleArn('PrivacyOps'),
      roleArn('Administrator'),
      ROOT,
    ]) {
      expect([other, kmsDecides(other, 'kms:Sign')]).toEqual([other, 'denied']);
    }
    const issuers = keyPolicy.find((s) => s.Sid === 'IssuersSign')!;
    expect(issuers).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: HTTP },
      Action: 'kms:Sign',
      Condition: { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': ['RAW', 'DIGEST'] } },
    });
  });

  it('leaves administration and the public key to IAM in the account, but never signing or verifying through it', () => {
    const admin = keyPolicy.find((s) => s.Sid === 'AdministerThroughIam')!;
    expect(admin.Principal).toEqual({ AWS: ROOT });
    for (const action of [
      'kms:GetPublicKey',
      'kms:DescribeKey',
      'kms:PutKeyPolicy',
      'kms:ScheduleKeyDeletion',
      'kms:TagResource',
    ]) {
      expect([action, kmsDecides(roleArn('PrivacyOps'), action)]).toEqual([action, 'allowed']);
      expect([action, kmsDecides(roleArn('PrivacyOps'), action, false)]).toEqual([action, 'denied']);
    }
    for (const action of asArray(admin.Action!)) {
      expect(iamMatches(action.toLowerCase(), 'kms:sign')).toBe(false);
      expect(action).not.toBe('kms:*');
    }
    expect(keyPolicy.map((s) => s.Sid)).toEqual(['AdministerThroughIam', 'IssuersSign', 'NobodyElseSigns']);
  });

  it('grants kms:Sign on this key to the HTTP role alone, with the same conditions', () => {
    expect(grantsOf(template, 'HttpRole')['kms:Sign']).toEqual(['CertificatesKey']);
    expect(grantsOf(template, 'InvokeRole')['kms:Sign']).toBeUndefined();
    expect(grantsOf(template, 'WorkerRole')['kms:Sign']).toBeUndefined();
  });

  it('names the key and the controller to the HTTP function only', () => {
    const variables = (name: string) =>
      resourceNamed(template, 'AWS::Lambda::Function', `${name}Function`).resource.Properties.Environment.Variables;
    expect(variables('Http')).toMatchObject({
      CERTIFICATE_KEY_ARN: { 'Fn::GetAtt': [key.id, 'Arn'] },
      ORGANIZATION_NAME: { Ref: 'OrganizationName' },
    });
    for (const name of ['Invoke', 'Worker']) {
      expect(variables(name).CERTIFICATE_KEY_ARN).toBeUndefined();
      expect(variables(name).ORGANIZATION_NAME).toBeUndefined();
    }
  });

  it('publishes the key ARN as an output, with the command that fetches the public key', () => {
    const output = template.toJSON().Outputs.CertificateKeyArn;
    expect(output.Value).toEqual({ 'Fn::GetAtt': [key.id, 'Arn'] });
    expect(output.Description).toContain('aws kms get-public-key');
  });

  it('asks for the controller name at deploy time: 1 to 200 characters, no default', () => {
    const parameter = template.toJSON().Parameters.OrganizationName;
    expect(parameter.Default).toBeUndefined();
    const pattern = new RegExp(parameter.AllowedPattern);
    for (const good of ['Example GmbH', 'Beispiel Datenschutz GmbH & Co. KG', 'x'.repeat(200)])
      expect(pattern.test(good)).toBe(true);
    for (const bad of ['', ' leading space', 'x'.repeat(201)]) expect(pattern.test(bad)).toBe(false);
  });
});
