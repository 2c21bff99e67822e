import { CfnOutput, DefaultStackSynthesizer, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  GraphWidget,
  type Dashboard,
  Metric,
  Stats,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, ArnPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage, type IKey } from 'aws-cdk-lib/aws-kms';
import { StartingPosition, type IEventSourceDlq } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BATCH_PREFIX, DIGEST_PREFIX, INDEX_PREFIX } from '../../lambda/archive/archive-format';
import type { ArchiveMetricName } from '../../lambda/archive/ports';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/names';
import { ErasureFunction, type BindTarget } from './erasure-function';

const PERIOD = Duration.minutes(5);

/**
 * How long the archiver's stream mapping gathers records before a batch: an erasure's writes, made
 * within one request, land in one batch (one batch object and one index entry) unless it takes longer.
 */
export const ARCHIVE_BATCHING_WINDOW_S = 5;

/** What nobody may do to the archive bucket: shorten or lift a lock, or delete (S3 lifecycle is not subject to it). */
export const ARCHIVE_DENIED_TO_ALL = [
  's3:BypassGovernanceRetention',
  's3:PutObjectRetention',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
] as const;

/** Bucket settings only CloudFormation may change (a new `RetentionDays` sets the default lock of later objects). */
export const ARCHIVE_CONFIGURATION_ACTIONS = [
  's3:PutBucketObjectLockConfiguration',
  's3:PutBucketVersioning',
  's3:PutLifecycleConfiguration',
] as const;

export interface AuditArchiveProps {
  /** The audit table; its stream (new and old images) feeds the archiver. */
  readonly table: TableV2;
  /** The table's customer-managed key, when it has one: stream records are encrypted with it. */
  readonly tableKey?: IKey;
  /** Days each archived object is locked (usually the `RetentionDays` parameter: the audit retention). */
  readonly retentionDays: number;
  readonly alarmTopic: ITopic;
  readonly dashboard?: Dashboard;
  /**
   * Functions that issue certificates: they may read (never write) the archive, to name the batch
   * and the signed digest that hold an erasure (ARCHIVE_BUCKET_NAME).
   */
  readonly certificateIssuers?: readonly BindTarget[];
}

/**
 * Tamper evidence (docs/tamper-evidence.md): the audit table's stream → the archiver function →
 * a bucket with Object Lock in compliance mode, as hash-chained batches, and an hourly digest
 * signed with the archive key (asymmetric KMS). Only the archiver may write the bucket (bucket
 * policy) or sign with the key (key policy); every write must be a create (`If-None-Match`); nobody
 * may shorten a lock or delete an object. Nothing invokes the archiver but its stream and its schedule.
 */
export class AuditArchive extends Construct {
  readonly bucket: Bucket;
  readonly key: Key;
  readonly archiver: ErasureFunction;
  readonly deadLetterQueue: Queue;
  readonly alarms: Record<string, Alarm> = {};

