import * as z from 'zod';
import { ConfigurationError } from '../errors';

/** The archiver's settings (it reads no secret and calls neither Verifik nor the table). */
const archiverSettings = z.object({
  ARCHIVE_BUCKET_NAME: z.string().min(3).max(63),
  /** The archive key (an asymmetric KMS key, ECC_NIST_P256, SIGN_VERIFY): its ARN or id. */
  ARCHIVE_KEY_ID: z.string().min(1),
});
export type ArchiverConfig = Readonly<z.infer<typeof archiverSettings>>;

/** Reads the archiver's configuration once; anything missing or malformed fails the cold start. */
export function readArchiverConfig(env: NodeJS.ProcessEnv = process.env): ArchiverConfig {
  const parsed = archiverSettings.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigurationError(`verifik-erasure (archiver): invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}
