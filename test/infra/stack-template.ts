import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { VerifikErasureStack, type VerifikErasureStackProps } from '../../infra/stack';
import { resolve, type PolicyStatementJson, type Scope } from './cfn-evaluator';

/**
 * The context `cdk synth` gets from cdk.json (feature flags), without bundling (about 0.2 s instead
 * of seconds; the real bundles are built by synth.test.ts).
 */
export function testContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(process.cwd(), 'cdk.json'), 'utf8'));
  return { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] };
}

/** Synthesizes the production stack as `cdk synth` would, unbundled, in a temporary folder removed again. */
export function synthStack(props: VerifikErasureStackProps = {}): Template {
  const outdir = mkdtempSync(path.join(tmpdir(), 'verifik-erasure-stack-'));
  try {
    const app = new App({ outdir, context: testContext() });
    return Template.fromStack(new VerifikErasureStack(app, 'VerifikErasure', props));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every statement of every identity policy (attached and inline) in the template. */
export function allStatements(template: Template): Statement[] {
  const documents: { Statement: Statement[] }[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    documents.push(policy.Properties.PolicyDocument);
  }
  for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
    for (const inline of role.Properties.Policies ?? []) documents.push(inline.PolicyDocument);
  }
  return documents.flatMap((document) => document.Statement);
}

/** The statements of the policy attached to the role whose logical id starts with `rolePrefix`. */
export function statementsOfRole(template: Template, rolePrefix: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref.startsWith(rolePrefix)),
  );
  if (policies.length === 0) throw new Error(`no policy for role ${rolePrefix}`);
  return policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** The one resource of `type` whose logical id starts with `prefix`. */
export function resourceNamed(template: Template, type: string, prefix: string): { id: string; resource: any } {
  const matches = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${matches.length}`);
  const [id, resource] = matches[0]!;
  return { id, resource };
}

/** Logical ids a policy expression names through Ref or Fn::GetAtt (not pseudo parameters), without CDK's hash suffix. */
export function referencedIds(expression: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(expression)) {
    for (const item of expression) referencedIds(item, into);
  } else if (expression !== null && typeof expression === 'object') {
    for (const [key, value] of Object.entries(expression)) {
      if (key === 'Ref' && typeof value === 'string') {
        if (!value.startsWith('AWS::')) into.add(withoutHash(value));
      } else if (key === 'Fn::GetAtt') {
        into.add(withoutHash((value as string[])[0]!));
      } else {
        referencedIds(value, into);
      }
    }
  }
  return into;
}

const withoutHash = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

/**
 * Every action a role's policy allows (or denies), each with the resources it names (logical ids
 * without hash, sorted): `{ 'sqs:SendMessage': ['RetriesRetryQueue'], ... }`.
 */
export function grantsOf(template: Template, rolePrefix: string, effect: 'Allow' | 'Deny' = 'Allow'): Record<string, string[]> {
  const grants: Record<string, Set<string>> = {};
  for (const statement of statementsOfRole(template, rolePrefix).filter((s) => s.Effect === effect)) {
    for (const action of asArray(statement.Action)) {
      grants[action] ??= new Set();
      for (const id of referencedIds(statement.Resource)) grants[action].add(id);
    }
  }
  return Object.fromEntries(
    Object.entries(grants)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([action, ids]) => [action, [...ids].sort()]),
  );
}

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const secretArn = (nameWithSuffix: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${nameWithSuffix}`;
export const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

/**
 * What CloudFormation makes of the template's references in one deployment with `parameters`: each
 * secret's Ref is an ARN (`secret:<logical id>-Q1w2E3`), each role's Arn is `role/VerifikErasure-<logical id>`,
 * parameters not given take their defaults. Other resources: Ref is the logical id and Arn a
 * made-up ARN of the resource's service; no secret policy depends on them.
 */
export function deploymentScope(template: Template, parameters: Record<string, string | string[]>): Scope {
  const json = template.toJSON();
  const refs: Scope['refs'] = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT };
  const attributes: Record<string, string> = {};
  for (const [id, resource] of Object.entries(json.Resources as Record<string, { Type: string }>)) {
    refs[id] = id;
    attributes[`${id}.Arn`] = `arn:aws:${resource.Type.split('::')[1]!.toLowerCase()}:${REGION}:${ACCOUNT}:${id}`;
  }
  for (const id of Object.keys(template.findResources('AWS::SecretsManager::Secret'))) refs[id] = secretArn(`${id}-Q1w2E3`);
  for (const id of Object.keys(template.findResources('AWS::IAM::Role')))
    attributes[`${id}.Arn`] = roleArn(`VerifikErasure-${id}`);
  for (const [name, parameter] of Object.entries(json.Parameters ?? {}) as [string, { Default?: string }][]) {
    if (name in parameters) refs[name] = parameters[name]!;
    else if (parameter.Default !== undefined) refs[name] = parameter.Default;
  }
  return { refs, attributes, conditions: json.Conditions ?? {} };
}

/** The deployed ARN of the one role whose logical id starts with `prefix`. */
export function deployedRoleArn(template: Template, prefix: string): string {
  return roleArn(`VerifikErasure-${resourceNamed(template, 'AWS::IAM::Role', prefix).id}`);
}

/** A role's identity statements as deployed. */
export function identityPolicyOf(template: Template, rolePrefix: string, scope: Scope): PolicyStatementJson[] {
  return resolve(statementsOfRole(template, rolePrefix), scope) as PolicyStatementJson[];
}

/** The resource policy attached to the secret whose logical id starts with `secretPrefix`, as deployed (with its condition). */
export function secretResourcePolicy(
  template: Template,
  secretPrefix: string,
  scope: Scope,
): { condition?: string; statements: PolicyStatementJson[] } {
  const secretId = resourceNamed(template, 'AWS::SecretsManager::Secret', secretPrefix).id;
  const policies = Object.values(template.findResources('AWS::SecretsManager::ResourcePolicy')).filter(
    (policy) => policy.Properties.SecretId?.Ref === secretId,
  );
  if (policies.length !== 1) throw new Error(`expected one resource policy on ${secretId}, found ${policies.length}`);
  const policy = policies[0]!;
  return {
    condition: policy.Condition,
    statements: resolve(policy.Properties.ResourcePolicy.Statement, scope) as PolicyStatementJson[],
  };
}
