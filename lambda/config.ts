// The namespace import lets the bundler leave out zod's locales (a third of the bundle).
import * as z from 'zod';
import { ConfigurationError } from './errors';
import { RetryPolicy } from './erasure/retry-policy';
import { parseAllowedHosts } from './callbacks/callback-url';

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

/** A switch given as `true` or `false`. */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true');

/** Seconds between attempts, comma-separated. */
const secondsList = (fallback: readonly number[]) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'comma-separated seconds, e.g. 60,300,900')
    .transform((value) => value.split(',').map((seconds) => Math.round(Number(seconds) * 1000)))
    .prefault(fallback.join(','));

/** Where the audit table is. */
const tableSettings = {
  AUDIT_TABLE_NAME: z.string().min(3).max(255),
  DYNAMODB_ENDPOINT: z.url().optional(),
};

/** What every function that erases needs: Verifik, the audit table, the retry schedule and the durable queue. */
const serviceSettings = {
  VERIFIK_BASE_URL: verifikBaseUrl,
  ...tableSettings,
  /** Read every person back (GET) after a 2xx DELETE before recording it erased (docs/lifecycle.md). */
  VERIFY_AFTER_DELETE: flag(true),
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
  /** Kept back from the Lambda's remaining time for recording outcomes and answering. */
  RESERVE_MS: milliseconds(3_000),
  PERSON_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
  /**
   * Calls to Verifik a second at most from this process (the stack divides the deployment's rate over
   * its functions' concurrency); unset: no client-side pace, Verifik's 429s alone set it.
   */
  VERIFIK_RATE_LIMIT: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of calls a second (for example 20); unset it for no pace')
    .transform(Number)
    .refine((rate) => rate > 0, 'must be above 0; unset it for no pace')
    .optional(),
  /** Calls at most in any window of VERIFIK_BURST / VERIFIK_RATE_LIMIT seconds; default a tenth of a second's worth. */
  VERIFIK_BURST: z.coerce.number().int().min(1).max(10_000).optional(),
  LEASE_MARGIN_MS: milliseconds(10_000),
  /** The retry queue (SQS). Locally an in-process queue stands in for it. */
  RETRY_QUEUE_URL: z.url().optional(),
  /** Seconds before each durable retry, comma-separated; the default spans about 40 hours. */
  RETRY_SCHEDULE: secondsList(RetryPolicy.DEFAULT_DELAYS_S),
};

