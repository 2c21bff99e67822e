/** Names the functions and the stack must agree on: the logs' service, the metrics' namespace and `service` dimension. */
export const SERVICE_NAME = 'verifik-erasure';
export const METRICS_NAMESPACE = 'VerifikErasure';
