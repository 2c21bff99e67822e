import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';

/**
 * Publishes the invocation's metrics (embedded metric format) once it ends, whatever the result.
 * Unlike Powertools' logMetrics it stays quiet when an invocation counted nothing (a GET, a 401).
 */
export function publishMetrics(metrics: Metrics): MiddlewareObj {
  const publish = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { name: 'publishMetrics', after: publish, onError: publish };
}
