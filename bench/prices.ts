/**
 * The prices the bench's cost table uses: AWS's public list prices for us-east-1 (N. Virginia), USD,
 * free tiers left out. Taken from AWS's pricing pages as published in 2025; not re-checked against
 * the AWS price list on the date below. Change them here, and only here, to price another region.
 */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2025 list prices, written down 2026-11-29',
  /** Lambda on arm64, per GB-second and per request. */
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** API Gateway HTTP API, per request (first 300 million a month). */
  apiRequest: 1.0 / 1e6,
  /** DynamoDB on demand, per write and read request unit. */
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  /** SQS standard, per request. */
  sqsRequest: 0.4 / 1e6,
  /** S3 Standard, per PUT and per GET. */
  s3Put: 0.005 / 1e3,
  s3Get: 0.0004 / 1e3,
  /** CloudWatch Logs, per GB ingested. */
  logsGb: 0.5,
  /** KMS asymmetric Sign, per request. */
  kmsSign: 0.15 / 1e4,
} as const;
