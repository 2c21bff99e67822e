import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { MemoryTokenStore } from '../../infra/local/local-token-secret';
import { CURRENT } from '../../lambda/rotation/token-store';

const notFound = (what: string) =>
  Object.assign(new Error(`Secrets Manager can't find the specified secret ${what}.`), { name: 'ResourceNotFoundException' });

/**
 * Secrets Manager for tests (no emulator runs here): every SecretsManagerClient is mocked, and the
 * calls the rotation and the readers make act on one secret kept by the local stack's token secret,
 * which follows Secrets Manager's rules for versions and staging labels.
 */
export function fakeSecretsManager(secretArn: string, initialToken: string) {
  const secret = new MemoryTokenStore(initialToken);
  const mock = mockClient(SecretsManagerClient);
  const own = (id: string | undefined) => {
    if (id !== secretArn) throw notFound('');
  };
  mock.on(DescribeSecretCommand).callsFake(async ({ SecretId }) => {
    own(SecretId);
    const versions = await secret.versions();
    return {
      ARN: secretArn,
      RotationEnabled: true,
      VersionIdsToStages: Object.fromEntries(versions.map((v) => [v.versionId, [...v.stages]])),
    };
  });
  mock.on(GetSecretValueCommand).callsFake(async ({ SecretId, VersionId, VersionStage }) => {
    own(SecretId);
    const value = await secret.value({ versionId: VersionId, stage: VersionStage ?? CURRENT });
    if (value === undefined) throw notFound('version');
    return { ARN: secretArn, SecretString: value, VersionId };
  });
  mock.on(PutSecretValueCommand).callsFake(async ({ SecretId, ClientRequestToken, SecretString, VersionStages }) => {
    own(SecretId);
    if (!ClientRequestToken || !SecretString || VersionStages?.join() !== 'AWSPENDING')
      throw new Error('unexpected PutSecretValue');
    await secret.putPending(ClientRequestToken, SecretString);
    return { ARN: secretArn, VersionId: ClientRequestToken };
  });
  mock.on(UpdateSecretVersionStageCommand).callsFake(async ({ SecretId, VersionStage, MoveToVersionId, RemoveFromVersionId }) => {
    own(SecretId);
    if (VersionStage !== CURRENT || !MoveToVersionId || !RemoveFromVersionId)
      throw new Error('unexpected UpdateSecretVersionStage');
    await secret.promote(MoveToVersionId, RemoveFromVersionId);
    return { ARN: secretArn };
  });
  return { mock, secret };
}
