import { App } from 'aws-cdk-lib';
import type { AuditTableEncryption } from './constructs/audit-table';
import { checkAwsSolutions } from './constructs/compliance';
import { DEFAULT_ROUTE_THROTTLING, type ErasureRouteKey, type RouteThrottle } from './constructs/erasure-api';
import { VerifikErasureStack, type VerifikCallerConcurrency } from './stack';

/**
 * Context `apiRouteThrottling`: the routes whose limits change, `{"POST /erasures": {"rateLimit": 50,
 * "burstLimit": 100}}`; the other routes keep DEFAULT_ROUTE_THROTTLING. An object in cdk.json, its
 * JSON text with `-c` (the CLI passes every `-c` value as a string). Anything else fails the synth,
 * so a typo cannot deploy an unthrottled or a closed route.
 */
function routeThrottlingFromContext(value: unknown): Partial<Record<ErasureRouteKey, RouteThrottle>> | undefined {
  if (value === undefined) return undefined;
  const problem = (detail: string) =>
    new Error(`context apiRouteThrottling: ${detail}; expected {"<route>": {"rateLimit": <n>, "burstLimit": <n>}, ...}`);
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw problem('not valid JSON');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw problem('not an object');
  const routes = Object.keys(DEFAULT_ROUTE_THROTTLING);
  const limits: Partial<Record<ErasureRouteKey, RouteThrottle>> = {};
  for (const [route, given] of Object.entries(parsed)) {
    if (!routes.includes(route)) throw problem(`unknown route "${route}" (routes: ${routes.join(', ')})`);
    const { rateLimit, burstLimit, ...rest } = (typeof given === 'object' && given !== null ? given : {}) as Record<
      string,
      unknown
    >;
    const rateOk = typeof rateLimit === 'number' && Number.isFinite(rateLimit) && rateLimit > 0;
    const burstOk = typeof burstLimit === 'number' && Number.isInteger(burstLimit) && burstLimit > 0;
    if (!rateOk || !burstOk || Object.keys(rest).length > 0) {
      throw problem(`"${route}" needs rateLimit (requests per second, > 0) and burstLimit (a whole number, > 0), nothing else`);
    }
    limits[route as ErasureRouteKey] = { rateLimit, burstLimit };
  }
  return limits;
}

const app = new App();

/** A number given with `-c name=20` (a string) or in cdk.json; the stack refuses one that is not a number above 0. */
function numberFromContext(value: unknown): number | undefined {
  return typeof value === 'string' ? (value.trim() === '' ? Number.NaN : Number(value)) : (value as number | undefined);
}

/** `verifikCallerConcurrency`: `{"http": 10, "invoke": 5}` in cdk.json, or that JSON with -c. */
function callerConcurrencyFromContext(value: unknown): VerifikCallerConcurrency | undefined {
  if (value === undefined) return undefined;
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  const { http, invoke } = (parsed ?? {}) as Partial<VerifikCallerConcurrency>;
  if (!Number.isInteger(http) || !Number.isInteger(invoke) || http! < 1 || invoke! < 1)
    throw new Error('context verifikCallerConcurrency must be {"http": N, "invoke": N}, whole numbers of at least 1');
  return { http: http!, invoke: invoke! };
}
const encryption = app.node.tryGetContext('auditTableEncryption') ?? 'aws-owned';
if (encryption !== 'aws-owned' && encryption !== 'customer-managed') {
  throw new Error(`context auditTableEncryption must be aws-owned or customer-managed, not ${String(encryption)}`);
}
// Environment-agnostic by default: one template for any account and region, `cdk deploy` targets the
// profile's. A customer-managed table key is a per-region replica setting, so that variant needs the region.
const region = process.env.CDK_DEFAULT_REGION;
if (encryption === 'customer-managed' && !region) {
  throw new Error('auditTableEncryption=customer-managed needs a region: set AWS_REGION or use a profile with one');
}
new VerifikErasureStack(app, app.node.tryGetContext('stackName') ?? 'VerifikErasure', {
  auditTableEncryption: encryption as AuditTableEncryption,
  apiRouteThrottling: routeThrottlingFromContext(app.node.tryGetContext('apiRouteThrottling')),
  verifikRateLimit: numberFromContext(app.node.tryGetContext('verifikRateLimit')),
  verifikCallerConcurrency: callerConcurrencyFromContext(app.node.tryGetContext('verifikCallerConcurrency')),
  env: encryption === 'customer-managed' ? { account: process.env.CDK_DEFAULT_ACCOUNT, region } : undefined,
});
checkAwsSolutions(app);
app.synth();
