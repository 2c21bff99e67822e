import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CliError, EXIT } from './errors';

/** The outputs the command line reads from a deployed stack (README, "Deploy"). */
export const STACK_OUTPUTS = [
  'ApiUrl',
  'AuditTableName',
  'RetryQueueArn',
  'DeadLetterQueueArn',
  'ArchiveBucketName',
  'ArchiveKeyArn',
] as const;
export type StackOutputName = (typeof STACK_OUTPUTS)[number];

export interface DeployedStack {
  name: string;
  region: string;
  outputs: Partial<Record<string, string>>;
  /** An output's value; a stack without it is a configuration problem (exit 3). */
  output(name: StackOutputName): string;
}

/** Reads a stack's outputs with the operator's credentials (the SDK's default chain) and region. */
export async function readStack(name: string, client: CloudFormationClient): Promise<DeployedStack> {
  let outputs: Partial<Record<string, string>>;
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: name }));
    outputs = Object.fromEntries((Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    throw awsProblem(error, `Stack ${name}`);
  }
  const region = await client.config.region();
  return {
    name,
    region,
    outputs,
    output(output) {
      const value = outputs[output];
      if (!value)
        throw new CliError(
          `Stack ${name} (${region}) has no output ${output}.`,
          EXIT.unreachable,
          'deploy this version of the stack (npx cdk deploy).',
        );
      return value;
    },
  };
}

/** An AWS SDK error as the operator's problem: no credentials, no region, no such stack, not allowed. */
export function awsProblem(error: unknown, what: string): CliError {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'CredentialsProviderError' || /credential/i.test(message))
    return new CliError(
      `${what}: no AWS credentials (${message}).`,
      EXIT.unreachable,
      'sign in (aws sso login, or set AWS_PROFILE).',
      { cause: error },
    );
  if (/region/i.test(message) && /missing|not set|undefined/i.test(message))
    return new CliError(`${what}: no AWS region.`, EXIT.unreachable, 'pass --region, or set AWS_REGION.', { cause: error });
  if (name === 'ValidationError' && /does not exist/.test(message))
    return new CliError(
      `${what} does not exist in this account and region.`,
      EXIT.unreachable,
      'check --stack and --region (aws cloudformation list-stacks).',
      { cause: error },
    );
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || /not authorized/i.test(message))
    return new CliError(
      `${what}: access denied (${message}).`,
      EXIT.unreachable,
      'use credentials with the permissions listed in docs/cli.md.',
      { cause: error },
    );
  return new CliError(`${what}: ${message}`, EXIT.unreachable, undefined, { cause: error });
}
