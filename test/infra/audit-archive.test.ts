import { Match } from 'aws-cdk-lib/assertions';
import { decide, resolve, type PolicyStatementJson } from './cfn-evaluator';
import {
  ACCOUNT,
  REGION,
  allStatements,
  asArray,
  deployedRoleArn,
  deploymentScope,
  grantsOf,
  identityPolicyOf,
  resourceNamed,
  roleArn,
  synthStack,
} from './stack-template';

const REQUEST_FACING = ['Http', 'Invoke', 'Worker'] as const;
const ARCHIVER = 'ArchiveArchiverRole';
const CLOUDFORMATION = roleArn(`cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`);
const ADMIN = roleArn('Administrator');
const EVERYTHING: PolicyStatementJson[] = [{ Effect: 'Allow', Action: ['s3:*', 'kms:*', 'lambda:*'], Resource: '*' }];

/**
 * A resource policy as `decide` reads it: a statement for one principal becomes one for everyone on
 * the condition that the caller is that principal (the same thing inside one account); the TLS and
 * If-None-Match conditions are settled by what the request carries.
 */
function asEvaluable(statements: PolicyStatementJson[], request: { ifNoneMatch: boolean }): PolicyStatementJson[] {
  return statements.flatMap((statement) => {
    const { Condition = {}, Principal, ...rest } = statement;
    const condition = { ...Condition };
    if (condition.Bool) {
      // aws:SecureTransport false: every request here is over TLS.
      return [];
    }
    if (condition.Null) {
      if (request.ifNoneMatch) return [];
      delete condition.Null;
    }
    const principal = (Principal as { AWS?: string }).AWS;
    if (principal !== '*') {
      if (principal?.endsWith(':root')) return []; // "IAM policies decide": the identity policy is evaluated anyway
      condition.ArnLike = { 'aws:PrincipalArn': principal! };
    }
    return [{ ...rest, Principal: { AWS: '*' }, ...(Object.keys(condition).length ? { Condition: condition } : {}) }];
  });
}

