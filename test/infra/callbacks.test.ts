import type { Template } from 'aws-cdk-lib/assertions';
import { CALLBACK_ALLOWED_HOSTS_PATTERN } from '../../infra/constructs/callbacks';
import { parseAllowedHosts } from '../../lambda/callbacks/callback-url';
import { asArray, grantsOf, resourceNamed, statementsOfRole, synthStack } from './stack-template';

/** Callbacks in the stack: the queue and its dead letters, the delivery function and its role, the secret, alarms, outputs. */
describe('callbacks in the stack', () => {
  let template: Template;
  beforeAll(() => {
    template = synthStack();
  });
  const queue = (prefix: string) => resourceNamed(template, 'AWS::SQS::Queue', prefix);
  const alarm = (name: string) => resourceNamed(template, 'AWS::CloudWatch::Alarm', `Monitoring${name}`).resource.Properties;

  it('encrypts both queues, keeps messages 14 days, refuses requests without TLS, and redrives after 5 receives', () => {
    for (const prefix of ['CallbacksQueue', 'CallbacksDeadLetterQueue']) {
      const { id, resource } = queue(prefix);
      expect(resource.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
      const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy')).find((p) =>
        JSON.stringify(p.Properties.Queues).includes(id),
      );
      expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
    expect(queue('CallbacksQueue').resource.Properties).toMatchObject({
      VisibilityTimeout: 30 * 6 + 30,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [queue('CallbacksDeadLetterQueue').id, 'Arn'] }, maxReceiveCount: 5 },
    });
  });

  it('runs the delivery on Node.js 24, arm64, from the callback queue with partial batch failures', () => {
    const fn = resourceNamed(template, 'AWS::Lambda::Function', 'CallbacksDeliveryFunction');
    expect(fn.resource.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 30 });
    // Nothing of Verifik: no base URL, no token.
    expect(Object.keys(fn.resource.Properties.Environment.Variables).sort()).toEqual([
      'AUDIT_TABLE_NAME',
      'CALLBACK_ALLOWED_HOSTS',
      'CALLBACK_DEAD_LETTER_QUEUE_URL',
      'CALLBACK_QUEUE_URL',
      'CALLBACK_SECRET_ARN',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
    ]);
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).find((m) =>
      JSON.stringify(m.Properties.FunctionName).includes(fn.id),
    );
    expect(mapping?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [queue('CallbacksQueue').id, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('allows the delivery exactly what its code calls: no Verifik token, no other secret, no PutItem', () => {
    expect(grantsOf(template, 'CallbacksDeliveryRole')).toEqual({
      'dynamodb:Query': ['AuditTable'],
      'dynamodb:UpdateItem': ['AuditTable'],
      'logs:CreateLogStream': ['CallbacksDeliveryLogs'],
      'logs:PutLogEvents': ['CallbacksDeliveryLogs'],
      'secretsmanager:GetSecretValue': ['CallbacksSigningSecret'],
      'sqs:DeleteMessage': ['CallbacksQueue'],
      'sqs:GetQueueAttributes': ['CallbacksQueue'],
      'sqs:ReceiveMessage': ['CallbacksQueue'],
      'sqs:SendMessage': ['CallbacksDeadLetterQueue', 'CallbacksQueue'],
    });
  });

  it('lets the delivery read only erasure items and write only their callbackDelivery attribute', () => {
    const statements = statementsOfRole(template, 'CallbacksDeliveryRole').filter((s) => s.Effect === 'Allow');
    const of = (action: string) => statements.find((s) => asArray(s.Action).includes(action))!;

    expect(of('dynamodb:Query').Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ERASURE#*'] } });
    expect(of('dynamodb:UpdateItem').Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ERASURE#*'] },
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'callbackDelivery'] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
    });
    expect(asArray(of('dynamodb:UpdateItem').Action)).toEqual(['dynamodb:UpdateItem']);
    const denies = statementsOfRole(template, 'CallbacksDeliveryRole').filter((s) => s.Effect === 'Deny');
    expect(denies.flatMap((s) => asArray(s.Action))).toEqual(
      expect.arrayContaining(['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']),
    );
  });

  it('lets only the delivery read the signing secret, and only the delivery send dead letters', () => {
    for (const role of ['HttpRole', 'InvokeRole', 'WorkerRole']) {
      const grants = grantsOf(template, role);
      expect(grants['secretsmanager:GetSecretValue']).not.toContain('CallbacksSigningSecret');
      expect(grants['sqs:SendMessage']).toEqual(expect.arrayContaining(['CallbacksQueue']));
      expect(grants['sqs:SendMessage']).not.toContain('CallbacksDeadLetterQueue');
    }
  });

  it('generates the signing key like the webhook key, with the same resource policy', () => {
    const { id, resource } = resourceNamed(template, 'AWS::SecretsManager::Secret', 'CallbacksSigningSecret');
    expect(resource.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 32, ExcludePunctuation: true });
    const policy = Object.values(template.findResources('AWS::SecretsManager::ResourcePolicy')).find(
      (p) => JSON.stringify(p.Properties.SecretId) === JSON.stringify({ Ref: id }),
    );
    expect(policy?.Properties).toMatchObject({ BlockPublicPolicy: true });
    expect(policy?.Properties.ResourcePolicy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      'OnlyItsFunctionsAndOperators',
      'FunctionsOnlyReadTheValue',
    ]);
  });

  it('hands the allowlist parameter to the functions that check it, empty by default', () => {
    const parameter = template.toJSON().Parameters.CallbackAllowedHosts;
    expect(parameter).toMatchObject({ Type: 'String', Default: '' });
    for (const name of ['HttpFunction', 'InvokeFunction', 'CallbacksDeliveryFunction']) {
      const variables = resourceNamed(template, 'AWS::Lambda::Function', name).resource.Properties.Environment.Variables;
      expect(variables.CALLBACK_ALLOWED_HOSTS).toEqual({ Ref: 'CallbackAllowedHosts' });
    }
    const worker = resourceNamed(template, 'AWS::Lambda::Function', 'WorkerFunction').resource.Properties.Environment.Variables;
    expect(worker.CALLBACK_ALLOWED_HOSTS).toBeUndefined();
    expect(worker.CALLBACK_QUEUE_URL).toEqual({ Ref: queue('CallbacksQueue').id });
  });

  it.each([
    ['', true],
    ['portal.example.com', true],
    ['portal.example.com,hooks.example.org:8443', true],
    ['portal.example.com, hooks.example.org', false],
    ['https://portal.example.com', false],
    ['portal.example.com/hooks', false],
    ['*.example.com', false],
  ])('takes %j as CallbackAllowedHosts: %s, as the functions would', (value, accepted) => {
    expect(new RegExp(CALLBACK_ALLOWED_HOSTS_PATTERN).test(value)).toBe(accepted);
    if (accepted) expect(() => parseAllowedHosts(value)).not.toThrow();
  });

  it('alarms on the first dead letter, on 30 minutes of failed deliveries and on failed invocations', () => {
    expect(alarm('CallbackDeadLetters')).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue('CallbacksDeadLetterQueue').id, 'QueueName'] } }],
    });
    expect(alarm('CallbackFailures')).toMatchObject({ MetricName: 'CallbackFailures', Threshold: 0, EvaluationPeriods: 6 });
    expect(alarm('CallbackDeliveryErrors')).toMatchObject({ MetricName: 'Errors', Threshold: 0 });
    for (const name of ['CallbackDeadLetters', 'CallbackFailures', 'CallbackDeliveryErrors']) {
      expect(alarm(name).AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) }]);
    }
  });

  it('outputs the signing secret and the dead-letter queue to redrive', () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs.CallbackSecretArn.Value).toEqual({
      Ref: resourceNamed(template, 'AWS::SecretsManager::Secret', 'CallbacksSigningSecret').id,
    });
    expect(outputs.CallbackDeadLetterQueueArn.Value).toEqual({ 'Fn::GetAtt': [queue('CallbacksDeadLetterQueue').id, 'Arn'] });
  });
});
