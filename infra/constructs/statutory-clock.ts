import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { NEAR_DUE_DAYS } from '../../lambda/erasure/statutory-clock';
import type { AuditAccess, AuditTable } from './audit-table';
import { ErasureFunction } from './erasure-function';
import type { RetryQueues } from './retry-queues';
import { serviceMetric, type ServiceMonitoring } from './service-monitoring';

/** The deadline check reads request items through the received-time index and each erasure's items: Query only. */
export const AUDIT_DEADLINE_ACCESS: AuditAccess = { actions: ['dynamodb:Query'], queryIndexes: ['byReceivedAt'] };

/** How often the deadline check runs; its alarms look at one run. */
export const DEADLINE_CHECK_EVERY = Duration.hours(1);

export interface StatutoryClockProps {
  readonly audit: AuditTable;
  readonly monitoring: ServiceMonitoring;
  /** The functions that call Verifik: they are told whether to verify absence after a delete. */
  readonly verifikCallers: readonly ErasureFunction[];
  /** The retry queue, on which the check arms the chain of an erasure recorded without one. */
  readonly retryQueues: RetryQueues;
}

/**
 * GDPR art. 12(3) and verified absence in the stack: the hourly deadline check (a function of its own
 * that may only Query the audit table and its received-time index, and send a first retry message for
 * an erasure recorded without one: no Verifik, no secret), its schedule and alarms, the
 * VerifyAfterDelete switch, and the alarm on a person Verifik still holds.
 */
export class StatutoryClock extends Construct {
  readonly deadlines: ErasureFunction;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: StatutoryClockProps) {
    super(scope, id);
    const verifyAfterDelete = new CfnParameter(Stack.of(this), 'VerifyAfterDelete', {
      type: 'String',
      default: 'true',
      allowedValues: ['true', 'false'],
      description:
        'Read every person back from Verifik (GET) after a 2xx delete, and record it erased only once Verifik answers 404. One more Verifik call per erased person.',
    });
    for (const fn of props.verifikCallers) fn.addEnvironment('VERIFY_AFTER_DELETE', verifyAfterDelete.valueAsString);

    this.deadlines = new ErasureFunction(this, 'Deadlines', {
      entry: 'lambda/handlers/deadlines.ts',
      description: 'Hourly check of erasures near or past their due date, and of erasures recorded without a retry chain',
      timeout: Duration.minutes(2),
    });
    props.audit.bindTo(this.deadlines, AUDIT_DEADLINE_ACCESS);
    props.retryQueues.bindRetryQueue(this.deadlines);
    this.schedule = new Rule(this, 'Schedule', {
      description: 'verifik-erasure: count erasures near or past their due date, and arm retry chains never armed',
      schedule: Schedule.rate(DEADLINE_CHECK_EVERY),
      targets: [new LambdaFunction(this.deadlines.function, { retryAttempts: 2 })],
    });

    const { monitoring } = props;
    const latestRun = (name: 'ErasuresNearDue' | 'ErasuresOverdue') =>
      serviceMetric(name, Stats.MAXIMUM).with({ period: DEADLINE_CHECK_EVERY });
    monitoring.alarm('ErasuresNearDue', {
      description: `An erasure is not completed (pending, or failed) ${NEAR_DUE_DAYS} days or less before its due date (GDPR art. 12(3)); the deadline check's log names it.`,
      metric: latestRun('ErasuresNearDue'),
      threshold: 0,
    });
    monitoring.alarm('ErasuresOverdue', {
      description:
        "An erasure is past its (extended) due date and not completed: the one-month limit of GDPR art. 12(3) is missed. The deadline check's log names it.",
      metric: latestRun('ErasuresOverdue'),
      threshold: 0,
    });
    monitoring.alarm('DeadlineCheckNotRunning', {
      description: 'The hourly deadline check has not run for three hours: near-due and overdue erasures go unnoticed.',
      metric: this.deadlines.function.metricInvocations({ period: Duration.hours(3), statistic: Stats.SUM }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
    });
    monitoring.alarm('DeadlineCheckErrors', {
      description:
        'The deadline check failed: it could not read the audit table, or the retry queue refused a message of its sweep (its counts are published all the same).',
      metric: this.deadlines.function.metricErrors({ period: DEADLINE_CHECK_EVERY }),
      threshold: 0,
    });
    monitoring.alarm('VerifikPersonStillPresent', {
      description:
        'Verifik accepted a delete (2xx) but still returns the person: the person is recorded failed (lastError STILL_PRESENT). Ask Verifik, then submit a new erasure for the person.',
      metric: serviceMetric('VerifikPersonStillPresent'),
      threshold: 0,
    });
  }
}