/** The callback allowlist (docs/callbacks.md): `host` or `host:port`, comma-separated; empty: no callback accepted. */
const callbackAllowedHosts = z
  .string()
  .default('')
  .transform((value, context) => {
    try {
      return parseAllowedHosts(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

/** Where terminal erasures that name a callbackUrl are announced (SQS). Locally an in-process queue stands in for it. */
const callbackQueueSettings = { CALLBACK_QUEUE_URL: z.url().optional() };

/** The callback delivery function (lambda/callbacks): the audit table, its queue and the signing secret; no Verifik. */
const callbackDeliverySettings = {
  ...tableSettings,
  ...callbackQueueSettings,
  CALLBACK_ALLOWED_HOSTS: callbackAllowedHosts,
  CALLBACK_DEAD_LETTER_QUEUE_URL: z.url().optional(),
  /** One POST to the receiver, connection included. */
  CALLBACK_TIMEOUT_MS: milliseconds(5_000),
  /** Seconds before each retry of a callback; the default (Standard Webhooks' advice) spans about a day. */
  CALLBACK_RETRY_SCHEDULE: secondsList([5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]),
};

/** The functions that take requests (HTTP API, direct invoke) call Verifik inline first. */
const requestSettings = {
  /** Longest time one request spends calling Verifik before handing persons to the retry path. */
  INLINE_BUDGET_MS: milliseconds(10_000),
  /** Hosts a request's callbackUrl may name. */
  CALLBACK_ALLOWED_HOSTS: callbackAllowedHosts,
  ...callbackQueueSettings,
};

/** The certificate of erasure (GET /erasures/{id}/certificate): who the controller is and which key signs. */
const certificateSettings = {
  /** The controller named on every certificate. Without it certificates are refused (503), erasures go on. */
  ORGANIZATION_NAME: z.string().trim().min(1).max(200).optional(),
  /** The asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs certificates: the cloud. */
  CERTIFICATE_KEY_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[A-Za-z0-9-]+$/, 'a KMS key ARN')
    .optional(),
  /** A PKCS8 PEM file holding a P-256 private key: the local stack (it creates one at first start). */
  CERTIFICATE_KEY_FILE: z.string().min(1).optional(),
  /** The tamper-evident archive a certificate names its batch and digest from (read only): the Object Lock bucket... */
  ARCHIVE_BUCKET_NAME: z.string().min(3).max(63).optional(),
  /** ...or the local stack's archive folder. Neither: certificates say that no archive is configured. */
  ARCHIVE_DIR: z.string().min(1).optional(),
};

/** The CRM hooks (`POST /hooks/{crm}`). */
const crmSettings = {
  /** HubSpot's `contact.deletion` erases too (not only `contact.privacyDeletion`). */
  HUBSPOT_CONTACT_DELETION: flag(false),
  /** The hook's URL as HubSpot calls it, when not API Gateway's own (a custom domain, a proxy): its v3 signature covers it. */
  HUBSPOT_WEBHOOK_URL: z
    .union([z.literal(''), z.url({ protocol: /^https?$/ })])
    .optional()
    .transform((url) => url || undefined),
};

/** The service's secrets, each from Secrets Manager (the variable named here holds its ARN: the cloud) or the environment (locally). */
export const SECRET_ARN_VARIABLE = {
  VERIFIK_TOKEN: 'VERIFIK_TOKEN_SECRET_ARN',
  WEBHOOK_SECRET: 'WEBHOOK_SECRET_ARN',
  SUBJECT_REF_PEPPER: 'SUBJECT_REF_PEPPER_SECRET_ARN',
  HUBSPOT_CLIENT_SECRET: 'HUBSPOT_CLIENT_SECRET_ARN',
  CALLBACK_SECRET: 'CALLBACK_SECRET_ARN',
} as const;
export type SecretName = keyof typeof SECRET_ARN_VARIABLE;

/** Each function's settings and the secrets it reads: what it is not given it cannot use. */
export const FUNCTION_CONFIG = {
  http: {
    settings: { ...serviceSettings, ...requestSettings, ...certificateSettings, ...crmSettings },
    secrets: ['VERIFIK_TOKEN', 'WEBHOOK_SECRET', 'SUBJECT_REF_PEPPER', 'HUBSPOT_CLIENT_SECRET'],
  },
  invoke: { settings: { ...serviceSettings, ...requestSettings }, secrets: ['VERIFIK_TOKEN', 'SUBJECT_REF_PEPPER'] },
  worker: {
    settings: { ...serviceSettings, ...callbackQueueSettings, DEAD_LETTER_QUEUE_URL: z.url().optional() },
    secrets: ['VERIFIK_TOKEN'],
  },
  /** Delivers callbacks: reads erasures, records deliveries, signs with its own secret; no Verifik token. */
  callbacks: { settings: callbackDeliverySettings, secrets: ['CALLBACK_SECRET'] },
  /**
   * The hourly deadline check: reads the audit table, and arms the retry chain of an erasure recorded
   * without one (SendMessage on the retry queue); no Verifik, no secret.
   */
  deadlines: {
    settings: {
      ...tableSettings,
      RETRY_QUEUE_URL: z.url(),
      /** Days after its (extended) due date an erasure that is not completed keeps counting as overdue. */
      OVERDUE_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(3_660).default(90),
    },
    secrets: [],
  },
  /** Renews the Verifik token in its secret; reads it through the rotation, not the cache. */
  rotation: {
    settings: { VERIFIK_BASE_URL: verifikBaseUrl, VERIFIK_TIMEOUT_MS: milliseconds(5_000) },
    secrets: ['VERIFIK_TOKEN'],
  },
} as const satisfies Record<string, { settings: z.ZodRawShape; secrets: readonly SecretName[] }>;

export type FunctionName = keyof typeof FUNCTION_CONFIG;
export type ConfigOf<F extends FunctionName> = Readonly<z.infer<z.ZodObject<(typeof FUNCTION_CONFIG)[F]['settings']>>>;
export type HttpConfig = ConfigOf<'http'>;
export type InvokeConfig = ConfigOf<'invoke'>;
export type WorkerConfig = ConfigOf<'worker'>;
export type DeadlinesConfig = ConfigOf<'deadlines'>;
export type RotationConfig = ConfigOf<'rotation'>;
export type CallbacksConfig = ConfigOf<'callbacks'>;
/** What the erasure service itself is built from, whichever function runs it. */
export type ServiceConfig = Readonly<z.infer<z.ZodObject<typeof serviceSettings>>>;

/** Days an erasure may still be worked on: the retry schedule (with its jitter), 14 days in the dead-letter queue, a day's margin. */
export function minimumRetentionDays(scheduleMs: readonly number[]): number {
  const scheduleDays = (1.2 * scheduleMs.reduce((sum, ms) => sum + ms, 0)) / 86_400_000;
  return Math.ceil(scheduleDays) + 14 + 1;
}

/**
 * Reads one function's configuration once; a missing or malformed variable, or a secret given
 * neither by its ARN nor as a plain variable, fails the cold start loudly.
 */
export function readConfig<F extends FunctionName>(fn: F, env: NodeJS.ProcessEnv = process.env): ConfigOf<F> {
  const { settings, secrets } = FUNCTION_CONFIG[fn];
  const parsed = z.object(settings).safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (
    parsed.success &&
    'CERTIFICATE_KEY_ARN' in parsed.data &&
    parsed.data.CERTIFICATE_KEY_ARN &&
    parsed.data.CERTIFICATE_KEY_FILE
  ) {
    problems.push('CERTIFICATE_KEY_ARN, CERTIFICATE_KEY_FILE: set one certificate key, not both');
  }
  if (parsed.success && 'ARCHIVE_BUCKET_NAME' in parsed.data && parsed.data.ARCHIVE_BUCKET_NAME && parsed.data.ARCHIVE_DIR) {
    problems.push('ARCHIVE_BUCKET_NAME, ARCHIVE_DIR: name one archive, not both');
  }
  if (parsed.success && 'RETRY_SCHEDULE' in parsed.data) {
    const { RETENTION_DAYS: days, RETRY_SCHEDULE: schedule } = parsed.data as unknown as ServiceConfig;
    const needed = minimumRetentionDays(schedule);
    if (days < needed)
      problems.push(`RETENTION_DAYS: must be at least ${needed} (the retry schedule and 14 days of dead letters)`);
  }
  for (const name of secrets as readonly SecretName[]) {
    const arn = SECRET_ARN_VARIABLE[name];
    if (!env[arn] && !env[name]) problems.push(`${name}: set ${arn} (Secrets Manager) or ${name}`);
  }
  if (!parsed.success || problems.length > 0) {
    throw new ConfigurationError(`verifik-erasure (${fn}): invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data) as unknown as ConfigOf<F>;
}
