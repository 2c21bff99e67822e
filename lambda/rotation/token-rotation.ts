import type { Logger } from '@aws-lambda-powertools/logger';
import type { ProbeAnswer, RenewalAnswer } from '../verifik/verifik-session';
import { daysLeft, refusalOfRenewedToken, tokenExpiry } from './token-expiry';
import { CURRENT, PENDING, type TokenSecretStore, type TokenVersion } from './token-store';

/** Secrets Manager's four rotation steps, in the order it calls them. */
export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** Days left of the token in use; published on every rotation and every check. */
export const TOKEN_DAYS_LEFT_METRIC = 'VerifikTokenDaysLeft';
/** One per failed rotation step (the step is retried by the next run). */
export const TOKEN_ROTATION_FAILED_METRIC = 'TokenRotationFailed';
export const TOKEN_METRIC_NAMES = [TOKEN_DAYS_LEFT_METRIC, TOKEN_ROTATION_FAILED_METRIC] as const;
export type TokenMetricName = (typeof TOKEN_METRIC_NAMES)[number];

/** What an operator must do when Verifik refuses the token itself: nothing automatic can help. */
export const NEW_TOKEN_NEEDED =
  'Verifik refused the token: it has expired or was revoked, and such a token cannot be renewed. Log in to Verifik, issue a new token and put it in the token secret (docs/operations.md, "The Verifik token").';

export interface TokenMetrics {
  daysLeft(days: number): void;
  rotationFailed(): void;
}

/** The two Verifik calls the rotation makes (lambda/verifik/verifik-session.ts). */
export interface SessionPort {
  renew(token: string): Promise<RenewalAnswer>;
  probe(token: string): Promise<ProbeAnswer>;
}

export interface TokenRotationDeps {
  store: TokenSecretStore;
  session: SessionPort;
  logger: Logger;
  metrics: TokenMetrics;
  now?: () => Date;
}

/** A rotation step that cannot complete; its message names what happened and never quotes a token. */
export class RotationError extends Error {
  override name = 'RotationError';
}

/**
 * Renews the Verifik token in its secret, Secrets Manager's way: createSecret asks Verifik for a new
 * token with the current one and stores it as AWSPENDING; setSecret has nothing to do (Verifik
 * issued the token itself); testSecret makes a harmless call with it; finishSecret moves AWSCURRENT
 * onto it. Every step is idempotent, and the current token stays in place and usable until the
 * last one, so a rotation interrupted anywhere loses nothing: the next run (or `check`) finishes it.
 * Tokens are never logged; only their expiry is.
 */
export class TokenRotation {
  private readonly now: () => Date;

