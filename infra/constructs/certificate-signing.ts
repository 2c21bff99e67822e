import { CfnOutput, CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccountRootPrincipal, AnyPrincipal, ArnPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { BindTarget } from './erasure-function';

/** What KMS may be asked to do with the certificate key, and how (lambda/certificate/certificate-signer.ts). */
export const CERTIFICATE_SIGNING_CONDITIONS = {
  'kms:SigningAlgorithm': 'ECDSA_SHA_256',
  'kms:MessageType': ['RAW', 'DIGEST'],
};

/**
 * Administration of the key, delegated to IAM in this account like any key: everything but using
 * it. No kms:Sign here: signing is for the issuers named below, and nobody else.
 */
const KEY_ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

export interface CertificateSigningProps {
  /** The functions that issue certificates: each gets the key's ARN, the controller's name and kms:Sign. */
  readonly issuers: readonly BindTarget[];
}

/**
 * The certificate key: an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs certificates of
 * erasure (ES256), retained when the stack is deleted so certificates already handed out stay
 * verifiable. Its key policy lets the issuing functions sign (ECDSA_SHA_256 only) and denies signing
 * to every other principal, administrators included; anyone in the account with IAM permission may
 * read the public key (`aws kms get-public-key`), which verifies certificates offline. The
 * controller's name on certificates is the OrganizationName parameter.
 */
export class CertificateSigning extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: CertificateSigningProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const organizationName = new CfnParameter(stack, 'OrganizationName', {
      type: 'String',
      allowedPattern: '^[^\\s].{0,199}$',
      constraintDescription: '1 to 200 characters, not starting with a space',
      description: 'The controller named on every certificate of erasure (your organisation, e.g. "Example GmbH").',
    });
    const signers = props.issuers.map((issuer) => issuer.role.roleArn);

    this.key = new Key(this, 'Key', {
      description: 'verifik-erasure: signs certificates of erasure (ES256). Only the issuing functions may sign.',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'AdministerThroughIam',
            principals: [new AccountRootPrincipal()],
            actions: KEY_ADMIN_ACTIONS,
            resources: ['*'],
          }),
          new PolicyStatement({
            sid: 'IssuersSign',
            principals: signers.map((arn) => new ArnPrincipal(arn)),
            actions: ['kms:Sign'],
            resources: ['*'],
            conditions: { StringEquals: CERTIFICATE_SIGNING_CONDITIONS },
          }),
          new PolicyStatement({
            sid: 'NobodyElseSigns',
            effect: Effect.DENY,
            principals: [new AnyPrincipal()],
            actions: ['kms:Sign'],
            resources: ['*'],
            // ArnNotLike with exact ARNs: no wildcard, so it matches exactly these roles.
            conditions: { ArnNotLike: { 'aws:PrincipalArn': signers } },
          }),
        ],
      }),
    });

    for (const issuer of props.issuers) {
      issuer.addEnvironment('CERTIFICATE_KEY_ARN', this.key.keyArn);
      issuer.addEnvironment('ORGANIZATION_NAME', organizationName.valueAsString);
      issuer.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['kms:Sign'],
          resources: [this.key.keyArn],
          conditions: { StringEquals: CERTIFICATE_SIGNING_CONDITIONS },
        }),
      );
    }

    new CfnOutput(stack, 'CertificateKeyArn', {
      value: this.key.keyArn,
      description:
        'Key that signs certificates. Its public key, for verifying them offline: aws kms get-public-key --key-id <this ARN> --query PublicKey --output text > certificate-key.der.b64',
    });
  }
}
