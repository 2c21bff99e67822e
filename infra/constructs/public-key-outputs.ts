import { CfnOutput, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ErasureFunction } from './erasure-function';

export interface PublicKeyOutput {
  /** The stack output's id, e.g. `CertificatePublicKey`. */
  readonly outputId: string;
  readonly key: IKey;
  readonly description: string;
}

/**
 * Outputs the public halves of the stack's signing keys (certificates, archive digests) as base64
 * DER, the form `aws kms get-public-key` prints, so that anyone given the stack's outputs can verify
 * offline. CloudFormation cannot read a KMS public key itself: a small function does, at deploy time
 * only, as a Lambda-backed custom resource that CloudFormation invokes directly (no provider
 * framework: no further role, no managed policy). Its role may call `kms:GetPublicKey` on exactly
 * these keys, nothing else.
 */
export class PublicKeyOutputs extends Construct {
  constructor(scope: Construct, id: string, props: { keys: readonly PublicKeyOutput[] }) {
    super(scope, id);
    const reader = new ErasureFunction(this, 'Reader', {
      entry: 'lambda/handlers/public-key.ts',
      description: 'Deploy time: reads the public keys of the signing keys for the stack outputs',
      timeout: Duration.seconds(30),
      memorySize: 256,
    });
    reader.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['kms:GetPublicKey'], resources: props.keys.map(({ key }) => key.keyArn) }),
    );
    for (const { outputId, key, description } of props.keys) {
      const resource = new CustomResource(this, outputId, {
        serviceToken: reader.function.functionArn,
        resourceType: 'Custom::PublicKey',
        properties: { KeyId: key.keyArn },
      });
      // Invoked only once its role may read the key.
      resource.node.addDependency(reader.role);
      new CfnOutput(Stack.of(this), outputId, { value: resource.getAttString('PublicKeyDer'), description });
    }
  }
}
