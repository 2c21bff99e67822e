import { ArnFormat, CfnCondition, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { CfnSecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface ServiceSecretsProps {
  /**
   * Name or ARN of an existing Secrets Manager secret (same account and region) holding the Verifik
   * bearer token; an empty string (usually a CloudFormation parameter) creates an empty one to fill.
   */
  readonly existingVerifikTokenSecret: string;
}

/** One secret as the functions see it: the value of its `*_SECRET_ARN` variable and the ARNs a policy names. */
export interface SecretReference {
  /** What the function passes to GetSecretValue: an ARN, or a name for a referenced secret. */
  readonly secretId: string;
  readonly policyArns: string[];
}

/**
 * The three secrets of the service. Generated values never appear in the template; each function
 * is granted only the secrets it reads (see `grantRead`).
 *
 * SecretString shapes:
 * - webhook: 32 characters `[A-Za-z0-9]`, the base64 key of a Standard Webhooks secret without the
 *   `whsec_` prefix (32 base64 characters decode to 24 random bytes); senders use `whsec_` + value.
 *   After rotation: space-separated secrets, each with or without the prefix.
 * - pepper: 64 characters `[A-Za-z0-9]` (about 380 bits).
 * - Verifik token: the bearer token as a plain string; created without a value.
 */
export class ServiceSecrets extends Construct {
  readonly webhookSecret: Secret;
  readonly pepperSecret: Secret;
  /** Only created when no existing secret is named; guarded by `createVerifikToken`. */
  readonly createdVerifikTokenSecret: Secret;
  readonly createVerifikToken: CfnCondition;
  readonly webhook: SecretReference;
  readonly pepper: SecretReference;
  readonly verifikToken: SecretReference;

  constructor(scope: Construct, id: string, props: ServiceSecretsProps) {
    super(scope, id);

    this.webhookSecret = new Secret(this, 'WebhookSecret', {
      description: 'verifik-erasure: Standard Webhooks signing key(s), base64 without the whsec_ prefix, space-separated',
      generateSecretString: { passwordLength: 32, excludePunctuation: true, includeSpace: false },
    });
    this.pepperSecret = new Secret(this, 'SubjectRefPepper', {
      description: 'verifik-erasure: HMAC pepper for subjectRef in the audit trail; never change it',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      // The audit table is retained and its subjectRef hashes are only useful with this pepper.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.createVerifikToken = new CfnCondition(this, 'CreateVerifikToken', {
      expression: Fn.conditionEquals(props.existingVerifikTokenSecret, ''),
    });
    this.createdVerifikTokenSecret = new Secret(this, 'VerifikToken', {
      description: 'verifik-erasure: Verifik bearer token (plain string); put the value in after deploying',
    });
    const cfnToken = this.createdVerifikTokenSecret.node.defaultChild as CfnSecret;
    // Neither SecretString nor GenerateSecretString: an empty secret, so nothing random poses as a token.
    cfnToken.addPropertyDeletionOverride('GenerateSecretString');
    cfnToken.cfnOptions.condition = this.createVerifikToken;

    this.webhook = { secretId: this.webhookSecret.secretArn, policyArns: [this.webhookSecret.secretArn] };
    this.pepper = { secretId: this.pepperSecret.secretArn, policyArns: [this.pepperSecret.secretArn] };
    const tokenId = Fn.conditionIf(
      this.createVerifikToken.logicalId,
      this.createdVerifikTokenSecret.secretArn,
      props.existingVerifikTokenSecret,
    ).toString();
    this.verifikToken = { secretId: tokenId, policyArns: secretArnsForNameOrArn(this, tokenId) };

    const rotation = (secret: Secret, reason: string) => Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason });
    rotation(
      this.webhookSecret,
      'Rotating a webhook signing key needs the sender to switch too; operators rotate it by hand with both keys active at once (README, Deploy), which a rotation Lambda cannot coordinate.',
    );
    rotation(
      this.pepperSecret,
      'The pepper must never change: subjectRef hashes already in the retained audit trail are only verifiable with it.',
    );
    rotation(
      this.createdVerifikTokenSecret,
      'The Verifik token is issued by Verifik; it is renewed in the Verifik dashboard and written here by the operator (README, Deploy). AWS has no API to rotate it.',
    );
  }

  /**
   * Lets `grantee` read one secret: GetSecretValue on that secret only, the one call Powertools'
   * SecretsProvider makes (lambda/secrets/secrets.ts); no DescribeSecret.
   */
  grantRead(grantee: IGrantable, secret: SecretReference): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: secret.policyArns,
      }),
    );
  }
}

/**
 * The ARNs an IAM policy needs for a secret given by name or by ARN, decided at deploy time (the
 * value is a parameter). `name` is what follows `:secret:` in an ARN, or the whole value for a name:
 * `<x>:secret:<x>|` split on `:secret:` has the name (or the ARN's last part) at index 1, with a `|`
 * only in the name case. A complete ARN matches `secret:<name-suffix>`; a name matches
 * `secret:<name>-??????` (Secrets Manager appends six random characters). Same account and region.
 */
export function secretArnsForNameOrArn(scope: Construct, nameOrArn: string): string[] {
  const tail = Fn.select(1, Fn.split(':secret:', Fn.join('', [nameOrArn, ':secret:', nameOrArn, '|'])));
  const name = Fn.select(0, Fn.split('|', tail));
  const arn = (resourceName: string) =>
    Stack.of(scope).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  return [arn(name), arn(`${name}-??????`)];
}
