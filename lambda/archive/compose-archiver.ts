import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../names';
import { readArchiverConfig } from './archive-config';
import { archiveMetricsIn, type ArchiveHandlerDeps } from './archive-handler';
import { Archiver } from './archiver';
import { KmsSigner } from './kms-signer';
import { S3ArchiveStorage } from './s3-archive-storage';

export interface ArchiverOverrides {
  s3?: S3Client;
  kms?: KMSClient;
  logger?: Logger;
  metrics?: Metrics;
  now?: () => Date;
}

/** The archiver function's composition: the Object Lock bucket and the KMS archive key. */
export function composeArchiver(env: NodeJS.ProcessEnv, overrides: ArchiverOverrides = {}): ArchiveHandlerDeps {
  const config = readArchiverConfig(env);
  const logger = overrides.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const metrics = overrides.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const archiver = new Archiver({
    storage: new S3ArchiveStorage(overrides.s3 ?? new S3Client({}), config.ARCHIVE_BUCKET_NAME),
    signer: new KmsSigner(overrides.kms ?? new KMSClient({}), config.ARCHIVE_KEY_ID),
    metrics: archiveMetricsIn(metrics),
    logger,
    now: overrides.now,
  });
  return { archiver, logger, metrics };
}
