import type { Template } from 'aws-cdk-lib/assertions';
import { grantsOf, resourceNamed, synthStack } from './stack-template';

/** The signing keys' public halves as outputs, read at deploy time by a function that can do nothing else. */
describe('public key outputs', () => {
  let template: Template;
  beforeAll(() => {
    template = synthStack();
  });

  it.each([
    ['CertificatePublicKey', 'CertificatesKey'],
    ['ArchivePublicKey', 'ArchiveKey'],
  ])('outputs %s: the PublicKeyDer the reader returns for that key', (output, keyPrefix) => {
    const key = resourceNamed(template, 'AWS::KMS::Key', keyPrefix);
    const resource = resourceNamed(template, 'Custom::PublicKey', `PublicKeys${output}`);
    const reader = resourceNamed(template, 'AWS::Lambda::Function', 'PublicKeysReaderFunction');

    expect(resource.resource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [reader.id, 'Arn'] },
      KeyId: { 'Fn::GetAtt': [key.id, 'Arn'] },
    });
    expect(template.toJSON().Outputs[output]).toMatchObject({ Value: { 'Fn::GetAtt': [resource.id, 'PublicKeyDer'] } });
    // Invoked only once its role may read the key.
    expect(resource.resource.DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(/^PublicKeysReaderRoleDefaultPolicy/)]),
    );
  });

  it('lets the reader read the two public keys and write its log, nothing else; nothing may invoke it but CloudFormation', () => {
    // grantsOf names resources without the hash CDK appends to logical ids.
    expect(grantsOf(template, 'PublicKeysReaderRole')).toEqual({
      'kms:GetPublicKey': ['ArchiveKey', 'CertificatesKey'],
      'logs:CreateLogStream': ['PublicKeysReaderLogs'],
      'logs:PutLogEvents': ['PublicKeysReaderLogs'],
    });
    const reader = resourceNamed(template, 'AWS::Lambda::Function', 'PublicKeysReaderFunction');
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) =>
      JSON.stringify(p.Properties.FunctionName).includes(reader.id),
    );
    expect(permissions).toEqual([]);
    expect(reader.resource.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 30 });
  });
});
