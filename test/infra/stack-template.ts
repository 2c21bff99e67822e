import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { VerifikErasureStack, type VerifikErasureStackProps } from '../../infra/stack';

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
