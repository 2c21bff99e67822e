import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { DynamoAuditStore } from '../lambda/audit/dynamo-audit-store';
import { parseWebhookSecrets } from '../lambda/secrets/secrets';
import { DEFAULT_TABLE } from '../infra/local/local-stack';
import { WebhookClient, type ApiTarget } from './api-target';
import { CliError, EXIT, UsageError } from './errors';
import { PortalClient } from './portal-client';
import { readStack, type DeployedStack } from './stack-outputs';

/** Options every subcommand takes to choose its target. */
export interface TargetOptions {
  url?: string;
  stack?: string;
  region?: string;
  timeout?: number;
}

/** Options of the subcommands that read the audit table straight (find, list, export, verify). */
export interface TableOptions extends TargetOptions {
  endpoint?: string;
  table?: string;
}

/** The stack named by --stack, read once per run. */
export async function deployedStack(options: TargetOptions): Promise<DeployedStack | undefined> {
  if (!options.stack) return undefined;
  const client = new CloudFormationClient(options.region ? { region: options.region } : {});
  try {
    return await readStack(options.stack, client);
  } finally {
    client.destroy();
  }
}

/**
 * The API to call: with --stack, its IAM routes signed with the operator's AWS credentials; else the
 * webhook routes at --url (default http://localhost:$PORT, 3000) signed with WEBHOOK_SECRET.
 */
export async function apiTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): Promise<ApiTarget> {
  if (options.stack && options.url) throw new UsageError('--url and --stack name two targets.', 'give one of them.');
  const timeoutMs = (options.timeout ?? 30) * 1000;
  const stack = await deployedStack(options);
  if (stack)
    return new PortalClient(stack.output('ApiUrl'), { region: stack.region, credentials: fromNodeProviderChain(), timeoutMs });
  const url = options.url ?? `http://localhost:${env.PORT ?? 3000}`;
  if (!env.WEBHOOK_SECRET)
    throw new CliError(
      'WEBHOOK_SECRET is not set: requests to --url are signed with the webhook secret.',
      EXIT.unreachable,
      "set WEBHOOK_SECRET='whsec_…' (npm start prints it), or use --stack NAME with your AWS credentials.",
    );
  let secrets: readonly string[];
  try {
    secrets = parseWebhookSecrets(env.WEBHOOK_SECRET, 'WEBHOOK_SECRET');
  } catch (error) {
    throw new CliError(
      error instanceof Error ? error.message : String(error),
      EXIT.unreachable,
      "set WEBHOOK_SECRET to the stack's whsec_… secret.",
    );
  }
  return new WebhookClient(url, secrets[0]!, timeoutMs);
}

/** The audit table, read with the operator's own credentials (the service's API has no list routes). */
export interface AuditTable {
  store: DynamoAuditStore;
  client: DynamoDBClient;
  tableName: string;
  close(): void;
}

/**
 * --stack: the stack's AuditTableName in its region; --endpoint: a local engine (npm start's dynalite,
 * dummy credentials); --table alone: that table in AWS with your credentials.
 */
export async function auditTable(options: TableOptions, env: NodeJS.ProcessEnv = process.env): Promise<AuditTable> {
  const stack = await deployedStack(options);
  if (!stack && !options.endpoint && !options.table)
    throw new UsageError(
      'Which audit table? This command reads the table itself.',
      'pass --stack NAME, or --endpoint URL (npm start prints its DynamoDB endpoint) for a local stack, or --table NAME.',
    );
  const tableName = stack ? stack.output('AuditTableName') : (options.table ?? env.AUDIT_TABLE_NAME ?? DEFAULT_TABLE);
  const client = new DynamoDBClient(
    options.endpoint
      ? {
          endpoint: options.endpoint,
          region: options.region ?? 'local',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : { ...(stack ? { region: stack.region } : options.region ? { region: options.region } : {}) },
  );
  return { store: new DynamoAuditStore(client, tableName), client, tableName, close: () => client.destroy() };
}
