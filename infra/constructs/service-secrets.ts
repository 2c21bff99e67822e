import { ArnFormat, CfnCondition, DefaultStackSynthesizer, Fn, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import { CfnResourcePolicy, CfnSecret, Secret, type ResourcePolicy } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SECRET_ARN_VARIABLE, type SecretName } from '../../lambda/config';
import type { BindTarget } from './erasure-function';

export interface ServiceSecretsProps {
  /**
   * Name or ARN of an existing Secrets Manager secret (same account and region) holding the Verifik
   * bearer token; an empty string (usually a CloudFormation parameter) creates an empty one to fill.
   */
  readonly existingVerifikTokenSecret: string;
  /**
   * IAM principal ARN patterns (`ArnLike`: `*` and `?` allowed) of the operators who manage the
   * secrets: put a new Verifik token or webhook key, read the webhook key for the sender, change or
   * delete a secret. Usually a CommaDelimitedList parameter.
   */
  readonly adminPrincipalArns: string[];
}

/**
 * What anyone may still do with a secret: read its metadata, never its value. AWS Config, IAM
 * Access Analyzer and auditors read these; denying them would blind the account's own checks.
 */
export const SECRET_METADATA_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetResourcePolicy',
  'secretsmanager:ListSecretVersionIds',
] as const;

