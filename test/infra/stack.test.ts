import { Match, type Template } from 'aws-cdk-lib/assertions';
import { TTL_ATTRIBUTE } from '../../lambda/audit/keys';
import { AUDIT_TABLE_SCHEMA } from '../../lambda/audit/table-definition';
import { allStatements, asArray, grantsOf, resourceNamed, statementsOfRole, synthStack, type Statement } from './stack-template';

const FUNCTIONS = ['Http', 'Worker', 'Invoke'] as const;
const SECRET_IDS = {
  webhook: 'SecretsWebhookSecret',
  pepper: 'SecretsSubjectRefPepper',
  token: 'SecretsVerifikToken',
  hubspot: 'SecretsHubSpotClientSecret',
};

const actionsOf = (statement: Statement) => asArray(statement.Action);
const allowed = (statements: Statement[]) => statements.filter((s) => s.Effect === 'Allow');

/** Which of the three secrets a role may read, from its GetSecretValue statements. */
function secretsReadBy(template: Template, role: string): string[] {
  const resources = JSON.stringify(
    allowed(statementsOfRole(template, role))
      .filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'))
      .map((s) => s.Resource),
  );
  return Object.entries(SECRET_IDS)
    .filter(([, id]) => resources.includes(`"Ref":"${id}`))
    .map(([name]) => name)
    .sort();
}

/**
 * What each function's code calls, and so all its role may do (lambda/audit/dynamo-audit-store.ts,
 * lambda/queue/sqs-retry-queue.ts, lambda/secrets/secrets.ts; metrics are EMF in the logs):
 * action → resources (logical ids). Nothing else: no ConditionCheckItem, no DescribeSecret, no index
 * Query (no handler queries an index today), no PutItem for the worker, no PutMetricData.
 */
const TOKEN = ['SecretsVerifikToken', 'VerifikTokenSecret'];
const RECEIVER_TABLE_GRANTS = {
  'dynamodb:GetItem': ['AuditTable'],
  'dynamodb:PutItem': ['AuditTable'],
  'dynamodb:Query': ['AuditTable'],
  'dynamodb:UpdateItem': ['AuditTable'],
};
const EXPECTED_GRANTS: Record<(typeof FUNCTIONS)[number], Record<string, string[]>> = {
  Http: {
    ...RECEIVER_TABLE_GRANTS,
    // Certificates of erasure (GET …/certificate): the certificate key, signing only.
    'kms:Sign': ['CertificatesKey'],
    'logs:CreateLogStream': ['HttpLogs'],
    'logs:PutLogEvents': ['HttpLogs'],
    'secretsmanager:GetSecretValue': [
      'SecretsHubSpotClientSecret',
      'SecretsSubjectRefPepper',
      'SecretsWebhookSecret',
      ...TOKEN,
    ].sort(),
    // The retry chain, and the callbacks of erasures that end in the request.
    'sqs:SendMessage': ['CallbacksQueue', 'RetriesRetryQueue'],
  },
  Invoke: {
    ...RECEIVER_TABLE_GRANTS,
    'logs:CreateLogStream': ['InvokeLogs'],
    'logs:PutLogEvents': ['InvokeLogs'],
    'secretsmanager:GetSecretValue': ['SecretsSubjectRefPepper', ...TOKEN].sort(),
    'sqs:SendMessage': ['CallbacksQueue', 'RetriesRetryQueue'],
  },
  Worker: {
    'dynamodb:GetItem': ['AuditTable'],
    'dynamodb:Query': ['AuditTable'],
    'dynamodb:UpdateItem': ['AuditTable'],
    'logs:CreateLogStream': ['WorkerLogs'],
    'logs:PutLogEvents': ['WorkerLogs'],
    'secretsmanager:GetSecretValue': TOKEN,
    'sqs:DeleteMessage': ['RetriesRetryQueue'],
    'sqs:GetQueueAttributes': ['RetriesRetryQueue'],
    'sqs:ReceiveMessage': ['RetriesRetryQueue'],
    'sqs:SendMessage': ['CallbacksQueue', 'RetriesDeadLetterQueue', 'RetriesRetryQueue'],
  },
};

/** Denied explicitly to every function role, on the table and everything under it. */
const DENIED_ON_TABLE = [
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteBackup',
  'dynamodb:DeleteItem',
  'dynamodb:DeleteTable',
  'dynamodb:PartiQLDelete',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:UpdateTable',
  'dynamodb:UpdateTimeToLive',
];

