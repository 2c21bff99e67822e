import { decide, evaluate, iamMatches, type PolicyStatementJson, type Scope } from './cfn-evaluator';
import {
  asArray,
  deployedRoleArn,
  deploymentScope,
  identityPolicyOf,
  resourceNamed,
  roleArn,
  secretResourcePolicy,
  statementsOfRole,
  synthStack,
} from './stack-template';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const secretArn = (nameWithSuffix: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${nameWithSuffix}`;
const CREATED = secretArn('SecretsVerifikToken-Q1w2E3');

describe('Verifik token secret given by name, by ARN, or created', () => {
  const template = synthStack();
  const json = template.toJSON();
  const tokenSecretId = resourceNamed(template, 'AWS::SecretsManager::Secret', 'SecretsVerifikToken').id;
  const workerFunction = resourceNamed(template, 'AWS::Lambda::Function', 'WorkerFunction').resource;
  const tokenStatement = statementsOfRole(template, 'WorkerRole').find((s) =>
    asArray(s.Action).includes('secretsmanager:GetSecretValue'),
  )!;

  /** What CloudFormation makes of the worker's token variable and policy for a parameter value. */
  const deployWith = (parameter: string) => {
    const scope: Scope = {
      refs: {
        VerifikTokenSecret: parameter,
        [tokenSecretId]: CREATED,
        'AWS::Partition': 'aws',
        'AWS::Region': REGION,
        'AWS::AccountId': ACCOUNT,
      },
      conditions: json.Conditions,
    };
    return {
      secretId: evaluate(workerFunction.Properties.Environment.Variables.VERIFIK_TOKEN_SECRET_ARN, scope) as string,
      policy: asArray(evaluate(tokenStatement.Resource, scope) as string | string[]),
    };
  };
  const allows = (policy: string[], arn: string) => policy.some((pattern) => iamMatches(pattern, arn));

  it('uses the created secret when the parameter is empty', () => {
    const { secretId, policy } = deployWith('');

    expect(secretId).toBe(CREATED);
    expect(allows(policy, CREATED)).toBe(true);
  });

  it('reads an existing secret given by name, and no other secret', () => {
    const { secretId, policy } = deployWith('prod/verifik-token');

    expect(secretId).toBe('prod/verifik-token');
    expect(allows(policy, secretArn('prod/verifik-token-AbC123'))).toBe(true);
    expect(allows(policy, secretArn('prod/verifik-token-other-AbC123'))).toBe(false);
    expect(allows(policy, secretArn('prod/verifik-AbC123'))).toBe(false);
    expect(allows(policy, CREATED)).toBe(false);
  });

  it('reads an existing secret given by ARN, and no other secret', () => {
    const arn = secretArn('prod/verifik-token-AbC123');
    const { secretId, policy } = deployWith(arn);

    expect(secretId).toBe(arn);
    expect(allows(policy, arn)).toBe(true);
    expect(allows(policy, secretArn('prod/verifik-token-ZyX987'))).toBe(false);
    expect(allows(policy, CREATED)).toBe(false);
  });

  describe('who may read the token', () => {
    const OPERATORS = [roleArn('PrivacyOps')];
    const DEVELOPER = roleArn('Developer');
    const EVERYTHING: PolicyStatementJson[] = [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }];

    /** The decision for GetSecretValue on the token as deployed with `parameter`, by the worker and by a broad developer role. */
    const readers = (parameter: string, tokenArn: string) => {
      const scope = deploymentScope(template, { VerifikTokenSecret: parameter, SecretAdminRoleArns: OPERATORS });
      const policy = secretResourcePolicy(template, 'SecretsVerifikToken', scope);
      // The policy is deployed with the created secret only: same condition.
      const deployed = evaluate({ 'Fn::If': [policy.condition, true, false] }, scope) === true;
      const resource = deployed ? policy.statements : [];
      const read = (principalArn: string, identity: PolicyStatementJson[]) =>
        decide({ identity, resource }, { principalArn, action: 'secretsmanager:GetSecretValue', resource: tokenArn });
      return {
        deployed,
        worker: read(deployedRoleArn(template, 'WorkerRole'), identityPolicyOf(template, 'WorkerRole', scope)),
        developer: read(DEVELOPER, EVERYTHING),
      };
    };

    it('lets the worker read the created secret and denies it to a developer whose IAM policy allows secretsmanager:*', () => {
      const created = secretArn(`${tokenSecretId}-Q1w2E3`);

      expect(readers('', created)).toEqual({ deployed: true, worker: 'allowed', developer: 'explicitly denied' });
    });

    it.each([
      ['by name', 'prod/verifik-token'],
      ['by ARN', secretArn('prod/verifik-token-AbC123')],
    ])(
      'lets the worker read an existing secret given %s, but attaches no policy to it: its owner must restrict it',
      (_, parameter) => {
        expect(readers(parameter, secretArn('prod/verifik-token-AbC123'))).toEqual({
          deployed: false,
          worker: 'allowed',
          developer: 'allowed',
        });
      },
    );
  });
});
