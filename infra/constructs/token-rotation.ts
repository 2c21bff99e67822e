import { Aws, CfnCondition, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnRotationSchedule } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CHECK_TOKEN_EVENT } from '../../lambda/rotation/rotation-handler';
import { ErasureFunction } from './erasure-function';
import type { ServiceSecrets } from './service-secrets';

/** How often the token's expiry is read and published, and an interrupted rotation finished. */
export const TOKEN_CHECK_EVERY = Duration.hours(6);

export interface TokenRotationProps {
  readonly secrets: ServiceSecrets;
  readonly verifikBaseUrl: string;
  /** Days between rotations (usually a parameter); well inside the token's 30 days. */
  readonly rotationDays: number;
}

/**
 * Keeps the Verifik token alive: Secrets Manager rotates the token secret every `rotationDays` with
 * the rotation function (lambda/rotation/), which asks Verifik for a new token with the current one,
 * tests it and makes it current; every 6 hours the same function publishes the days left and
 * finishes a rotation that was interrupted. It alone may write the token secret.
 */
export class TokenRotation extends Construct {
  readonly rotationFunction: ErasureFunction;

  constructor(scope: Construct, id: string, props: TokenRotationProps) {
    super(scope, id);
    const { secrets } = props;

    this.rotationFunction = new ErasureFunction(this, 'Function', {
      entry: 'lambda/handlers/rotation.ts',
      description: 'Rotates the Verifik token in its secret and publishes its days left',
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: { VERIFIK_BASE_URL: props.verifikBaseUrl },
    });
    secrets.bindRotation(this.rotationFunction);
    const fn = this.rotationFunction.function;

    // Secrets Manager invokes it for this secret only (the created one: its ARN; one passed in: this account).
    fn.addPermission('SecretsManagerRotates', {
      principal: new ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Stack.of(this).account,
      sourceArn: Fn.conditionIf(
        secrets.createVerifikToken.logicalId,
        secrets.createdVerifikTokenSecret.secretArn,
        Aws.NO_VALUE,
      ).toString(),
    });

    // One schedule per case, so each names its secret directly: the created secret, or the one passed in.
    const schedule = (scheduleId: string, secretId: string, condition: CfnCondition) => {
      const rotation = new CfnRotationSchedule(this, scheduleId, {
        secretId,
        rotationLambdaArn: fn.functionArn,
        rotationRules: { automaticallyAfterDays: props.rotationDays },
        // The first rotation waits for the schedule: a new secret is empty until the operator puts a token in.
        rotateImmediatelyOnUpdate: false,
      });
      rotation.cfnOptions.condition = condition;
      rotation.node.addDependency(fn.permissionsNode.findChild('SecretsManagerRotates'));
    };
    schedule('CreatedSecretRotation', secrets.createdVerifikTokenSecret.secretArn, secrets.createVerifikToken);
    const passedIn = new CfnCondition(this, 'TokenSecretPassedIn', { expression: Fn.conditionNot(secrets.createVerifikToken) });
    schedule('PassedInSecretRotation', secrets.passedInTokenSecret, passedIn);

    new Rule(this, 'CheckSchedule', {
      description: 'verifik-erasure: publish the Verifik token days left; finish an interrupted rotation',
      schedule: Schedule.rate(TOKEN_CHECK_EVERY),
      targets: [new LambdaFunction(fn, { event: RuleTargetInput.fromObject(CHECK_TOKEN_EVENT), retryAttempts: 2 })],
    });
  }
}
