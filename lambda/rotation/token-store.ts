import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';

/** One version of the token secret and its staging labels. */
export interface TokenVersion {
  versionId: string;
  stages: readonly string[];
}

/**
 * The token secret as the rotation sees it: Secrets Manager's versions and staging labels. In the
 * cloud it is Secrets Manager itself; the local stack keeps the same model in memory.
 */
export interface TokenSecretStore {
  versions(): Promise<TokenVersion[]>;
  /** The value of a version, or undefined when that version has none yet (or does not carry `stage`). */
  value(query: { versionId?: string; stage: string }): Promise<string | undefined>;
  /** Stores `value` as version `versionId` with the AWSPENDING label; a repeat with the same value changes nothing. */
  putPending(versionId: string, value: string): Promise<void>;
  /** Moves AWSCURRENT from `from` to `to` (the readers' cache picks it up at its next read). */
  promote(to: string, from: string): Promise<void>;
}

/** The token secret in AWS Secrets Manager. */
export class SecretsManagerTokenStore implements TokenSecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  async versions(): Promise<TokenVersion[]> {
    const { VersionIdsToStages = {} } = await this.client.send(new DescribeSecretCommand({ SecretId: this.secretId }));
    return Object.entries(VersionIdsToStages).map(([versionId, stages]) => ({ versionId, stages }));
  }

  async value({ versionId, stage }: { versionId?: string; stage: string }): Promise<string | undefined> {
    try {
      const { SecretString } = await this.client.send(
        new GetSecretValueCommand({ SecretId: this.secretId, VersionId: versionId, VersionStage: stage }),
      );
      return SecretString || undefined;
    } catch (error) {
      // A version that was staged but never given a value (a rotation that failed in createSecret).
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  async putPending(versionId: string, value: string): Promise<void> {
    await this.client.send(
      new PutSecretValueCommand({
        SecretId: this.secretId,
        ClientRequestToken: versionId,
        SecretString: value,
        VersionStages: [PENDING],
      }),
    );
  }

  async promote(to: string, from: string): Promise<void> {
    await this.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: this.secretId,
        VersionStage: CURRENT,
        MoveToVersionId: to,
        RemoveFromVersionId: from,
      }),
    );
  }
}
