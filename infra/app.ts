import { App } from 'aws-cdk-lib';
import type { AuditTableEncryption } from './constructs/audit-table';
import { checkAwsSolutions } from './constructs/compliance';
import { VerifikErasureStack } from './stack';

const app = new App();
const encryption = app.node.tryGetContext('auditTableEncryption') ?? 'aws-owned';
if (encryption !== 'aws-owned' && encryption !== 'customer-managed') {
  throw new Error(`context auditTableEncryption must be aws-owned or customer-managed, not ${String(encryption)}`);
}
// Environment-agnostic by default: one template for any account and region, `cdk deploy` targets the
// profile's. A customer-managed table key is a per-region replica setting, so that variant needs the region.
const region = process.env.CDK_DEFAULT_REGION;
if (encryption === 'customer-managed' && !region) {
  throw new Error('auditTableEncryption=customer-managed needs a region: set AWS_REGION or use a profile with one');
}
new VerifikErasureStack(app, app.node.tryGetContext('stackName') ?? 'VerifikErasure', {
  auditTableEncryption: encryption as AuditTableEncryption,
  env: encryption === 'customer-managed' ? { account: process.env.CDK_DEFAULT_ACCOUNT, region } : undefined,
});
checkAwsSolutions(app);
app.synth();
