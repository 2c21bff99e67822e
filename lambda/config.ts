// The namespace import lets the bundler leave out zod's locales (a third of the bundle).
import * as z from 'zod';
import { RetryPolicy } from './erasure/retry-policy';

const milliseconds = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * Verifik's base URL is a bare origin: `https://host[:port]`, no path, query or fragment (a path
 * would double `/v2`, and a query could carry `collection`); plain `http://` only for loopback.
 */
export const verifikBaseUrl = z.url({ protocol: /^https?$/ }).refine((value) => {
  const url = new URL(value);
  return value === url.origin && (url.protocol === 'https:' || LOOPBACK_HOST.test(url.hostname));
}, 'must be a bare origin, https://host[:port] (no path, query or fragment; http:// only for loopback)');

const environment = z.object({
  VERIFIK_BASE_URL: verifikBaseUrl,
  AUDIT_TABLE_NAME: z.string().min(3).max(255),
  DYNAMODB_ENDPOINT: z.url().optional(),
  /** Default six years (GDPR accountability evidence is commonly kept for the limitation period). */
  RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(36_500)
    .default(6 * 365 + 2),
  VERIFIK_TIMEOUT_MS: milliseconds(5_000),
  VERIFIK_RETRY_LIMIT: z.coerce.number().int().min(0).max(10).default(4),
  VERIFIK_BACKOFF_BASE_MS: milliseconds(200),
  VERIFIK_BACKOFF_LIMIT_MS: milliseconds(5_000),
  /** Longest time one HTTP request spends calling Verifik before handing persons to the retry path. */
  INLINE_BUDGET_MS: milliseconds(10_000),
  /** Kept back from the Lambda's remaining time for recording outcomes and answering. */
  RESERVE_MS: milliseconds(3_000),
  PERSON_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
  LEASE_MARGIN_MS: milliseconds(10_000),
  /** The retry queue and its dead-letter queue (SQS). Locally an in-process queue stands in. */
  RETRY_QUEUE_URL: z.url().optional(),
  DEAD_LETTER_QUEUE_URL: z.url().optional(),
  /** Seconds before each durable retry, comma-separated; the default spans about 40 hours. */
  RETRY_SCHEDULE: z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'comma-separated seconds, e.g. 60,300,900')
    .transform((value) => value.split(',').map((seconds) => Math.round(Number(seconds) * 1000)))
    .prefault(RetryPolicy.DEFAULT_DELAYS_S.join(',')),
});

export type Config = Readonly<z.infer<typeof environment>>;

/** Reads the configuration once; a missing or malformed variable fails the cold start loudly. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`verifik-erasure: invalid configuration: ${problems}`);
  }
  return Object.freeze(parsed.data);
}
