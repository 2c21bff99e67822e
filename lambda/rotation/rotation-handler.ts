import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
// The namespace import lets the bundler leave out zod's locales (a third of the bundle).
import * as z from 'zod';
import { ROTATION_STEPS, RotationError, type TokenRotation } from './token-rotation';

/** What Secrets Manager sends the rotation function, once per step. */
const rotationEvent = z.object({
  Step: z.enum(ROTATION_STEPS),
  SecretId: z.string().min(1).max(2048),
  ClientRequestToken: z.string().min(1).max(64),
});
/** What the schedule sends: check the token's expiry, and finish an interrupted rotation. */
export const CHECK_TOKEN_EVENT = { action: 'check-token' } as const;
const checkEvent = z.object({ action: z.literal(CHECK_TOKEN_EVENT.action) });

export interface RotationDeps {
  /** The token secret as the function's configuration names it (an ARN, or a name for a secret passed in). */
  tokenSecretId: string;
  rotationFor(secretId: string): TokenRotation;
  logger: Logger;
  metrics: Metrics;
}

/** The rotation function: Secrets Manager's four steps for the token secret, and the scheduled check. */
export function createRotationHandler(deps: RotationDeps) {
  return async (event: unknown, context?: Context): Promise<void> => {
    if (context) deps.logger.addContext(context);
    try {
      const rotation = rotationEvent.safeParse(event);
      if (rotation.success) {
        const { Step, SecretId, ClientRequestToken } = rotation.data;
        // Only the token secret: this function's grants name no other, and nothing else is a Verifik token.
        if (!sameSecret(deps.tokenSecretId, SecretId))
          throw new RotationError('asked to rotate a secret other than the Verifik token');
        await deps.rotationFor(SecretId).step(Step, ClientRequestToken);
        return;
      }
      if (checkEvent.safeParse(event).success) {
        await deps.rotationFor(deps.tokenSecretId).check();
        return;
      }
      throw new RotationError('not a rotation step nor a token check');
    } finally {
      deps.metrics.publishStoredMetrics();
    }
  };
}

/**
 * Whether `given` (an ARN, as Secrets Manager sends it) is the secret `configured` names: the same
 * ARN, or the ARN of a secret named `configured` (Secrets Manager appends `-` and six characters).
 */
export function sameSecret(configured: string, given: string): boolean {
  if (configured === given) return true;
  const name = given.split(':secret:')[1];
  return (
    name !== undefined && !configured.startsWith('arn:') && /^.+-[A-Za-z0-9]{6}$/.test(name) && name.slice(0, -7) === configured
  );
}
