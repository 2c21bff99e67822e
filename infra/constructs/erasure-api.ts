import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CfnStage, HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, LogGroup, RetentionDays, type MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambda/names';

/** Counted from the access log: requests API Gateway throttled (429) before any function ran. */
export const API_THROTTLED_METRIC = 'ApiThrottled';

/** The API's routes, as API Gateway names them. */
export type ErasureRouteKey =
  | 'POST /erasures'
  | 'GET /erasures/{erasureId}'
  | 'GET /erasures/{erasureId}/certificate'
  | 'POST /erasures/{erasureId}/extension'
  | 'POST /portal/erasures'
  | 'GET /portal/erasures/{erasureId}'
  | 'GET /portal/erasures/{erasureId}/certificate'
  | 'POST /portal/erasures/{erasureId}/extension';

/** A token bucket: steady requests per second, and how many may arrive at once. */
export interface RouteThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/**
 * Each route's own limits. The webhook routes answer anyone on the internet (the signature is
 * checked in the Lambda), so a flood of unsigned requests there must not use up what the portal
 * routes have: every route has a bucket of its own. `POST /erasures` keeps the whole API's former
 * figures (CRM webhooks are the main load); reading a record by webhook is polling and needs little;
 * the portal routes are sized for a privacy team's tools.
 */
export const DEFAULT_ROUTE_THROTTLING: Readonly<Record<ErasureRouteKey, RouteThrottle>> = {
  'POST /erasures': { rateLimit: 25, burstLimit: 50 },
  'GET /erasures/{erasureId}': { rateLimit: 5, burstLimit: 10 },
  // A certificate costs a KMS Sign call (KMS's own quota is shared with the account): a DPO's pace.
  'GET /erasures/{erasureId}/certificate': { rateLimit: 2, burstLimit: 5 },
  // An extension is rare (once per erasure at most): a small bucket.
  'POST /erasures/{erasureId}/extension': { rateLimit: 1, burstLimit: 5 },
  'POST /portal/erasures': { rateLimit: 10, burstLimit: 20 },
  'GET /portal/erasures/{erasureId}': { rateLimit: 10, burstLimit: 20 },
  'GET /portal/erasures/{erasureId}/certificate': { rateLimit: 5, burstLimit: 10 },
  'POST /portal/erasures/{erasureId}/extension': { rateLimit: 1, burstLimit: 5 },
};

export interface ErasureApiProps {
  /** The function behind every route (lambda/handlers/http.ts, payload format 2.0). */
  readonly handler: IFunction;
  /**
   * The stage's default limits, for a route without limits of its own (none today: see
   * `routeThrottling`). @default 25 requests per second
   */
  readonly rateLimit?: number;
  /** @default 50 */
  readonly burstLimit?: number;
  /** Limits of single routes, over DEFAULT_ROUTE_THROTTLING. */
  readonly routeThrottling?: Partial<Record<ErasureRouteKey, RouteThrottle>>;
}

/** A stage's RouteSettings for these buckets. */
export const routeSettingsOf = (throttling: Readonly<Record<string, RouteThrottle>>) =>
  Object.fromEntries(
    Object.entries(throttling).map(([routeKey, { rateLimit, burstLimit }]) => [
      routeKey,
      { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit },
    ]),
  );

/** cdk-nag's APIG4 (no authorizer) on routes whose callers sign in a way only the Lambda can check, with why. */
export function acknowledgeSignedInLambda(routes: readonly HttpRoute[], reason: string): void {
  for (const route of routes) Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason });
}

/** Access log fields: who called what and how it ended; never headers (they carry signatures) or bodies. */
const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  caller: '$context.identity.userArn',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
  authorizerError: '$context.authorizer.error',
} as const;

/**
 * The HTTP API of docs/api.md. One Lambda serves six routes:
 * - `POST /erasures`, `GET /erasures/{erasureId}` and its `/certificate`, `POST /erasures/{erasureId}/extension`:
 *   no API Gateway authorizer; the Lambda checks the Standard Webhooks signature (a CRM cannot sign
 *   requests with AWS credentials);
 * - the same under `/portal/erasures`: AWS IAM (SigV4) authorization.
 * Anything else is answered 404 by API Gateway without reaching the Lambda.
 *
 * Every route has throttling limits of its own (DEFAULT_ROUTE_THROTTLING), so a flood on the
 * unauthenticated webhook routes cannot use up the portal routes' share.
 *
 * HTTP API rather than REST API: the handler speaks payload format 2.0 (as the local stack does),
 * IAM authorization and throttling are built in, and it costs less and adds less latency. What it
 * lacks (WAF, request validators, usage plans) the Lambda covers: body size (413 over 64 KiB) and
 * schema are checked there, and API Gateway's own limit is 10 MB.
 */
export class ErasureApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** Counts API Gateway's 429 answers (throttled requests), from the access log. */
  readonly throttledFilter: MetricFilter;
  readonly webhookRoutes: HttpRoute[];
  readonly portalRoutes: HttpRoute[];
  /** The limits each route got. */
  readonly routeThrottling: Readonly<Record<ErasureRouteKey, RouteThrottle>>;

  constructor(scope: Construct, id: string, props: ErasureApiProps) {
    super(scope, id);

    this.api = new HttpApi(this, 'Api', {
      description: 'verifik-erasure: GDPR erasures at Verifik',
      // The stage is created below with throttling and access logs, which the implicit one lacks.
      createDefaultStage: false,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 25, burstLimit: props.burstLimit ?? 50 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });

    // HTTP APIs publish no throttle metric (a 429 is just a 4xx), so count them from the log (whose
    // routeKey field says which route's limit was hit).
    this.throttledFilter = this.accessLogs.addMetricFilter('Throttled', {
      filterPattern: FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace: METRICS_NAMESPACE,
      metricName: API_THROTTLED_METRIC,
      metricValue: '1',
    });

    const integration = new HttpLambdaIntegration('Erasures', props.handler);
    const iam = new HttpIamAuthorizer();
    const routes = (path: string, authorizer?: HttpIamAuthorizer) => [
      ...this.api.addRoutes({ path, methods: [HttpMethod.POST], integration, authorizer }),
      ...this.api.addRoutes({ path: `${path}/{erasureId}`, methods: [HttpMethod.GET], integration, authorizer }),
      ...this.api.addRoutes({ path: `${path}/{erasureId}/certificate`, methods: [HttpMethod.GET], integration, authorizer }),
      ...this.api.addRoutes({ path: `${path}/{erasureId}/extension`, methods: [HttpMethod.POST], integration, authorizer }),
    ];
    this.webhookRoutes = routes('/erasures');
    this.portalRoutes = routes('/portal/erasures', iam);

    // Route settings name routes by key; CloudFormation refuses them for a route not created yet.
    this.routeThrottling = { ...DEFAULT_ROUTE_THROTTLING, ...props.routeThrottling };
    (this.stage.node.defaultChild as CfnStage).routeSettings = routeSettingsOf(this.routeThrottling);
    this.stage.node.addDependency(...this.webhookRoutes, ...this.portalRoutes);

    acknowledgeSignedInLambda(
      this.webhookRoutes,
      'Webhook callers (CRMs) authenticate with a Standard Webhooks HMAC signature, which the Lambda verifies before anything else (docs/api.md); API Gateway has no authorizer type for it, and a Lambda authorizer would need the raw body it does not receive.',
    );
  }

  /** The URL callers use, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }

  /** The execute-api ARN pattern a portal principal needs `execute-api:Invoke` on (both portal routes). */
  get portalExecuteArn(): string {
    return Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.api.apiId,
      resourceName: '$default/*/portal/erasures*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
}
