import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { checkAwsSolutions } from '../../infra/constructs/compliance';
import { VerifikErasureStack } from '../../infra/stack';
import { testContext } from './stack-template';

describe('cdk-nag AwsSolutions', () => {
  let outdir: string;
  beforeEach(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'verifik-erasure-nag-'));
  });
  afterEach(() => rmSync(outdir, { recursive: true, force: true }));

  const appWithChecks = () => {
    const app = new App({ outdir, context: testContext() });
    checkAwsSolutions(app);
    return app;
  };

  it.each(['aws-owned', 'customer-managed'] as const)(
    'finds nothing unacknowledged in the whole app (audit table key: %s)',
    (encryption) => {
      const app = appWithChecks();
      new VerifikErasureStack(app, 'VerifikErasure', {
        auditTableEncryption: encryption,
        // As infra/app.ts: agnostic unless the table key needs a region.
        env: encryption === 'customer-managed' ? { account: '123456789012', region: 'eu-west-1' } : undefined,
      });

      expect(() => app.synth()).not.toThrow();
    },
  );

  it('holds the token secret to the rotation rule (no acknowledgement): without its rotation schedule the synth fails', () => {
    const app = appWithChecks();
    const stack = new VerifikErasureStack(app, 'VerifikErasure');
    expect(stack.node.findChild('TokenRotation').node.tryRemoveChild('CreatedSecretRotation')).toBe(true);

    expect(() => app.synth()).toThrow(/AwsSolutions-SMG4/);
  });

  it('fails the synth on a finding nobody acknowledged', () => {
    const app = appWithChecks();
    new Queue(new Stack(app, 'Careless'), 'PlainQueue');

    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });
});
