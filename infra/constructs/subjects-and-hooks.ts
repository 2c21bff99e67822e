import { ArnFormat, CfnOutput, CfnParameter, Stack } from 'aws-cdk-lib';
import { type CfnStage, HttpMethod, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { INDEX_BY_PERSON } from '../../lambda/audit/keys';
import type { AuditTable } from './audit-table';
import { acknowledgeSignedInLambda, routeSettingsOf, type ErasureApi, type RouteThrottle } from './erasure-api';
import type { ErasureFunction } from './erasure-function';
import type { ServiceSecrets } from './service-secrets';

/** The routes this construct adds to the API, as API Gateway names them. */
export type SubjectRouteKey =
  | 'PUT /subjects/{source}/{subjectId}/persons/{personId}'
  | 'GET /subjects/{source}/{subjectId}'
  | 'PUT /portal/subjects/{source}/{subjectId}/persons/{personId}'
  | 'GET /portal/subjects/{source}/{subjectId}'
  | 'POST /hooks/hubspot';

/**
 * Each route's bucket. Links come from enrolment, a person at a time: a privacy tool's pace. HubSpot
 * sends batches of up to 100 events, 10 requests at once at most by default (its app setting).
 */
export const SUBJECT_ROUTE_THROTTLING: Readonly<Record<SubjectRouteKey, RouteThrottle>> = {
  'PUT /subjects/{source}/{subjectId}/persons/{personId}': { rateLimit: 10, burstLimit: 20 },
  'GET /subjects/{source}/{subjectId}': { rateLimit: 5, burstLimit: 10 },
  'PUT /portal/subjects/{source}/{subjectId}/persons/{personId}': { rateLimit: 10, burstLimit: 20 },
  'GET /portal/subjects/{source}/{subjectId}': { rateLimit: 5, burstLimit: 10 },
  'POST /hooks/hubspot': { rateLimit: 10, burstLimit: 20 },
};

export interface SubjectsAndHooksProps {
  readonly api: ErasureApi;
  /** The HTTP API's function: it serves these routes too. */
  readonly http: ErasureFunction;
  readonly audit: AuditTable;
  readonly secrets: ServiceSecrets;
}

/**
 * Subjects (`/subjects/…`, `/portal/subjects/…`) and the CRM hooks (`POST /hooks/hubspot`) on the
 * service's HTTP API: their routes with limits of their own, what the HTTP function needs for them
 * (the erasures of a subject are found on the audit table's `byPerson` index), HubSpot's two
 * parameters, and the outputs an operator hands to HubSpot and to portal principals. The HubSpot
 * client secret is one of ServiceSecrets' (read by the function lambda/config.ts says reads it).
 */
export class SubjectsAndHooks extends Construct {
  readonly webhookRoutes: HttpRoute[];
  readonly portalRoutes: HttpRoute[];

  constructor(scope: Construct, id: string, props: SubjectsAndHooksProps) {
    super(scope, id);
    const { api, http, audit, secrets } = props;

    const contactDeletion = new CfnParameter(this, 'HubSpotContactDeletion', {
      type: 'String',
      default: 'false',
      allowedValues: ['true', 'false'],
      description:
        "true: HubSpot's contact.deletion erases the contact's linked persons too, not only contact.privacyDeletion (a GDPR delete in HubSpot).",
    });
    contactDeletion.overrideLogicalId('HubSpotContactDeletion');
    const webhookUrl = new CfnParameter(this, 'HubSpotWebhookUrl', {
      type: 'String',
      default: '',
      allowedPattern: '^$|^https://[^\\s]+$',
      description:
        "The hook's URL as set in HubSpot, when it is not {ApiUrl}hooks/hubspot (a custom domain or a proxy): HubSpot's signature covers it. Empty: API Gateway's URL.",
    });
    webhookUrl.overrideLogicalId('HubSpotWebhookUrl');
    http.addEnvironment('HUBSPOT_CONTACT_DELETION', contactDeletion.valueAsString);
    http.addEnvironment('HUBSPOT_WEBHOOK_URL', webhookUrl.valueAsString);
    // GET /subjects/…: the erasures that named a subject are on the byPerson index (lambda/audit/keys.ts).
    http.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:Query'], resources: [audit.indexArn(INDEX_BY_PERSON)] }),
    );

    const integration = new HttpLambdaIntegration('SubjectsAndHooks', http.function);
    const iam = new HttpIamAuthorizer();
    const add = (path: string, method: HttpMethod, authorizer?: HttpIamAuthorizer) =>
      api.api.addRoutes({ path, methods: [method], integration, authorizer });
    this.webhookRoutes = [
      ...add('/subjects/{source}/{subjectId}/persons/{personId}', HttpMethod.PUT),
      ...add('/subjects/{source}/{subjectId}', HttpMethod.GET),
      ...add('/hooks/hubspot', HttpMethod.POST),
    ];
    this.portalRoutes = [
      ...add('/portal/subjects/{source}/{subjectId}/persons/{personId}', HttpMethod.PUT, iam),
      ...add('/portal/subjects/{source}/{subjectId}', HttpMethod.GET, iam),
    ];

    // The stage's route settings are one property: these routes' buckets join the API's own.
    const stage = api.stage.node.defaultChild as CfnStage;
    stage.routeSettings = { ...(stage.routeSettings as Record<string, unknown>), ...routeSettingsOf(SUBJECT_ROUTE_THROTTLING) };
    api.stage.node.addDependency(...this.webhookRoutes, ...this.portalRoutes);

    acknowledgeSignedInLambda(
      this.webhookRoutes,
      "Subject routes are signed like the erasure webhooks (Standard Webhooks HMAC over the request line), the HubSpot hook with HubSpot's v3 HMAC over method, URI, body and timestamp; the Lambda verifies them before anything else, which no API Gateway authorizer type can.",
    );

    const output = (outputId: string, value: string, description: string) =>
      new CfnOutput(Stack.of(this), outputId, { value, description });
    output(
      'HubSpotWebhookUrl',
      `${api.url}hooks/hubspot`,
      "Target URL of the HubSpot app's webhooks (unless HubSpotWebhookUrl names another).",
    );
    output('HubSpotClientSecretArn', secrets.hubspotClientSecret.secretArn, "Put the HubSpot app's client secret here.");
    output(
      'PortalSubjectsExecuteApiArn',
      Stack.of(this).formatArn({
        service: 'execute-api',
        resource: api.api.apiId,
        resourceName: '$default/*/portal/subjects/*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
      'Grant portal principals execute-api:Invoke on this ARN to link and read subjects.',
    );
  }
}