  constructor(scope: Construct, id: string, props: AuditArchiveProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (!props.table.tableStreamArn) throw new Error('AuditArchive: the audit table needs a stream with new and old images');

    this.archiver = new ErasureFunction(this, 'Archiver', {
      entry: 'lambda/handlers/archiver.ts',
      description: 'Archives every change of the audit table (Object Lock bucket, hash chain) and signs the hourly digest',
      timeout: Duration.seconds(60),
    });
    const archiverArn = this.archiver.role.roleArn;

    this.key = new Key(this, 'Key', {
      description: 'verifik-erasure archive key: signs the hourly digests of the audit archive',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      // Digests signed years ago are checked with its public key; keep it with the archive.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'TheArchiverSigns',
        principals: [new ArnPrincipal(archiverArn)],
        actions: ['kms:Sign'],
        resources: ['*'],
      }),
    );
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'NobodyElseSigns',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotLike: { 'aws:PrincipalArn': archiverArn } },
      }),
    );

    this.bucket = new Bucket(this, 'Bucket', {
      versioned: true,
      objectLockEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const cfnBucket = this.bucket.node.defaultChild as CfnBucket;
    // The default lock in days comes from a parameter; CDK's ObjectLockRetention needs a number at synth time.
    cfnBucket.objectLockConfiguration = {
      objectLockEnabled: 'Enabled',
      rule: { defaultRetention: { mode: 'COMPLIANCE', days: props.retentionDays } },
    };
    // The archive holds person ids: it goes once its lock has ended, like the audit items it mirrors.
    cfnBucket.lifecycleConfiguration = {
      rules: [
        {
          id: 'ExpireAfterRetention',
          status: 'Enabled',
          // A delete marker once the lock has ended, then the version itself a day later.
          expirationInDays: props.retentionDays,
          noncurrentVersionExpiration: { noncurrentDays: 1 },
        },
      ],
    };
    this.restrictBucket(archiverArn);
    this.admitReaders(props.certificateIssuers ?? []);
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Every object is written once by the archiver (If-None-Match required, Object Lock compliance) and its own logs name each batch; record reads with CloudTrail data events if needed (docs/tamper-evidence.md).',
    });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'It is the dead-letter destination of the archiver: it holds the description of stream records that could not be archived.',
    });
    const onFailure: IEventSourceDlq = {
      bind: (_target, targetHandler) => {
        targetHandler.grantPrincipal.addToPrincipalPolicy(
          new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
        );
        return { destination: this.deadLetterQueue.queueArn };
      },
    };

    // What Lambda's stream poller needs, on this stream only.
    this.archiver.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        resources: [props.table.tableStreamArn],
      }),
    );
    if (props.tableKey) {
      this.archiver.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.tableKey.keyArn] }),
      );
    }
    this.archiver.function.addEventSourceMapping('AuditStream', {
      eventSourceArn: props.table.tableStreamArn,
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(ARCHIVE_BATCHING_WINDOW_S),
      // One batch per shard at a time: records of an item reach the archive in the order they happened.
      parallelizationFactor: 1,
      bisectBatchOnError: true,
      retryAttempts: 10,
      onFailure,
    });
    this.archiver.addEnvironment('ARCHIVE_BUCKET_NAME', this.bucket.bucketName);
    this.archiver.addEnvironment('ARCHIVE_KEY_ID', this.key.keyArn);

    new Rule(this, 'HourlyDigest', {
      description: 'verifik-erasure: sign the hourly digest of the audit archive',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [
        new LambdaFunction(this.archiver.function, { event: RuleTargetInput.fromObject({ action: 'digest' }), retryAttempts: 4 }),
      ],
    });

    this.addAlarms(props.alarmTopic);
    props.dashboard?.addWidgets(
      new GraphWidget({
        title: 'Audit archive',
        left: (
          [
            'ArchivedRecords',
            'DigestsSigned',
            'TerminalOutcomeChanged',
            'RequestChanged',
            'RetentionShortened',
            'NonTtlRemoval',
          ] as const
        ).map((name) => archiveMetric(name)),
        right: [this.archiver.function.metric('IteratorAge', { statistic: Stats.MAXIMUM, period: PERIOD })],
        width: 24,
        height: 6,
      }),
    );

    const output = (outputId: string, value: string, description: string) =>
      new CfnOutput(stack, outputId, { value, description });
    output(
      'ArchiveBucketName',
      this.bucket.bucketName,
      'Object Lock bucket of the audit archive (copy it with aws s3 sync to verify).',
    );
    output(
      'ArchiveKeyArn',
      this.key.keyArn,
      'Archive key: aws kms get-public-key --key-id <ArchiveKeyArn> gives the public key that verifies the digests.',
    );
    output(
      'ArchiverDeadLetterQueueUrl',
      this.deadLetterQueue.queueUrl,
      'Stream records the archiver could not archive (a gap in the archive).',
    );
  }

  /**
   * Certificate issuers read the index, the batches and the digests, and list the bucket (without
   * that, S3 answers a missing object with 403, not 404): admitted in the bucket policy, as the
   * archiver is, so that their roles carry no S3 grant. They cannot write: the bucket policy denies
   * every PutObject but the archiver's.
   */
  private admitReaders(issuers: readonly BindTarget[]): void {
    if (issuers.length === 0) return;
    const principals = issuers.map((issuer) => new ArnPrincipal(issuer.role.roleArn));
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CertificateIssuersRead',
        principals,
        actions: ['s3:GetObject'],
        resources: [INDEX_PREFIX, BATCH_PREFIX, DIGEST_PREFIX].map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
      }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CertificateIssuersList',
        principals,
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    for (const issuer of issuers) issuer.addEnvironment('ARCHIVE_BUCKET_NAME', this.bucket.bucketName);
  }

  /**
   * The bucket policy: the archiver alone may create objects (under its three prefixes), read them and
   * list them (certificate issuers may read and list too); no write may overwrite (`If-None-Match` required); nobody may lift or shorten a lock or
   * delete; only CloudFormation may change the lock, versioning or lifecycle settings.
   */
  private restrictBucket(archiverArn: string): void {
    const everyone = new AnyPrincipal();
    const objects = this.bucket.arnForObjects('*');
    const archiver = new ArnPrincipal(archiverArn);
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'TheArchiverCreates',
        principals: [archiver],
        actions: ['s3:PutObject'],
        resources: [BATCH_PREFIX, DIGEST_PREFIX, INDEX_PREFIX].map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
      }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({ sid: 'TheArchiverReads', principals: [archiver], actions: ['s3:GetObject'], resources: [objects] }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'TheArchiverFindsTheHead',
        principals: [archiver],
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'NobodyElseWrites',
        effect: Effect.DENY,
        principals: [everyone],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: { ArnNotLike: { 'aws:PrincipalArn': archiverArn } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'NothingIsOverwritten',
        effect: Effect.DENY,
        principals: [everyone],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'NoLockIsLiftedOrShortened',
        effect: Effect.DENY,
        principals: [everyone],
        actions: [...ARCHIVE_DENIED_TO_ALL],
        resources: [objects],
      }),
    );
    const synthesizer = Stack.of(this).synthesizer;
    const cloudFormation =
      synthesizer instanceof DefaultStackSynthesizer ? [Fn.sub(synthesizer.cloudFormationExecutionRoleArn)] : [];
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheStackChangesTheLock',
        effect: Effect.DENY,
        principals: [everyone],
        actions: [...ARCHIVE_CONFIGURATION_ACTIONS],
        resources: [this.bucket.bucketArn],
        ...(cloudFormation.length ? { conditions: { ArnNotLike: { 'aws:PrincipalArn': cloudFormation } } } : {}),
      }),
    );
  }

  private addAlarms(topic: ITopic): void {
    const alarm = (
      id: string,
      description: string,
      metric: IMetric,
      options: { threshold?: number; comparison?: ComparisonOperator; missing?: TreatMissingData; periods?: number } = {},
    ) => {
      const created = new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: options.threshold ?? 0,
        comparisonOperator: options.comparison ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: options.periods ?? 1,
        treatMissingData: options.missing ?? TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(topic));
      created.addOkAction(new SnsAction(topic));
      this.alarms[id] = created;
    };
    alarm(
      'ArchiveTerminalOutcomeChanged',
      "A person's terminal outcome (or its vendor status, evidence or time) was rewritten in the audit table: the service never does that. The archive holds the old and new images (docs/tamper-evidence.md).",
      archiveMetric('TerminalOutcomeChanged'),
    );
    alarm(
      'ArchiveRequestChanged',
      'A recorded erasure request (its persons, fingerprint, reason, requester or time) was rewritten in the audit table: the service never does that.',
      archiveMetric('RequestChanged'),
    );
    alarm(
      'ArchiveRetentionShortened',
      "An audit item's expiresAt was moved earlier: someone is making it expire sooner than the retention.",
      archiveMetric('RetentionShortened'),
    );
    alarm(
      'ArchiveNonTtlRemoval',
      'An audit item was deleted by a principal, not by DynamoDB TTL: the service is denied every delete.',
      archiveMetric('NonTtlRemoval'),
    );
    alarm(
      'ArchiverGap',
      'Stream records could not be archived after every retry and were set aside: the archive has a gap. Its dead-letter queue describes them (docs/tamper-evidence.md).',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period: PERIOD }),
    );
    alarm(
      'ArchiverErrors',
      'The archiver failed (S3, KMS or its code); Lambda retries stream batches in order, for up to 24 hours of stream retention.',
      this.archiver.function.metricErrors({ period: PERIOD }),
    );
    alarm(
      'ArchiverBehind',
      'The oldest stream record waiting for the archiver is over an hour old; DynamoDB keeps stream records 24 hours.',
      this.archiver.function.metric('IteratorAge', { statistic: Stats.MAXIMUM, period: PERIOD }),
      { threshold: Duration.hours(1).toMilliseconds() },
    );
    alarm(
      'ArchiveDigestMissing',
      'No archive digest was signed for two hours: the schedule, the archiver or the archive key is not working.',
      archiveMetric('DigestsSigned', Duration.hours(2)),
      { threshold: 1, comparison: ComparisonOperator.LESS_THAN_THRESHOLD, missing: TreatMissingData.BREACHING },
    );
  }
}

/** One of the archiver's EMF metrics (namespace VerifikErasure, dimension service). */
const archiveMetric = (metricName: ArchiveMetricName, period: Duration = PERIOD) =>
  new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: Stats.SUM,
    period,
  });