describe('tamper-evidence archive', () => {
  const template = synthStack();
  const scope = deploymentScope(template, {});
  const tableId = resourceNamed(template, 'AWS::DynamoDB::GlobalTable', 'AuditTable').id;
  scope.attributes![`${tableId}.StreamArn`] = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/audit/stream/2026-11-29T00:00:00.000`;
  const bucket = resourceNamed(template, 'AWS::S3::Bucket', 'ArchiveBucket');
  const bucketArn = scope.attributes![`${bucket.id}.Arn`]!;
  const key = resourceNamed(template, 'AWS::KMS::Key', 'ArchiveKey');
  const keyArn = scope.attributes![`${key.id}.Arn`]!;
  const bucketPolicy = () =>
    resourceNamed(template, 'AWS::S3::BucketPolicy', 'ArchiveBucketPolicy').resource.Properties.PolicyDocument
      .Statement as unknown[];

  const bucketStatements = resolve(bucketPolicy(), scope) as PolicyStatementJson[];
  const keyStatements = resolve(key.resource.Properties.KeyPolicy.Statement, scope) as PolicyStatementJson[];
  const onBucket = (
    principalArn: string,
    identity: PolicyStatementJson[],
    action: string,
    resource: string,
    ifNoneMatch = true,
  ) => decide({ identity, resource: asEvaluable(bucketStatements, { ifNoneMatch }) }, { principalArn, action, resource });
  const onKey = (principalArn: string, identity: PolicyStatementJson[], action: string) =>
    decide({ identity, resource: asEvaluable(keyStatements, { ifNoneMatch: true }) }, { principalArn, action, resource: keyArn });
  const roleOf = (name: string) => deployedRoleArn(template, name);
  const identityOf = (name: string) => identityPolicyOf(template, name, scope);
  const batch = `${bucketArn}/batches/000000000001.json`;

  describe('bucket', () => {
    it('locks every object in compliance mode for RetentionDays, versioned, private, encrypted, retained', () => {
      expect(bucket.resource).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          ObjectLockEnabled: true,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: { Ref: 'RetentionDays' } } },
          },
          VersioningConfiguration: { Status: 'Enabled' },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
          },
        },
      });
    });

    it('lets objects go only once their lock has ended (the archive holds person ids)', () => {
      expect(bucket.resource.Properties.LifecycleConfiguration.Rules).toEqual([
        expect.objectContaining({
          ExpirationInDays: { Ref: 'RetentionDays' },
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
          Status: 'Enabled',
        }),
      ]);
    });

    it('refuses every request without TLS', () => {
      expect(bucketPolicy()).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    it('lets the archiver create batches, digests and index entries', () => {
      for (const object of [batch, `${bucketArn}/digests/000000000001.json`, `${bucketArn}/index/e1/000000000001.json`]) {
        expect(onBucket(roleOf(ARCHIVER), identityOf(ARCHIVER), 's3:PutObject', object)).toBe('allowed');
      }
      expect(onBucket(roleOf(ARCHIVER), identityOf(ARCHIVER), 's3:GetObject', batch)).toBe('allowed');
      expect(onBucket(roleOf(ARCHIVER), identityOf(ARCHIVER), 's3:ListBucket', bucketArn)).toBe('allowed');
    });

    it('lets the HTTP API read the archive for certificates, never write it; no other request-facing role reads it', () => {
      const index = `${bucketArn}/index/e1/000000000001.json`;
      const digest = `${bucketArn}/digests/000000000001.json`;
      for (const object of [batch, digest, index]) {
        expect(onBucket(roleOf('HttpRole'), identityOf('HttpRole'), 's3:GetObject', object)).toBe('allowed');
        for (const ifNoneMatch of [true, false]) {
          expect(onBucket(roleOf('HttpRole'), identityOf('HttpRole'), 's3:PutObject', object, ifNoneMatch)).not.toBe('allowed');
        }
        expect(onBucket(roleOf('HttpRole'), identityOf('HttpRole'), 's3:DeleteObject', object)).not.toBe('allowed');
      }
      expect(onBucket(roleOf('HttpRole'), identityOf('HttpRole'), 's3:ListBucket', bucketArn)).toBe('allowed');
      for (const name of ['InvokeRole', 'WorkerRole']) {
        expect(onBucket(roleOf(name), identityOf(name), 's3:GetObject', batch)).not.toBe('allowed');
      }
    });

    it('lets nobody overwrite an object: every write must carry If-None-Match', () => {
      expect(onBucket(roleOf(ARCHIVER), identityOf(ARCHIVER), 's3:PutObject', batch, false)).toBe('explicitly denied');
      expect(bucketPolicy()).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:PutObject', Condition: { Null: { 's3:if-none-match': 'true' } } }),
      );
    });

    it.each(REQUEST_FACING)('denies the %s function writing the bucket, even if its role were granted s3:* later', (name) => {
      for (const identity of [identityOf(`${name}Role`), [...identityOf(`${name}Role`), ...EVERYTHING]]) {
        expect(onBucket(roleOf(`${name}Role`), identity, 's3:PutObject', batch)).not.toBe('allowed');
      }
      expect(onBucket(roleOf(`${name}Role`), EVERYTHING, 's3:PutObject', batch)).toBe('explicitly denied');
    });

    it('lets nobody, administrators and the archiver included, lift or shorten a lock or delete an object', () => {
      for (const action of [
        's3:PutObjectRetention',
        's3:BypassGovernanceRetention',
        's3:DeleteObject',
        's3:DeleteObjectVersion',
      ]) {
        for (const principal of [ADMIN, CLOUDFORMATION, roleOf(ARCHIVER)]) {
          expect([action, onBucket(principal, EVERYTHING, action, batch)]).toEqual([action, 'explicitly denied']);
        }
      }
    });

    it("lets only CloudFormation change the bucket's lock, versioning or lifecycle", () => {
      for (const action of ['s3:PutBucketObjectLockConfiguration', 's3:PutBucketVersioning', 's3:PutLifecycleConfiguration']) {
        expect(onBucket(ADMIN, EVERYTHING, action, bucketArn)).toBe('explicitly denied');
        expect(onBucket(roleOf(ARCHIVER), EVERYTHING, action, bucketArn)).toBe('explicitly denied');
        expect(onBucket(CLOUDFORMATION, EVERYTHING, action, bucketArn)).toBe('allowed');
      }
    });
  });

  describe('archive key', () => {
    it('is an asymmetric P-256 signing key, separate from any other, kept when the stack goes', () => {
      expect(key.resource).toMatchObject({
        DeletionPolicy: 'Retain',
        Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
      });
      // The only other key is the certificate key, a separate one (infra/constructs/certificate-signing.ts).
      expect(Object.keys(template.findResources('AWS::KMS::Key')).filter((id) => id !== key.id)).toEqual([
        expect.stringMatching(/^CertificatesKey/),
      ]);
    });

    it('lets the archiver sign', () => {
      expect(onKey(roleOf(ARCHIVER), identityOf(ARCHIVER), 'kms:Sign')).toBe('allowed');
    });

    it.each(REQUEST_FACING)('denies the %s function signing, even if its role were granted kms:* later', (name) => {
      expect(onKey(roleOf(`${name}Role`), identityOf(`${name}Role`), 'kms:Sign')).not.toBe('allowed');
      expect(onKey(roleOf(`${name}Role`), [...identityOf(`${name}Role`), ...EVERYTHING], 'kms:Sign')).toBe('explicitly denied');
    });

    it('denies administrators signing: a digest is the archiver’s word alone', () => {
      expect(onKey(ADMIN, EVERYTHING, 'kms:Sign')).toBe('explicitly denied');
      expect(onKey(ADMIN, EVERYTHING, 'kms:GetPublicKey')).toBe('allowed');
    });
  });

  describe('archiver', () => {
    it('may read the stream and send to its dead-letter queue, nothing else (S3 and KMS admit it in their own policies)', () => {
      expect(grantsOf(template, ARCHIVER)).toEqual({
        'dynamodb:DescribeStream': ['AuditTable'],
        'dynamodb:GetRecords': ['AuditTable'],
        'dynamodb:GetShardIterator': ['AuditTable'],
        'dynamodb:ListStreams': ['AuditTable'],
        'logs:CreateLogStream': ['ArchiveArchiverLogs'],
        'logs:PutLogEvents': ['ArchiveArchiverLogs'],
        'sqs:SendMessage': ['ArchiveDeadLetterQueue'],
      });
    });

    it('reads the table stream with new and old images, in order, retrying with bisection, and sets failures aside', () => {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: Match.stringLikeRegexp('^ArchiveArchiverFunction') },
        EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
        StartingPosition: 'TRIM_HORIZON',
        ParallelizationFactor: 1,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        BatchSize: 100,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ArchiveDeadLetterQueue'), 'Arn'] } },
        },
      });
    });

    it('is invoked only by its stream and its hourly schedule', () => {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((permission) =>
        JSON.stringify(permission.Properties.FunctionName).includes('ArchiveArchiverFunction'),
      );
      expect(permissions).toHaveLength(1);
      expect(permissions[0]!.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveHourlyDigest/), 'Arn'] },
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 hour)',
        Targets: [Match.objectLike({ Input: '{"action":"digest"}' })],
      });
    });

    it('names its bucket and key and nothing else of the service', () => {
      const variables = resourceNamed(template, 'AWS::Lambda::Function', 'ArchiveArchiverFunction').resource.Properties
        .Environment.Variables;
      expect(Object.keys(variables).sort()).toEqual([
        'ARCHIVE_BUCKET_NAME',
        'ARCHIVE_KEY_ID',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
      ]);
    });

    it('decrypts stream records with the table key when the table has one', () => {
      const cmk = synthStack({ auditTableEncryption: 'customer-managed', env: { account: ACCOUNT, region: REGION } });

      expect(grantsOf(cmk, ARCHIVER)['kms:Decrypt']).toEqual(['AuditKey']);
    });
  });

  describe('no request-facing role', () => {
    const forbidden = /^(s3:|kms:(Sign|\*)|lambda:|dynamodb:(UpdateTable|DeleteTable|\*)|events:|sqs:\*)/;

    // The http role signs certificates with the certificate key (test/certificate, test/infra/stack.test.ts); a KMS grant on any
    // other key, the archive's above all, is what these look for.
    const onCertificateKeyOnly = (statement: { Action?: unknown; Resource?: unknown }) =>
      asArray(statement.Action ?? []).every((action) => action === 'kms:Sign') &&
      JSON.stringify(statement.Resource).includes('CertificatesKey') &&
      !JSON.stringify(statement.Resource).includes('ArchiveKey');

    it('is allowed anything on S3, the archive key, Lambda (event source mappings, functions), the table settings or the schedule', () => {
      for (const name of REQUEST_FACING) {
        const actions = identityOf(`${name}Role`)
          .filter((statement) => statement.Effect === 'Allow' && !onCertificateKeyOnly(statement))
          .flatMap((statement) => asArray(statement.Action ?? []));
        expect([name, actions.filter((action) => forbidden.test(action))]).toEqual([name, []]);
      }
    });

    it('is the only kind of role: no role of the stack may change the stream, the mapping or the function', () => {
      // Reading a public key changes nothing (test/infra/public-key-outputs.test.ts: the deploy-time reader only).
      const readsPublicKeyOnly = (statement: { Action?: unknown }) =>
        asArray(statement.Action ?? []).every((action) => action === 'kms:GetPublicKey');
      const actions = allStatements(template)
        .filter((statement) => statement.Effect === 'Allow' && !onCertificateKeyOnly(statement) && !readsPublicKeyOnly(statement))
        .flatMap((statement) => asArray(statement.Action));
      expect(actions.filter((action) => /^(lambda:|dynamodb:UpdateTable|s3:|kms:)/.test(action))).toEqual([]);
    });
  });

  describe('alarms and outputs', () => {
    const alarmNamed = (prefix: string) =>
      resourceNamed(template, 'AWS::CloudWatch::Alarm', `Archive${prefix}`).resource.Properties;

    it.each([
      ['ArchiveTerminalOutcomeChanged', 'TerminalOutcomeChanged'],
      ['ArchiveRequestChanged', 'RequestChanged'],
      ['ArchiveRetentionShortened', 'RetentionShortened'],
      ['ArchiveNonTtlRemoval', 'NonTtlRemoval'],
    ])('%s fires on the first %s metric, to the alarm topic', (alarm, metric) => {
      expect(alarmNamed(alarm)).toMatchObject({
        MetricName: metric,
        Namespace: 'VerifikErasure',
        Dimensions: [{ Name: 'service', Value: 'verifik-erasure' }],
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) }],
      });
    });

    it('fires on a gap (records set aside), on archiver errors, on a lagging archiver and on a missing digest', () => {
      expect(alarmNamed('ArchiverGap')).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveDeadLetterQueue/), 'QueueName'] } },
        ],
        Threshold: 0,
      });
      expect(alarmNamed('ArchiverErrors')).toMatchObject({ MetricName: 'Errors', Threshold: 0 });
      expect(alarmNamed('ArchiverBehind')).toMatchObject({
        MetricName: 'IteratorAge',
        Statistic: 'Maximum',
        Threshold: 3_600_000,
      });
      expect(alarmNamed('ArchiveDigestMissing')).toMatchObject({
        MetricName: 'DigestsSigned',
        Period: 7200,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    });

    it('outputs the bucket, the key (for its public key) and the dead-letter queue', () => {
      const outputs = template.toJSON().Outputs;
      expect(outputs.ArchiveBucketName.Value).toEqual({ Ref: bucket.id });
      expect(outputs.ArchiveKeyArn.Value).toEqual({ 'Fn::GetAtt': [key.id, 'Arn'] });
      expect(outputs.ArchiverDeadLetterQueueUrl.Value).toEqual({ Ref: expect.stringMatching(/^ArchiveDeadLetterQueue/) });
    });
  });
});
