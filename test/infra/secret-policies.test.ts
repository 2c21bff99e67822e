import { decide, type AccessRequest, type PolicyStatementJson } from './cfn-evaluator';
import {
  ACCOUNT,
  REGION,
  deployedRoleArn,
  deploymentScope,
  identityPolicyOf,
  resourceNamed,
  roleArn,
  secretResourcePolicy,
  synthStack,
} from './stack-template';

/** The operators named at deploy time: one role by name, and every IAM Identity Center administrator. */
const OPERATORS = [roleArn('PrivacyOps'), roleArn('aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_AdministratorAccess_*')];
const SSO_ADMIN = roleArn('aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6789');
const SSO_READ_ONLY = roleArn('aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ReadOnlyAccess_0a1b2c3d4e5f6789');
const DEVELOPER = roleArn('Developer');
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const CLOUDFORMATION = roleArn(`cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`);

/** An identity policy as broad as an administrator's or a careless developer's. */
const EVERYTHING: PolicyStatementJson[] = [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }];

const FUNCTIONS = ['Http', 'Invoke', 'Worker'] as const;
const SECRETS = [
  { secret: 'SecretsWebhookSecret', readers: ['Http'] },
  { secret: 'SecretsSubjectRefPepper', readers: ['Http', 'Invoke'] },
  { secret: 'SecretsVerifikToken', readers: ['Http', 'Invoke', 'Worker'] },
] as const;