describe('production stack', () => {
  let template: Template;
  beforeAll(() => {
    template = synthStack();
  });

  describe('functions', () => {
    it('paces no function and reserves no concurrency unless verifikRateLimit is set (context; infra/app.ts)', () => {
      for (const resource of Object.values(template.findResources('AWS::Lambda::Function'))) {
        expect(resource.Properties.Environment?.Variables?.VERIFIK_RATE_LIMIT).toBeUndefined();
        expect(resource.Properties.ReservedConcurrentExecutions).toBeUndefined();
      }
    });

    it.each(FUNCTIONS)('runs %s on Node.js 24, arm64, as an ESM bundle, without source-map support at run time', (name) => {
      const { resource } = resourceNamed(template, 'AWS::Lambda::Function', `${name}Function`);

      expect(resource.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        LoggingConfig: { LogFormat: 'JSON' },
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: 'verifik-erasure',
            POWERTOOLS_METRICS_NAMESPACE: 'VerifikErasure',
            VERIFIK_BASE_URL: { Ref: 'VerifikBaseUrl' },
            RETENTION_DAYS: { Ref: 'RetentionDays' },
            AUDIT_TABLE_NAME: { Ref: expect.stringMatching(/^AuditTable/) },
            RETRY_QUEUE_URL: { Ref: expect.stringMatching(/^RetriesRetryQueue/) },
            VERIFIK_TOKEN_SECRET_ARN: {
              'Fn::If': [expect.stringMatching(/^SecretsCreateVerifikToken/), expect.anything(), { Ref: 'VerifikTokenSecret' }],
            },
          },
        },
      });
    });

    it.each(FUNCTIONS)('keeps %s free of --enable-source-maps (it costs cold start; logs carry no stack traces)', (name) => {
      const { resource } = resourceNamed(template, 'AWS::Lambda::Function', `${name}Function`);
      expect(resource.Properties.Environment.Variables.NODE_OPTIONS).toBeUndefined();
    });

    it('names the dead-letter queue to the worker alone, the one function that gives up', () => {
      const variables = (name: string) =>
        resourceNamed(template, 'AWS::Lambda::Function', `${name}Function`).resource.Properties.Environment.Variables;
      expect(variables('Worker').DEAD_LETTER_QUEUE_URL).toEqual({ Ref: expect.stringMatching(/^RetriesDeadLetterQueue/) });
      expect(variables('Http').DEAD_LETTER_QUEUE_URL).toBeUndefined();
      expect(variables('Invoke').DEAD_LETTER_QUEUE_URL).toBeUndefined();
    });

    it('gives each function only the secret variables it reads', () => {
      const variables = (name: string) =>
        Object.keys(
          resourceNamed(template, 'AWS::Lambda::Function', `${name}Function`).resource.Properties.Environment.Variables,
        );

      expect(variables('Http')).toEqual(expect.arrayContaining(['WEBHOOK_SECRET_ARN', 'SUBJECT_REF_PEPPER_SECRET_ARN']));
      expect(variables('Invoke')).toContain('SUBJECT_REF_PEPPER_SECRET_ARN');
      expect(variables('Invoke')).not.toContain('WEBHOOK_SECRET_ARN');
      expect(variables('Worker')).not.toEqual(expect.arrayContaining(['WEBHOOK_SECRET_ARN']));
      expect(variables('Worker')).not.toContain('SUBJECT_REF_PEPPER_SECRET_ARN');
    });

    it('times requests out after 15 s (under API Gateway 30 s) and the worker after 60 s', () => {
      const timeout = (name: string) =>
        resourceNamed(template, 'AWS::Lambda::Function', `${name}Function`).resource.Properties.Timeout;

      expect([timeout('Http'), timeout('Invoke'), timeout('Worker')]).toEqual([15, 15, 60]);
    });

    it('feeds the worker from the retry queue with partial batch failures', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: Match.stringLikeRegexp('^WorkerFunction') },
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RetriesRetryQueue'), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 10,
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    });

    it('keeps logs in a log group per function with a retention', () => {
      for (const name of FUNCTIONS) {
        const { id } = resourceNamed(template, 'AWS::Logs::LogGroup', `${name}Logs`);
        const fn = resourceNamed(template, 'AWS::Lambda::Function', `${name}Function`).resource;
        expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: id });
        expect(template.findResources('AWS::Logs::LogGroup')[id]!.Properties.RetentionInDays).toBe(90);
      }
    });
  });

  describe('least privilege', () => {
    it('never allows deleting audit items, not even through BatchWriteItem or PartiQL', () => {
      const actions = allowed(allStatements(template)).flatMap(actionsOf);

      expect(actions).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^dynamodb:(DeleteItem|BatchWriteItem|PartiQL.*|\*)$/)]),
      );
      expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']),
      );
    });

    it.each(FUNCTIONS)('denies %s deleting audit items or changing the table explicitly', (name) => {
      const deny = statementsOfRole(template, `${name}Role`).find((s) => s.Effect === 'Deny');

      expect(deny).toBeDefined();
      expect(actionsOf(deny!)).toEqual(
        expect.arrayContaining([
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:UpdateTimeToLive',
          'dynamodb:DeleteTable',
        ]),
      );
    });

    it.each(FUNCTIONS)('allows %s exactly the actions its code calls, each on its own resources', (name) => {
      expect(grantsOf(template, `${name}Role`)).toEqual(EXPECTED_GRANTS[name]);
    });

    it.each(FUNCTIONS)('denies %s exactly the deleting and table-changing actions, on the table and its indexes', (name) => {
      const denies = statementsOfRole(template, `${name}Role`).filter((s) => s.Effect === 'Deny');

      expect(denies).toHaveLength(1);
      expect([...actionsOf(denies[0]!)].sort()).toEqual(DENIED_ON_TABLE);
      expect(denies[0]!.Resource).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^AuditTable/), 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^AuditTable/), 'Arn'] }, '/*']] },
      ]);
    });

    it('gives the worker no PutItem: it never records a request', () => {
      expect(Object.keys(grantsOf(template, 'WorkerRole'))).not.toContain('dynamodb:PutItem');
    });

    it('lets only the deadline check query the received-time index, and only the http function the by-person one (GET /subjects)', () => {
      const indexQueries = allowed(allStatements(template))
        .filter((s) => actionsOf(s).includes('dynamodb:Query'))
        .flatMap((s) => asArray(s.Resource))
        .map((resource) => JSON.stringify(resource))
        .filter((resource) => resource.includes('/index/'));

      expect(indexQueries).toHaveLength(2);
      expect(indexQueries.filter((resource) => resource.includes('/index/byReceivedAt"'))).toHaveLength(1);
      expect(indexQueries.filter((resource) => resource.includes('/index/byPerson"'))).toHaveLength(1);
      expect(JSON.stringify(statementsOfRole(template, 'ClockDeadlinesRole'))).toContain('/index/byReceivedAt');
      expect(JSON.stringify(statementsOfRole(template, 'HttpRole'))).toContain('/index/byPerson"');
      for (const role of ['InvokeRole', 'WorkerRole'])
        expect(JSON.stringify(statementsOfRole(template, role))).not.toContain('/index/');
    });

    it('allows no wildcard actions and no "*" resources', () => {
      for (const statement of allowed(allStatements(template))) {
        expect(actionsOf(statement).filter((action) => action.includes('*'))).toEqual([]);
        expect(JSON.stringify(statement.Resource)).not.toMatch(/\*/);
      }
    });

    it('lets each function read only its own secrets', () => {
      expect(secretsReadBy(template, 'HttpRole')).toEqual(['hubspot', 'pepper', 'token', 'webhook']);
      expect(secretsReadBy(template, 'InvokeRole')).toEqual(['pepper', 'token']);
      expect(secretsReadBy(template, 'WorkerRole')).toEqual(['token']);
    });

    it('lets only the worker send to the dead-letter queue', () => {
      const sendsToDeadLetters = (role: string) =>
        allowed(statementsOfRole(template, role)).some(
          (s) => actionsOf(s).includes('sqs:SendMessage') && JSON.stringify(s.Resource).includes('RetriesDeadLetterQueue'),
        );

      expect(FUNCTIONS.filter((name) => sendsToDeadLetters(`${name}Role`))).toEqual(['Worker']);
    });

    it('gives each function a role of its own without AWS managed policies', () => {
      const roles = Object.values(template.findResources('AWS::IAM::Role'));

      for (const role of roles) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      const functionRoles = FUNCTIONS.map(
        (name) => resourceNamed(template, 'AWS::Lambda::Function', `${name}Function`).resource.Properties.Role['Fn::GetAtt'][0],
      );
      expect(new Set(functionRoles).size).toBe(3);
    });
  });

  describe('audit table', () => {
    it('has the keys and indexes of the local stack and the TTL attribute', () => {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: AUDIT_TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
          { AttributeName: AUDIT_TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: AUDIT_TABLE_SCHEMA.indexes.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      });
    });

    it('has point-in-time recovery and deletion protection, and survives stack deletion', () => {
      template.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          Replicas: [
            Match.objectLike({
              DeletionProtectionEnabled: true,
              PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            }),
          ],
        }),
      });
    });

    it('is encrypted with an AWS-owned key by default', () => {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { SSESpecification: { SSEEnabled: false } });
      // Two KMS keys, both asymmetric and for signing only: the certificate key and the archive's
      // (test/infra/audit-archive.test.ts). No key encrypts the table.
      const keys = Object.values(template.findResources('AWS::KMS::Key'));
      expect(keys.map((key) => [key.Properties.KeySpec, key.Properties.KeyUsage])).toEqual([
        ['ECC_NIST_P256', 'SIGN_VERIFY'],
        ['ECC_NIST_P256', 'SIGN_VERIFY'],
      ]);
    });

    it('can be encrypted with a rotated customer-managed key the functions use only through DynamoDB', () => {
      const cmk = synthStack({ auditTableEncryption: 'customer-managed', env: { account: '123456789012', region: 'eu-west-1' } });

      cmk.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ EnableKeyRotation: true }) });
      cmk.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: Match.anyValue() } })],
      });
      const kms = allowed(statementsOfRole(cmk, 'HttpRole')).find((s) => actionsOf(s).includes('kms:Decrypt'));
      expect(kms?.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } });
    });
  });

  describe('retry queues', () => {
    it('encrypts every queue (retry, dead letters, callbacks and their dead letters, archiver dead letters), keeps messages 14 days and refuses requests without TLS', () => {
      const queues = template.findResources('AWS::SQS::Queue');

      expect(Object.keys(queues)).toHaveLength(5);
      for (const queue of Object.values(queues)) {
        expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      }
      const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
      expect(policies).toHaveLength(5);
      for (const policy of policies) {
        expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
      }
    });

    it('redrives to the dead-letter queue after 5 receives, with visibility over six worker timeouts', () => {
      const { resource } = resourceNamed(template, 'AWS::SQS::Queue', 'RetriesRetryQueue');

      expect(resource.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^RetriesDeadLetterQueue/), 'Arn'] },
        maxReceiveCount: 5,
      });
      expect(resource.Properties.VisibilityTimeout).toBeGreaterThan(6 * 60);
    });
  });

  describe('secrets', () => {
    it('generates the webhook key as 32 alphanumerics (base64 of 24 bytes) and a 64-character pepper', () => {
      expect(
        resourceNamed(template, 'AWS::SecretsManager::Secret', SECRET_IDS.webhook).resource.Properties.GenerateSecretString,
      ).toEqual({
        PasswordLength: 32,
        ExcludePunctuation: true,
        IncludeSpace: false,
      });
      const pepper = resourceNamed(template, 'AWS::SecretsManager::Secret', SECRET_IDS.pepper).resource;
      expect(pepper.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
      expect(pepper.DeletionPolicy).toBe('Retain');
    });

    it('creates an empty Verifik token secret only when no existing one is named', () => {
      const { resource } = resourceNamed(template, 'AWS::SecretsManager::Secret', SECRET_IDS.token);

      expect(resource.Condition).toMatch(/^SecretsCreateVerifikToken/);
      expect(resource.Properties.GenerateSecretString).toBeUndefined();
      expect(resource.Properties.SecretString).toBeUndefined();
      expect(template.toJSON().Conditions[resource.Condition]).toEqual({ 'Fn::Equals': [{ Ref: 'VerifikTokenSecret' }, ''] });
    });
  });

  describe('API', () => {
    it('is an HTTP API with payload 2.0 Lambda integration', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
      });
    });

    it('leaves webhook routes to the signature check and puts IAM on portal routes', () => {
      const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((route) => [
        route.Properties.RouteKey,
        route.Properties.AuthorizationType,
      ]);

      expect(Object.fromEntries(routes)).toEqual({
        'POST /erasures': 'NONE',
        'GET /erasures/{erasureId}': 'NONE',
        'GET /erasures/{erasureId}/certificate': 'NONE',
        'POST /erasures/{erasureId}/extension': 'NONE',
        'POST /portal/erasures': 'AWS_IAM',
        'GET /portal/erasures/{erasureId}': 'AWS_IAM',
        'GET /portal/erasures/{erasureId}/certificate': 'AWS_IAM',
        'POST /portal/erasures/{erasureId}/extension': 'AWS_IAM',
        'PUT /subjects/{source}/{subjectId}/persons/{personId}': 'NONE',
        'GET /subjects/{source}/{subjectId}': 'NONE',
        'POST /hooks/hubspot': 'NONE',
        'PUT /portal/subjects/{source}/{subjectId}/persons/{personId}': 'AWS_IAM',
        'GET /portal/subjects/{source}/{subjectId}': 'AWS_IAM',
      });
    });

    it('throttles the stage and writes JSON access logs without headers', () => {
      const { resource } = resourceNamed(template, 'AWS::ApiGatewayV2::Stage', 'ApiDefaultStage');

      expect(resource.Properties).toMatchObject({
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 },
        AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [expect.stringMatching(/^ApiAccessLogs/), 'Arn'] } },
      });
      const format = JSON.parse(resource.Properties.AccessLogSettings.Format);
      expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', routeKey: '$context.routeKey' });
      expect(resource.Properties.AccessLogSettings.Format).not.toMatch(/header|body/i);
    });

    it('throttles each route with limits of its own, so a flood of unsigned webhooks cannot use up the portal routes', () => {
      const { resource } = resourceNamed(template, 'AWS::ApiGatewayV2::Stage', 'ApiDefaultStage');
      const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
        (route) => route.Properties.RouteKey,
      );

      expect(Object.keys(resource.Properties.RouteSettings).sort()).toEqual([...routeKeys].sort());
      expect(resource.Properties.RouteSettings).toEqual({
        'POST /erasures': { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 },
        'GET /erasures/{erasureId}': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
        'GET /erasures/{erasureId}/certificate': { ThrottlingRateLimit: 2, ThrottlingBurstLimit: 5 },
        'POST /erasures/{erasureId}/extension': { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 5 },
        'POST /portal/erasures': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
        'GET /portal/erasures/{erasureId}': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
        'GET /portal/erasures/{erasureId}/certificate': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
        'POST /portal/erasures/{erasureId}/extension': { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 5 },
        'PUT /subjects/{source}/{subjectId}/persons/{personId}': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
        'GET /subjects/{source}/{subjectId}': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
        'PUT /portal/subjects/{source}/{subjectId}/persons/{personId}': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
        'GET /portal/subjects/{source}/{subjectId}': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
        'POST /hooks/hubspot': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      });
    });

    it('creates the stage after its routes (CloudFormation refuses route settings for a route it does not know yet)', () => {
      const { resource } = resourceNamed(template, 'AWS::ApiGatewayV2::Stage', 'ApiDefaultStage');
      const routeIds = Object.keys(template.findResources('AWS::ApiGatewayV2::Route'));

      expect(routeIds).toHaveLength(13);
      expect(resource.DependsOn).toEqual(expect.arrayContaining(routeIds));
    });

    it("changes one route's limits without touching the others", () => {
      const custom = synthStack({ apiRouteThrottling: { 'POST /portal/erasures': { rateLimit: 2, burstLimit: 4 } } });
      const settings = resourceNamed(custom, 'AWS::ApiGatewayV2::Stage', 'ApiDefaultStage').resource.Properties.RouteSettings;

      expect(settings['POST /portal/erasures']).toEqual({ ThrottlingRateLimit: 2, ThrottlingBurstLimit: 4 });
      expect(settings['POST /erasures']).toEqual({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 });
    });

    it('counts throttled (429) answers from the access log', () => {
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        FilterPattern: '{ $.status = "429" }',
        MetricTransformations: [Match.objectLike({ MetricNamespace: 'VerifikErasure', MetricName: 'ApiThrottled' })],
      });
    });

    it('lets only this API invoke the http function, whose portal routes trust the IAM identity in the request context', () => {
      const httpFunction = resourceNamed(template, 'AWS::Lambda::Function', 'HttpFunction').id;
      const apiId = resourceNamed(template, 'AWS::ApiGatewayV2::Api', 'Api').id;

      const permissions = Object.values(template.findResources('AWS::Lambda::Permission'));
      const ofHttp = permissions.filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
      // One per route: the record, certificate and extension routes, webhook and portal; the subject
      // routes, webhook and portal, and the HubSpot hook.
      expect(ofHttp).toHaveLength(13);
      // The others: the token rotation's (Secrets Manager and its check schedule: see 'token rotation'), the
      // hourly schedule of the archiver (test/infra/audit-archive.test.ts) and the deadline check's
      // (test/infra/statutory-clock.test.ts).
      expect(
        permissions
          .filter((p) => !ofHttp.includes(p))
          .map((p) => [p.Properties.FunctionName['Fn::GetAtt'][0], p.Properties.Principal])
          .sort(),
      ).toEqual(
        [
          [resourceNamed(template, 'AWS::Lambda::Function', 'ArchiveArchiverFunction').id, 'events.amazonaws.com'],
          [resourceNamed(template, 'AWS::Lambda::Function', 'ClockDeadlinesFunction').id, 'events.amazonaws.com'],
          [resourceNamed(template, 'AWS::Lambda::Function', 'TokenRotationFunction').id, 'events.amazonaws.com'],
          [resourceNamed(template, 'AWS::Lambda::Function', 'TokenRotationFunction').id, 'secretsmanager.amazonaws.com'],
        ].sort(),
      );
      for (const permission of ofHttp) {
        expect(permission.Properties).toMatchObject({
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [httpFunction, 'Arn'] },
          Principal: 'apigateway.amazonaws.com',
        });
        const sourceArn = JSON.stringify(permission.Properties.SourceArn);
        expect(sourceArn).toContain(`{"Ref":"${apiId}"}`);
        expect(sourceArn).toContain('{"Ref":"AWS::AccountId"}');
      }
      // No role of the stack may invoke a function at all.
      expect(
        allowed(allStatements(template))
          .flatMap(actionsOf)
          .filter((action) => action.startsWith('lambda:')),
      ).toEqual([]);
    });

    it("lets API Gateway invoke the function only on the routes' paths", () => {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
        (p) => p.Properties.FunctionName['Fn::GetAtt'][0] === resourceNamed(template, 'AWS::Lambda::Function', 'HttpFunction').id,
      );

      expect(permissions).toHaveLength(13);
      for (const permission of permissions) {
        expect(permission.Properties.Principal).toBe('apigateway.amazonaws.com');
        // HttpLambdaIntegration scopes each permission to the route's path (any stage and method).
        expect(JSON.stringify(permission.Properties.SourceArn)).toMatch(
          /"\/\*\/\*\/((portal\/)?erasures(\/\{erasureId\}(\/certificate|\/extension)?)?|(portal\/)?subjects\/\{source\}\/\{subjectId\}(\/persons\/\{personId\})?|hooks\/hubspot)"/,
        );
      }
    });
  });

  describe('alarms', () => {
    const alarmOn = (metricName: string) =>
      Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((alarm) =>
        JSON.stringify(alarm.Properties).includes(`"${metricName}"`),
      );

    it.each([
      ['dead letters', 'ApproximateNumberOfMessagesVisible'],
      ['worker errors', 'Errors'],
      ['Verifik 401/403', 'VendorAuthFailures'],
      ['Verifik 404 without PERSON_NOT_FOUND', 'VerifikUnexpectedNotFound'],
      ['Verifik 5xx', 'VerifikServerErrors'],
      ['API 5xx answers', '5xx'],
      ['API throttling', 'ApiThrottled'],
      ['Lambda throttling', 'Throttles'],
      ['a stalled retry queue', 'ApproximateAgeOfOldestMessage'],
      ['erasures pending too long', 'PendingAge'],
    ])('alarms on %s (%s) through the alarm topic', (_, metricName) => {
      const alarm = alarmOn(metricName);

      expect(alarm).toBeDefined();
      expect(alarm!.Properties).toMatchObject({
        AlarmActions: [{ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) }],
        TreatMissingData: 'notBreaching',
      });
    });

    it('watches ApiThrottled exactly as the access log publishes it (no dimension), so the alarm can fire', () => {
      const alarm = alarmOn('ApiThrottled')!;
      const filter = Object.values(template.findResources('AWS::Logs::MetricFilter')).find((f) =>
        JSON.stringify(f.Properties).includes('"ApiThrottled"'),
      )!;
      const published = filter.Properties.MetricTransformations[0];

      expect(alarm.Properties.Namespace).toBe(published.MetricNamespace);
      expect(published.Dimensions ?? []).toEqual([]);
      expect(alarm.Properties.Dimensions ?? []).toEqual([]);
    });

    it('alarms on the first Verifik 404 without PERSON_NOT_FOUND (a wrong base URL or a proxy), in the 5-minute period it happens', () => {
      const alarm = alarmOn('VerifikUnexpectedNotFound')!;

      expect(alarm.Properties).toMatchObject({
        Namespace: 'VerifikErasure',
        MetricName: 'VerifikUnexpectedNotFound',
        Dimensions: [{ Name: 'service', Value: 'verifik-erasure' }],
        Statistic: 'Sum',
        Period: 300,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
        OKActions: [{ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) }],
      });
    });

    it('uses the PendingAlarmHours parameter as the pending threshold', () => {
      expect(alarmOn('PendingAge')!.Properties.Threshold).toEqual({ Ref: 'PendingAlarmHours' });
    });

    it('mails the alarm topic only when an address is given, over TLS only', () => {
      const { resource } = resourceNamed(template, 'AWS::SNS::Subscription', 'MonitoringAlarmEmail');

      expect(resource.Properties).toMatchObject({ Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' } });
      expect(template.toJSON().Conditions[resource.Condition]).toEqual({
        'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }],
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('has a dashboard of outcomes, latency and retries', () => {
      const { resource } = resourceNamed(template, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard');
      const body = JSON.stringify(resource.Properties.DashboardBody);

      for (const metric of [
        'Erased',
        'AlreadyErased',
        'Failed',
        'Pending',
        'Retries',
        'DeadLettered',
        'VerifikUnexpectedNotFound',
        'Latency',
      ]) {
        expect(body).toContain(`\\"${metric}\\"`);
      }
    });
  });

  describe('parameters and outputs', () => {
    it('lists the three function roles for the policy of a token secret the stack does not own', () => {
      const value = template.toJSON().Outputs.VerifikTokenReaderRoleArns.Value;

      expect(value).toEqual({
        'Fn::Join': [
          ',',
          ['Http', 'Invoke', 'Worker'].map((name) => ({
            'Fn::GetAtt': [resourceNamed(template, 'AWS::IAM::Role', `${name}Role`).id, 'Arn'],
          })),
        ],
      });
    });

    it('takes the Verifik URL, token secret, alarm e-mail, retention and pending threshold with defaults', () => {
      const parameters = template.toJSON().Parameters;

      expect(parameters.VerifikBaseUrl).toMatchObject({ Type: 'String', Default: 'https://api.verifik.co' });
      expect(parameters.VerifikTokenSecret).toMatchObject({ Type: 'String', Default: '' });
      expect(parameters.AlarmEmail).toMatchObject({ Type: 'String', Default: '' });
      expect(parameters.RetentionDays).toMatchObject({ Type: 'Number', Default: 2192 });
      expect(parameters.PendingAlarmHours).toMatchObject({ Type: 'Number', Default: 6 });
    });

    describe('VerifikBaseUrl accepts only a bare https origin (the client adds /v2/...)', () => {
      const allowed = () => new RegExp(template.toJSON().Parameters.VerifikBaseUrl.AllowedPattern as string);

      it.each(['https://api.verifik.co', 'https://api.verifik.co:8443', 'https://10.0.0.7', 'https://verifik-proxy.internal:1'])(
        'accepts %s',
        (url) => {
          expect(allowed().test(url)).toBe(true);
        },
      );

      it.each([
        ['a path (the /v2 would be doubled)', 'https://api.verifik.co/v2'],
        ['a bare trailing slash', 'https://api.verifik.co/'],
        ['a query', 'https://x?collection=c1'],
        ['a fragment', 'https://x#f'],
        ['plain http', 'http://api.verifik.co'],
        ['user info', 'https://user:pass@api.verifik.co'],
        ['an empty port', 'https://api.verifik.co:'],
        ['port 0', 'https://api.verifik.co:0'],
        ['a port above 65535', 'https://api.verifik.co:65536'],
        ['white space', 'https://api.verifik.co '],
        ['another scheme', 'ftp://api.verifik.co'],
        ['no host', 'https://'],
      ])('refuses %s: %s', (_, url) => {
        expect(allowed().test(url)).toBe(false);
      });

      it('accepts its own default and says what it wants', () => {
        const parameter = template.toJSON().Parameters.VerifikBaseUrl;

        expect(allowed().test(parameter.Default)).toBe(true);
        expect(parameter.ConstraintDescription).toMatch(/https:\/\/host:port/);
      });
    });

    it('outputs what operators and portals need', () => {
      const outputs = Object.keys(template.toJSON().Outputs);

      expect(outputs).toEqual(
        expect.arrayContaining([
          'ApiUrl',
          'PortalExecuteApiArn',
          'InvokeFunctionArn',
          'InvokeFunctionName',
          'WebhookSecretArn',
          'SubjectRefPepperSecretArn',
          'VerifikTokenSecretId',
          'VerifikTokenReaderRoleArns',
          'AuditTableName',
          'RetryQueueUrl',
          'RetryQueueArn',
          'DeadLetterQueueUrl',
          'DeadLetterQueueArn',
          'AlarmTopicArn',
          'HttpFunctionArn',
          'VerifikTokenRotationRoleArn',
          'TokenRotationFunctionName',
        ]),
      );
    });
  });

  describe('token rotation', () => {
    const rotationFunction = () => resourceNamed(template, 'AWS::Lambda::Function', 'TokenRotationFunction');

    it('runs the rotation handler on Node.js 24, arm64, naming the token secret and Verifik', () => {
      expect(rotationFunction().resource.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Environment: {
          Variables: {
            VERIFIK_BASE_URL: { Ref: 'VerifikBaseUrl' },
            VERIFIK_TOKEN_SECRET_ARN: {
              'Fn::If': [expect.stringMatching(/^SecretsCreateVerifikToken/), expect.anything(), { Ref: 'VerifikTokenSecret' }],
            },
          },
        },
      });
    });

    it('lets the rotation role rotate the token secret and nothing else', () => {
      expect(grantsOf(template, 'TokenRotationFunctionRole')).toEqual({
        'logs:CreateLogStream': ['TokenRotationFunctionLogs'],
        'logs:PutLogEvents': ['TokenRotationFunctionLogs'],
        'secretsmanager:DescribeSecret': TOKEN,
        'secretsmanager:GetSecretValue': TOKEN,
        'secretsmanager:PutSecretValue': TOKEN,
        'secretsmanager:UpdateSecretVersionStage': TOKEN,
      });
    });

    it('gives no other role of the stack a way to write any secret', () => {
      const writes = ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage', 'secretsmanager:UpdateSecret'];
      for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
        if (id.startsWith('TokenRotationFunctionRole')) continue;
        const statements = allowed(statementsOfRole(template, id));
        expect([id, statements.flatMap(actionsOf).filter((action) => writes.includes(action))]).toEqual([id, []]);
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it('rotates whichever token secret is used, every TokenRotationDays (default 7), not at deploy time', () => {
      const schedules = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'));
      expect(schedules).toHaveLength(2);
      const created = schedules.find((r) => JSON.stringify(r.Properties.SecretId).includes('SecretsVerifikToken'))!;
      const passedIn = schedules.find((r) => r.Properties.SecretId.Ref === 'VerifikTokenSecret')!;
      expect(created.Condition).toMatch(/^SecretsCreateVerifikToken/);
      expect(passedIn.Condition).toMatch(/^TokenRotationTokenSecretPassedIn/);
      for (const schedule of [created, passedIn]) {
        expect(schedule.Properties).toMatchObject({
          RotationLambdaARN: { 'Fn::GetAtt': [rotationFunction().id, 'Arn'] },
          RotationRules: { AutomaticallyAfterDays: { Ref: 'TokenRotationDays' } },
          RotateImmediatelyOnUpdate: false,
        });
      }
      expect(template.toJSON().Parameters.TokenRotationDays).toMatchObject({
        Type: 'Number',
        Default: 7,
        MinValue: 1,
        MaxValue: 20,
      });
    });

    it('lets Secrets Manager of this account invoke it (for the created secret: that secret only), and the check schedule', () => {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
        (p) => p.Properties.FunctionName['Fn::GetAtt'][0] === rotationFunction().id,
      );
      const bySecretsManager = permissions.find((p) => p.Properties.Principal === 'secretsmanager.amazonaws.com')!;
      expect(bySecretsManager.Properties).toMatchObject({
        SourceAccount: { Ref: 'AWS::AccountId' },
        SourceArn: {
          'Fn::If': [
            expect.stringMatching(/^SecretsCreateVerifikToken/),
            { Ref: expect.stringMatching(/^SecretsVerifikToken/) },
            { Ref: 'AWS::NoValue' },
          ],
        },
      });
      const byRule = permissions.find((p) => p.Properties.Principal === 'events.amazonaws.com')!;
      expect(byRule.Properties.SourceArn).toEqual({
        'Fn::GetAtt': [resourceNamed(template, 'AWS::Events::Rule', 'TokenRotationCheckSchedule').id, 'Arn'],
      });
    });

    it('checks the token every 6 hours', () => {
      const rule = resourceNamed(template, 'AWS::Events::Rule', 'TokenRotationCheckSchedule').resource;
      expect(rule.Properties.ScheduleExpression).toBe('rate(6 hours)');
      expect(rule.Properties.Targets).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [rotationFunction().id, 'Arn'] },
          Input: JSON.stringify({ action: 'check-token' }),
        }),
      ]);
    });

    it('alarms below 7 days left (or a day without a figure), and on a second failed rotation step in a day', () => {
      const alarm = (id: string) => resourceNamed(template, 'AWS::CloudWatch::Alarm', `Monitoring${id}`).resource.Properties;
      expect(alarm('VerifikTokenExpiring')).toMatchObject({
        MetricName: 'VerifikTokenDaysLeft',
        Namespace: 'VerifikErasure',
        Dimensions: [{ Name: 'service', Value: 'verifik-erasure' }],
        Statistic: 'Maximum',
        Period: 86_400,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 7,
        TreatMissingData: 'breaching',
      });
      expect(alarm('VerifikTokenExpiring').AlarmDescription).toMatch(/issue a new token and put it in the token secret/);
      expect(alarm('TokenRotationFailed')).toMatchObject({
        MetricName: 'TokenRotationFailed',
        Statistic: 'Sum',
        Period: 86_400,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    });
  });
});
