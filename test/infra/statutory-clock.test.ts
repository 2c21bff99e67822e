import type { Template } from 'aws-cdk-lib/assertions';
import { grantsOf, resourceNamed, statementsOfRole, synthStack } from './stack-template';

/** The hourly deadline check, its schedule, grants and alarms, and the VerifyAfterDelete switch. */
describe('statutory clock and verified absence in the stack', () => {
  let template: Template;
  beforeAll(() => {
    template = synthStack();
  });
  const alarm = (suffix: string) => resourceNamed(template, 'AWS::CloudWatch::Alarm', `Monitoring${suffix}`);
  const alarmOn = (metricName: string) =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) => a.Properties.MetricName === metricName);

  it('runs the deadline check hourly on an EventBridge schedule, and lets only that rule invoke it', () => {
    const fn = resourceNamed(template, 'AWS::Lambda::Function', 'ClockDeadlinesFunction');
    const rule = resourceNamed(template, 'AWS::Events::Rule', 'ClockSchedule');

    expect(rule.resource.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [fn.id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } }],
    });
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
      (p) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [fn.id, 'Arn'] }),
    );
    expect(permissions.map((p) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [fn.id, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [rule.id, 'Arn'] },
      },
    ]);
  });

  it('gives the deadline check Node.js 24 on arm64, the table name, the retry queue and nothing of Verifik or the secrets', () => {
    const { resource } = resourceNamed(template, 'AWS::Lambda::Function', 'ClockDeadlinesFunction');
    const variables = resource.Properties.Environment.Variables;

    expect(resource.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 120 });
    expect(Object.keys(variables).sort()).toEqual([
      'AUDIT_TABLE_NAME',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'RETRY_QUEUE_URL',
    ]);
  });

  it('lets the deadline check only Query the table and its received-time index, send to the retry queue, and write its own logs', () => {
    expect(grantsOf(template, 'ClockDeadlinesRole')).toEqual({
      'dynamodb:Query': [expect.stringMatching(/^AuditTable/)],
      'sqs:SendMessage': [expect.stringMatching(/^RetriesRetryQueue/)],
      'logs:CreateLogStream': [expect.stringMatching(/^ClockDeadlinesLogs/)],
      'logs:PutLogEvents': [expect.stringMatching(/^ClockDeadlinesLogs/)],
    });
    const query = statementsOfRole(template, 'ClockDeadlinesRole').filter(
      (s) => s.Effect === 'Allow' && JSON.stringify(s.Action).includes('dynamodb:Query'),
    );
    expect(JSON.stringify(query.map((s) => s.Resource))).toContain('/index/byReceivedAt');
    expect(JSON.stringify(query.map((s) => s.Resource))).not.toContain('/index/byPerson');
    expect(grantsOf(template, 'ClockDeadlinesRole', 'Deny')['dynamodb:DeleteItem']).toBeDefined();
  });

  it.each([
    ['ErasuresNearDue', 'ErasuresNearDue'],
    ['ErasuresOverdue', 'ErasuresOverdue'],
  ])('alarms on %s, the latest hourly count above zero, through the alarm topic', (id, metricName) => {
    expect(alarm(id).resource.Properties).toMatchObject({
      Namespace: 'VerifikErasure',
      MetricName: metricName,
      Dimensions: [{ Name: 'service', Value: 'verifik-erasure' }],
      Statistic: 'Maximum',
      Period: 3600,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [{ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) }],
      OKActions: [{ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) }],
    });
  });

  it('alarms when the deadline check stops running (missing data breaches) or fails', () => {
    const fn = resourceNamed(template, 'AWS::Lambda::Function', 'ClockDeadlinesFunction').id;

    expect(alarm('DeadlineCheckNotRunning').resource.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
      Period: 10800,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    expect(alarm('DeadlineCheckErrors').resource.Properties).toMatchObject({
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
      Threshold: 0,
    });
  });

  it('alarms on the first person Verifik still holds after a delete, in the 5-minute period it happens', () => {
    expect(alarmOn('VerifikPersonStillPresent')!.Properties).toMatchObject({
      Namespace: 'VerifikErasure',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) }],
    });
  });

  it('takes VerifyAfterDelete as a parameter (true by default) and hands it to every function that calls Verifik', () => {
    expect(template.toJSON().Parameters.VerifyAfterDelete).toMatchObject({
      Type: 'String',
      Default: 'true',
      AllowedValues: ['true', 'false'],
    });
    for (const name of ['Http', 'Invoke', 'Worker']) {
      const { resource } = resourceNamed(template, 'AWS::Lambda::Function', `${name}Function`);
      expect(resource.Properties.Environment.Variables.VERIFY_AFTER_DELETE).toEqual({ Ref: 'VerifyAfterDelete' });
    }
  });
});