describe('resource policies of the secrets the stack creates', () => {
  const template = synthStack();
  // An empty VerifikTokenSecret: the stack creates the token secret, and its policy with it.
  const scope = deploymentScope(template, { SecretAdminRoleArns: OPERATORS, VerifikTokenSecret: '' });

  describe.each(SECRETS)('$secret', ({ secret, readers }) => {
    const arn = scope.refs[resourceNamed(template, 'AWS::SecretsManager::Secret', secret).id] as string;
    const resource = secretResourcePolicy(template, secret, scope).statements;
    const request = (principalArn: string, action: string): AccessRequest => ({ principalArn, action, resource: arn });
    const asFunction = (name: string, action: string, identity = identityPolicyOf(template, `${name}Role`, scope)) =>
      decide({ identity, resource }, request(deployedRoleArn(template, `${name}Role`), action));
    const asPrincipal = (principalArn: string, action: string) =>
      decide({ identity: EVERYTHING, resource }, request(principalArn, action));

    it.each(readers)('lets the %s function read the value', (name) => {
      expect(asFunction(name, 'secretsmanager:GetSecretValue')).toBe('allowed');
    });

    it.each(readers)('lets the %s function do nothing else, even if its role were granted secretsmanager:* later', (name) => {
      const broadened = [...identityPolicyOf(template, `${name}Role`, scope), ...EVERYTHING];

      for (const action of [
        'PutSecretValue',
        'UpdateSecret',
        'DeleteSecret',
        'PutResourcePolicy',
        'DeleteResourcePolicy',
        'TagResource',
      ]) {
        expect([action, asFunction(name, `secretsmanager:${action}`, broadened)]).toEqual([action, 'explicitly denied']);
      }
    });

    const others = FUNCTIONS.filter((name) => !(readers as readonly string[]).includes(name));
    if (others.length > 0) {
      it.each(others)('refuses the value to the %s function, even with secretsmanager:* on its role', (name) => {
        const broadened = [...identityPolicyOf(template, `${name}Role`, scope), ...EVERYTHING];

        expect(asFunction(name, 'secretsmanager:GetSecretValue', broadened)).toBe('explicitly denied');
      });
    }

    it('refuses the value, and any change, to another principal of the account whatever its IAM policies allow', () => {
      for (const principal of [DEVELOPER, SSO_READ_ONLY]) {
        for (const action of ['GetSecretValue', 'PutSecretValue', 'PutResourcePolicy', 'DeleteSecret']) {
          expect([principal, action, asPrincipal(principal, `secretsmanager:${action}`)]).toEqual([
            principal,
            action,
            'explicitly denied',
          ]);
        }
      }
    });

    it("leaves the secret's metadata readable (AWS Config, Access Analyzer, auditors)", () => {
      expect(asPrincipal(DEVELOPER, 'secretsmanager:DescribeSecret')).toBe('allowed');
      expect(asPrincipal(DEVELOPER, 'secretsmanager:GetResourcePolicy')).toBe('allowed');
    });

    it('lets the operators named in SecretAdminRoleArns put a new value and read it', () => {
      for (const operator of [roleArn('PrivacyOps'), SSO_ADMIN]) {
        expect(asPrincipal(operator, 'secretsmanager:PutSecretValue')).toBe('allowed');
        expect(asPrincipal(operator, 'secretsmanager:GetSecretValue')).toBe('allowed');
      }
    });

    it('never locks out the account root or CloudFormation, which must update and delete the secret and this policy', () => {
      for (const principal of [ROOT, CLOUDFORMATION]) {
        for (const action of ['PutResourcePolicy', 'DeleteResourcePolicy', 'UpdateSecret', 'DeleteSecret']) {
          expect([principal, action, asPrincipal(principal, `secretsmanager:${action}`)]).toEqual([principal, action, 'allowed']);
        }
      }
    });
  });

  describe('the token rotation role', () => {
    const ROTATION_ROLE = 'TokenRotationFunctionRole';
    const arnOf = (secret: string) => scope.refs[resourceNamed(template, 'AWS::SecretsManager::Secret', secret).id] as string;
    const asRotation = (secret: string, action: string, broadened = false) =>
      decide(
        {
          identity: [...identityPolicyOf(template, ROTATION_ROLE, scope), ...(broadened ? EVERYTHING : [])],
          resource: secretResourcePolicy(template, secret, scope).statements,
        },
        { principalArn: deployedRoleArn(template, ROTATION_ROLE), action, resource: arnOf(secret) },
      );

    it('may read the token, its versions, put a pending value and move AWSCURRENT', () => {
      for (const action of ['GetSecretValue', 'DescribeSecret', 'PutSecretValue', 'UpdateSecretVersionStage']) {
        expect([action, asRotation('SecretsVerifikToken', `secretsmanager:${action}`)]).toEqual([action, 'allowed']);
      }
    });

    it('may do nothing else with the token, even if its role were granted secretsmanager:* later', () => {
      for (const action of [
        'DeleteSecret',
        'UpdateSecret',
        'PutResourcePolicy',
        'RotateSecret',
        'CancelRotateSecret',
        'TagResource',
      ]) {
        expect([action, asRotation('SecretsVerifikToken', `secretsmanager:${action}`, true)]).toEqual([
          action,
          'explicitly denied',
        ]);
      }
    });

    it.each(['SecretsWebhookSecret', 'SecretsSubjectRefPepper'])(
      'may not read or write %s, even with secretsmanager:*',
      (secret) => {
        for (const action of ['GetSecretValue', 'PutSecretValue']) {
          expect([action, asRotation(secret, `secretsmanager:${action}`, true)]).toEqual([action, 'explicitly denied']);
        }
      },
    );

    it('is the only function role that may write the token: the readers are refused PutSecretValue whatever their IAM policies', () => {
      const token = secretResourcePolicy(template, 'SecretsVerifikToken', scope).statements;
      for (const name of FUNCTIONS) {
        const identity = [...identityPolicyOf(template, `${name}Role`, scope), ...EVERYTHING];
        const request = { principalArn: deployedRoleArn(template, `${name}Role`), resource: arnOf('SecretsVerifikToken') };
        for (const action of ['PutSecretValue', 'UpdateSecretVersionStage']) {
          expect([
            name,
            action,
            decide({ identity, resource: token }, { ...request, action: `secretsmanager:${action}` }),
          ]).toEqual([name, action, 'explicitly denied']);
        }
      }
    });
  });

  it('keeps the pepper policy with the retained pepper when the stack is deleted', () => {
    const pepperId = resourceNamed(template, 'AWS::SecretsManager::Secret', 'SecretsSubjectRefPepper').id;
    const policy = Object.values(template.findResources('AWS::SecretsManager::ResourcePolicy')).find(
      (candidate) => candidate.Properties.SecretId.Ref === pepperId,
    )!;

    expect(policy.DeletionPolicy).toBe('Retain');
  });

  it('makes Secrets Manager refuse any policy that would open a secret to other accounts', () => {
    for (const policy of Object.values(template.findResources('AWS::SecretsManager::ResourcePolicy'))) {
      expect(policy.Properties.BlockPublicPolicy).toBe(true);
    }
  });

  it('takes the operators as role or user ARNs of one account, wildcards only in the name', () => {
    const parameter = template.toJSON().Parameters.SecretAdminRoleArns;
    const allowed = new RegExp(parameter.AllowedPattern);

    expect(parameter.Type).toBe('CommaDelimitedList');
    expect(parameter.Default).toBeUndefined();
    for (const arn of [...OPERATORS, roleArn('team/PrivacyOps'), `arn:aws:iam::${ACCOUNT}:user/ops`])
      expect(allowed.test(arn)).toBe(true);
    for (const arn of [
      'arn:aws:iam::*:role/Admin',
      '*',
      `arn:aws:iam::${ACCOUNT}:root`,
      `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/me`,
      '',
    ]) {
      expect(allowed.test(arn)).toBe(false);
    }
  });
});