/** What the token's rotation function does with the token secret, and all it may do. */
export const TOKEN_ROTATION_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:DescribeSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
] as const;

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
 * Each secret the stack creates also gets a resource policy that denies, to every principal of the
 * account whatever its own IAM policies say, everything but reading metadata, except to:
 * - the function roles granted the secret here, which may only read its value (GetSecretValue);
 * - for the Verifik token, the role of its rotation function (`bindRotation`), which may only rotate
 *   it (TOKEN_ROTATION_ACTIONS);
 * - the operators named in `adminPrincipalArns`: they put new values (a renewed Verifik token, a
 *   rotated webhook key) and read the webhook key to hand it to the sender;
 * - the account root and CloudFormation's execution role (the CDK bootstrap's, when the stack uses
 *   the default synthesizer), so neither the account nor this stack can be locked out of the
 *   secret or its policy.
 * An existing token secret named by the `existingVerifikTokenSecret` is not ours: one policy per
 * secret, so attaching ours would replace its owner's, and deleting the stack would remove it. Its
 * owner applies the same policy (docs/deploy.md); `readerRoleArns` lists the roles to admit.
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
  /** The name or ARN of a token secret passed in (empty when the stack creates it). */
  readonly passedInTokenSecret: string;
  readonly webhook: SecretReference;
  readonly pepper: SecretReference;
  /** The HubSpot app's client secret (the key of `POST /hooks/hubspot`'s signatures); created empty. */
  readonly hubspotClientSecret: Secret;
  readonly hubspot: SecretReference;
  readonly verifikToken: SecretReference;
  /** The roles granted each secret, filled by `grantRead`; the resource policies read them at synth time. */
  private readonly readers = new Map<SecretReference, IRole[]>();
  /** The role of the token's rotation function, the only one that may write the token (`bindRotation`). */
  private rotator: IRole | undefined;
  /** Who may manage the secrets besides their readers (`adminArns`). */
  private readonly admins: string[];

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

    this.passedInTokenSecret = props.existingVerifikTokenSecret;
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

    this.hubspotClientSecret = new Secret(this, 'HubSpotClientSecret', {
      description: "verifik-erasure: the HubSpot app's client secret (plain string); put it in to use POST /hooks/hubspot",
    });
    // Nothing random poses as HubSpot's secret: empty until an operator puts it in (the hook answers 503 until then).
    (this.hubspotClientSecret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');

    this.webhook = { secretId: this.webhookSecret.secretArn, policyArns: [this.webhookSecret.secretArn] };
    this.hubspot = { secretId: this.hubspotClientSecret.secretArn, policyArns: [this.hubspotClientSecret.secretArn] };
    this.pepper = { secretId: this.pepperSecret.secretArn, policyArns: [this.pepperSecret.secretArn] };
    const tokenId = Fn.conditionIf(
      this.createVerifikToken.logicalId,
      this.createdVerifikTokenSecret.secretArn,
      props.existingVerifikTokenSecret,
    ).toString();
    this.verifikToken = { secretId: tokenId, policyArns: secretArnsForNameOrArn(this, tokenId) };

    const admins = (this.admins = this.adminArns(props.adminPrincipalArns));
    this.restrictAccess(this.webhookSecret, this.webhook, admins);
    this.restrictAccess(this.hubspotClientSecret, this.hubspot, admins);
    // The pepper outlives the stack (RETAIN); so does the policy that keeps it from everyone else.
    this.restrictAccess(this.pepperSecret, this.pepper, admins).applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.restrictAccess(this.createdVerifikTokenSecret, this.verifikToken, admins).cfnOptions.condition = this.createVerifikToken;

    // The token secret rotates (infra/constructs/token-rotation.ts); these two must not.
    const rotation = (secret: Secret, reason: string) => Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason });
    rotation(
      this.webhookSecret,
      'Rotating a webhook signing key needs the sender to switch too; operators rotate it by hand with both keys active at once (docs/deploy.md), which a rotation Lambda cannot coordinate.',
    );
    rotation(
      this.hubspotClientSecret,
      "HubSpot issues the app's client secret; it changes only when rotated in HubSpot, and the operator then puts the new one in.",
    );
    rotation(
      this.pepperSecret,
      'The pepper must never change: subjectRef hashes already in the retained audit trail are only verifiable with it.',
    );
  }

  /**
   * A further secret of the service, created in `scope` with a generated value of 32 alphanumerics
   * (like the webhook key) and the same resource policy as the others: its readers (`bindTo`) may only
   * read it, the operators manage it, everyone else is denied all but its metadata.
   */
  createSecret(scope: Construct, id: string, description: string): { secret: Secret; reference: SecretReference } {
    const secret = new Secret(scope, id, {
      description,
      generateSecretString: { passwordLength: 32, excludePunctuation: true, includeSpace: false },
    });
    const reference = { secretId: secret.secretArn, policyArns: [secret.secretArn] };
    this.restrictAccess(secret, reference, this.admins);
    return { secret, reference };
  }

  /**
   * Names the token secret to its rotation function and lets it rotate that secret alone: read the
   * value and the versions, store a pending value, move AWSCURRENT. No other role may write the
   * token; the secret's resource policy admits this role for these four actions only.
   */
  bindRotation(fn: BindTarget): void {
    if (this.rotator) throw new Error('the Verifik token has one rotation function');
    fn.addEnvironment(SECRET_ARN_VARIABLE.VERIFIK_TOKEN, this.verifikToken.secretId);
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...TOKEN_ROTATION_ACTIONS], resources: this.verifikToken.policyArns }),
    );
    this.rotator = fn.role;
  }

  /** The role of the rotation function, for the policy of a token secret the stack does not own. */
  get rotationRoleArn(): string {
    if (!this.rotator) throw new Error('bindRotation has not been called');
    return this.rotator.roleArn;
  }

  /** Names `secret` to `fn` (the variable lambda/config.ts reads its ARN from) and lets it read the value. */
  bindTo(fn: BindTarget, secret: SecretReference, name: SecretName): void {
    fn.addEnvironment(SECRET_ARN_VARIABLE[name], secret.secretId);
    this.grantRead(fn.role, secret);
  }

  /**
   * Lets `role` read one secret: GetSecretValue on that secret only, the one call Powertools'
   * SecretsProvider makes (lambda/secrets/secrets.ts); no DescribeSecret. The secret's resource
   * policy admits the role for that action alone.
   */
  grantRead(role: IRole, secret: SecretReference): void {
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secret.policyArns }));
    this.readers.set(secret, [...(this.readers.get(secret) ?? []), role]);
  }

  /** The ARNs of the roles granted `secret`, comma-separated (for the policy of a token secret the stack does not own). */
  readerRoleArns(secret: SecretReference): string {
    return Lazy.string({ produce: () => Fn.join(',', this.readerArns(secret)) });
  }

  private readerArns(secret: SecretReference): string[] {
    return (this.readers.get(secret) ?? []).map((role) => role.roleArn);
  }

  /** The operators, the account root and CloudFormation's execution role, as one list of ARN patterns. */
  private adminArns(operators: string[]): string[] {
    const stack = Stack.of(this);
    const root = stack.formatArn({ service: 'iam', region: '', resource: 'root', arnFormat: ArnFormat.NO_RESOURCE_NAME });
    const synthesizer = stack.synthesizer;
    // Without the default synthesizer CloudFormation acts with the deployer's own credentials, who
    // must then be among the operators.
    const deployment = synthesizer instanceof DefaultStackSynthesizer ? [Fn.sub(synthesizer.cloudFormationExecutionRoleArn)] : [];
    return [root, ...deployment, Fn.join(',', operators)];
  }

  /** Attaches the resource policy described on the class to `secret`; returns it for conditions and removal policy. */
  private restrictAccess(secret: Secret, reference: SecretReference, admins: string[]): CfnResourcePolicy {
    const readers = Lazy.list({ produce: () => this.readerArns(reference) });
    const rotators = Lazy.list({
      produce: () => (this.rotator && reference === this.verifikToken ? [this.rotator.roleArn] : []),
    });
    const everyone = new AnyPrincipal();
    secret.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyItsFunctionsAndOperators',
        effect: Effect.DENY,
        principals: [everyone],
        notActions: [...SECRET_METADATA_ACTIONS],
        resources: ['*'],
        conditions: {
          // One flat list: the operators' CommaDelimitedList cannot be nested in another list.
          ArnNotLike: {
            'aws:PrincipalArn': Fn.split(
              ',',
              Fn.join(',', [
                Fn.join(',', readers),
                ...admins,
                ...(reference === this.verifikToken ? [Fn.join(',', rotators)] : []),
              ]),
            ),
          },
        },
      }),
    );
    const { policyDependable } = secret.addToResourcePolicy(
      new PolicyStatement({
        sid: 'FunctionsOnlyReadTheValue',
        effect: Effect.DENY,
        principals: [everyone],
        notActions: ['secretsmanager:GetSecretValue'],
        resources: ['*'],
        conditions: { ArnLike: { 'aws:PrincipalArn': readers } },
      }),
    );
    if (reference === this.verifikToken) {
      secret.addToResourcePolicy(
        new PolicyStatement({
          sid: 'RotationOnlyRotates',
          effect: Effect.DENY,
          principals: [everyone],
          notActions: [...TOKEN_ROTATION_ACTIONS],
          resources: ['*'],
          conditions: { ArnLike: { 'aws:PrincipalArn': rotators } },
        }),
      );
    }
    const policy = (policyDependable as ResourcePolicy).node.defaultChild as CfnResourcePolicy;
    // Secrets Manager refuses a policy that would let anyone outside the account in.
    policy.blockPublicPolicy = true;
    return policy;
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