  constructor(private readonly deps: TokenRotationDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** One step for version `versionId` (Secrets Manager's ClientRequestToken); a failure is counted and thrown. */
  async step(step: RotationStep, versionId: string): Promise<void> {
    const logger = this.deps.logger;
    try {
      const version = await this.version(versionId);
      if (version.stages.includes(CURRENT)) {
        logger.info('The version is already current; nothing to do', { step, versionId });
        return;
      }
      if (!version.stages.includes(PENDING)) throw new RotationError(`version ${versionId} is not staged as ${PENDING}`);
      await this[step](versionId);
    } catch (error) {
      this.deps.metrics.rotationFailed();
      logger.error('Token rotation step failed; the current token stays in use', {
        step,
        versionId,
        reason: error instanceof RotationError ? error.message : 'an AWS call failed',
        errorName: error instanceof Error ? error.name : typeof error,
      });
      throw error;
    }
  }

  /** All four steps for one version, as Secrets Manager would call them. */
  async rotate(versionId: string): Promise<void> {
    for (const step of ROTATION_STEPS) await this.step(step, versionId);
  }

  /**
   * The scheduled check: publishes the days left of the token in use (0 when Verifik refuses it),
   * and finishes a rotation that was interrupted (a pending version that never became current).
   */
  async check(): Promise<{ daysLeft?: number; accepted: boolean; resumed?: string }> {
    const { store, session, logger } = this.deps;
    const current = await store.value({ stage: CURRENT });
    if (current === undefined) {
      logger.error('The token secret has no value: put a Verifik token in it (docs/deploy.md)');
      return { accepted: false };
    }
    const probe = await session.probe(current);
    if (probe.kind === 'refused') {
      this.deps.metrics.daysLeft(0);
      logger.error(NEW_TOKEN_NEEDED, { reason: probe.reason });
      return { daysLeft: 0, accepted: false };
    }
    if (probe.kind === 'unclear') logger.warn('Could not confirm that Verifik accepts the token', { reason: probe.reason });
    const days = this.publishDaysLeft(current);

    const stuck = (await store.versions()).find((v) => v.stages.includes(PENDING) && !v.stages.includes(CURRENT));
    if (stuck === undefined) return { daysLeft: days, accepted: true };
    logger.info('Finishing an interrupted rotation', { versionId: stuck.versionId });
    await this.rotate(stuck.versionId);
    return { daysLeft: days, accepted: true, resumed: stuck.versionId };
  }

  private async createSecret(versionId: string): Promise<void> {
    const { store, session, logger } = this.deps;
    if ((await store.value({ versionId, stage: PENDING })) !== undefined) {
      logger.info('The renewed token is already stored', { versionId });
      return;
    }
    const current = await store.value({ stage: CURRENT });
    if (current === undefined) throw new RotationError('the token secret has no current value: put a Verifik token in it');
    this.publishDaysLeft(current);
    const answer = await session.renew(current);
    if (answer.kind === 'refused') {
      this.deps.metrics.daysLeft(0);
      throw new RotationError(`${NEW_TOKEN_NEEDED} (${answer.reason})`);
    }
    if (answer.kind === 'failed') throw new RotationError(`the renewal failed: ${answer.reason}`);
    const refusal = refusalOfRenewedToken(answer.token, this.now());
    if (refusal) throw new RotationError(`${refusal}; it was not stored`);
    await store.putPending(versionId, answer.token);
    logger.info('Stored the renewed token as pending', { versionId, expiresAt: tokenExpiry(answer.token)?.toISOString() });
  }

  private async setSecret(versionId: string): Promise<void> {
    this.deps.logger.info('Verifik issued the renewed token itself: nothing to set', { versionId });
  }

  private async testSecret(versionId: string): Promise<void> {
    const pending = await this.deps.store.value({ versionId, stage: PENDING });
    if (pending === undefined) throw new RotationError(`version ${versionId} has no value to test`);
    const probe = await this.deps.session.probe(pending);
    if (probe.kind !== 'accepted') throw new RotationError(`Verifik did not accept the renewed token: ${probe.reason}`);
    this.deps.logger.info('Verifik accepts the renewed token', { versionId });
  }

  private async finishSecret(versionId: string): Promise<void> {
    const { store, logger } = this.deps;
    const current = (await store.versions()).find((v) => v.stages.includes(CURRENT));
    if (current === undefined) throw new RotationError(`the token secret has no ${CURRENT} version`);
    await store.promote(versionId, current.versionId);
    const renewed = await store.value({ versionId, stage: CURRENT });
    const days = renewed === undefined ? undefined : this.publishDaysLeft(renewed);
    logger.info('The renewed token is current', { versionId, previousVersionId: current.versionId, daysLeft: days });
  }

  private async version(versionId: string): Promise<TokenVersion> {
    const version = (await this.deps.store.versions()).find((v) => v.versionId === versionId);
    if (version === undefined) throw new RotationError(`version ${versionId} is not a version of the token secret`);
    return version;
  }

  /** Publishes the days left of `token`; a token without a readable expiry publishes nothing (the alarm treats that as breaching). */
  private publishDaysLeft(token: string): number | undefined {
    const expiry = tokenExpiry(token);
    if (expiry === undefined) {
      this.deps.logger.error('The token is not a JWT with an exp claim: its expiry cannot be known');
      return undefined;
    }
    const days = daysLeft(expiry, this.now());
    this.deps.metrics.daysLeft(days);
    return days;
  }
}
