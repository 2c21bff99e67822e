import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, LogGroup, RetentionDays, type MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from './erasure-function';

export interface ErasureApiProps {
  /** The function behind every route (lambda/handlers/http.ts, payload format 2.0). */
  readonly handler: IFunction;
  /** Steady requests per second for the whole API. @default 25 */
  readonly rateLimit?: number;
  /** Burst above the steady rate. @default 50 */
  readonly burstLimit?: number;
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
 * The HTTP API of design.md. One Lambda serves four routes:
 * - `POST /erasures`, `GET /erasures/{erasureId}`: no API Gateway authorizer; the Lambda checks the
 *   Standard Webhooks signature (a CRM cannot sign requests with AWS credentials);
 * - `POST /portal/erasures`, `GET /portal/erasures/{erasureId}`: AWS IAM (SigV4) authorization.
 * Anything else is answered 404 by API Gateway without reaching the Lambda.
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

    // HTTP APIs publish no throttle metric (a 429 is just a 4xx), so count them from the log.
    this.throttledFilter = this.accessLogs.addMetricFilter('Throttled', {
      filterPattern: FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace: METRICS_NAMESPACE,
      metricName: 'ApiThrottled',
      metricValue: '1',
    });

    const integration = new HttpLambdaIntegration('Erasures', props.handler);
    const iam = new HttpIamAuthorizer();
    const routes = (path: string, authorizer?: HttpIamAuthorizer) => [
      ...this.api.addRoutes({ path, methods: [HttpMethod.POST], integration, authorizer }),
      ...this.api.addRoutes({ path: `${path}/{erasureId}`, methods: [HttpMethod.GET], integration, authorizer }),
    ];
    this.webhookRoutes = routes('/erasures');
    this.portalRoutes = routes('/portal/erasures', iam);

    for (const route of this.webhookRoutes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Webhook callers (CRMs) authenticate with a Standard Webhooks HMAC signature, which the Lambda verifies before anything else (design.md); API Gateway has no authorizer type for it, and a Lambda authorizer would need the raw body it does not receive.',
      });
    }
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
