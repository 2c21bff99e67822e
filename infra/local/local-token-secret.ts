import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { SecretUnavailableError } from '../../lambda/errors';
import type { RotationDeps } from '../../lambda/rotation/rotation-handler';
import { tokenExpiry, daysLeft } from '../../lambda/rotation/token-expiry';
import { CURRENT, PENDING, type TokenSecretStore, type TokenVersion } from '../../lambda/rotation/token-store';
import type { HttpHandler } from './api-gateway';

const PREVIOUS = 'AWSPREVIOUS';

/**
 * The Verifik token secret of the local stack: Secrets Manager's model of versions and staging
 * labels, in memory (a restart forgets a rotated token). The tests' Secrets Manager stand-in
 * (test/support/fake-secrets-manager.ts) is built on it too, so both follow the same rules.
 */
export class MemoryTokenStore implements TokenSecretStore {
  private readonly byId = new Map<string, { value?: string; stages: Set<string> }>();

  constructor(initialToken: string) {
    this.byId.set(randomUUID(), { value: initialToken, stages: new Set([CURRENT]) });
  }

  /** The token readers get: the value of AWSCURRENT. */
  current(): string {
    const version = this.find(CURRENT);
    if (!version?.value) throw new SecretUnavailableError('VERIFIK_TOKEN');
    return version.value;
  }

  /** What RotateSecret does before it calls the rotation function: a new version staged AWSPENDING, without a value. */
  startRotation(versionId: string = randomUUID()): string {
    for (const version of this.byId.values()) version.stages.delete(PENDING);
    this.byId.set(versionId, { stages: new Set([PENDING]) });
    return versionId;
  }

  async versions(): Promise<TokenVersion[]> {
    return [...this.byId].map(([versionId, { stages }]) => ({ versionId, stages: [...stages] }));
  }

  async value({ versionId, stage }: { versionId?: string; stage: string }): Promise<string | undefined> {
    const version = versionId === undefined ? this.find(stage) : this.byId.get(versionId);
    return version?.stages.has(stage) ? version.value : undefined;
  }

  async putPending(versionId: string, value: string): Promise<void> {
    const existing = this.byId.get(versionId);
    if (existing?.value !== undefined && existing.value !== value) {
      throw Object.assign(new Error('A version with this ClientRequestToken already holds another value.'), {
        name: 'ResourceExistsException',
      });
    }
    for (const version of this.byId.values()) version.stages.delete(PENDING);
    this.byId.set(versionId, { value, stages: new Set([...(existing?.stages ?? []), PENDING]) });
  }

  async promote(to: string, from: string): Promise<void> {
    const target = this.byId.get(to);
    const source = this.byId.get(from);
    if (!target || !source?.stages.has(CURRENT)) {
      throw Object.assign(new Error('The staging label is not on the version to remove it from.'), {
        name: 'InvalidParameterException',
      });
    }
    for (const version of this.byId.values()) version.stages.delete(PREVIOUS);
    source.stages.delete(CURRENT);
    source.stages.add(PREVIOUS);
    target.stages.add(CURRENT);
  }

  private find(stage: string) {
    return [...this.byId.values()].find((version) => version.stages.has(stage));
  }
}

/** The local stack's own routes for the token: rotate it now, or run the scheduled check now. */
export const LOCAL_TOKEN_ROUTES = { rotate: '/_local/token/rotate', check: '/_local/token/check' } as const;

/**
 * Serves `POST /_local/token/rotate` and `POST /_local/token/check` (only on the local stack, which
 * listens on loopback) with the rotation function's own code, and hands every other request to `http`.
 * The answers carry the token's expiry, never the token.
 */
export function withLocalTokenRoutes(http: HttpHandler, rotation: RotationDeps, store: MemoryTokenStore): HttpHandler {
  const answer = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const expiryOfCurrent = () => {
    const expiry = tokenExpiry(store.current());
    return { expiresAt: expiry?.toISOString() ?? null, daysLeft: expiry ? daysLeft(expiry, new Date()) : null };
  };
  return async (event: APIGatewayProxyEventV2, context: Context) => {
    const route = Object.entries(LOCAL_TOKEN_ROUTES).find(([, path]) => path === event.rawPath)?.[0];
    if (route === undefined) return http(event, context);
    if (event.requestContext.http.method !== 'POST') return answer(405, { error: 'method_not_allowed', message: 'Use POST.' });
    const run = rotation.rotationFor('local');
    try {
      if (route === 'check') return answer(200, { ...expiryOfCurrent(), ...(await run.check()) });
      const versionId = store.startRotation();
      await run.rotate(versionId);
      return answer(200, { rotated: true, versionId, ...expiryOfCurrent() });
    } catch (error) {
      return answer(502, {
        error: 'rotation_failed',
        message: `${error instanceof Error ? error.message : 'The rotation failed'}. The current token stays in use.`,
        ...expiryOfCurrent(),
      });
    } finally {
      rotation.metrics.publishStoredMetrics();
    }
  };
}
