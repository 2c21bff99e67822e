import { CfnCondition, Duration, Fn } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSubscription, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ServiceMetricName } from '../../lambda/erasure/ports';
import { TOKEN_DAYS_LEFT_METRIC, TOKEN_ROTATION_FAILED_METRIC, type TokenMetricName } from '../../lambda/rotation/token-rotation';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/names';
import { API_THROTTLED_METRIC } from './erasure-api';

const PERIOD = Duration.minutes(5);

/**
 * SQS delays a message at most 15 minutes, so the worker re-enqueues a long wait in hops and a
 * healthy retry queue never holds a message much older than that. Twice the hop means nobody consumes.
 */
export const RETRY_QUEUE_STALLED_AFTER = Duration.minutes(30);

export interface ServiceMonitoringProps {
  readonly httpFunction: IFunction;
  readonly workerFunction: IFunction;
  readonly invokeFunction: IFunction;
  readonly api: HttpApi;
  readonly retryQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  /** E-mail address subscribed to the alarm topic; an empty string (a parameter's default) subscribes none. */
  readonly alarmEmail: string;
  /** Hours an erasure may stay pending before the alarm fires (usually a parameter). */
  readonly pendingAlarmHours: number;
}

/** Below this many days left of the Verifik token, the VerifikTokenExpiring alarm fires. */
export const TOKEN_DAYS_LEFT_ALARM = 7;

/** One of the service's EMF metrics (lambda/compose.ts: namespace VerifikErasure, dimension service). */
export const serviceMetric = (
  metricName: ServiceMetricName | TokenMetricName,
  statistic: string = Stats.SUM,
  period: Duration = PERIOD,
) => new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: SERVICE_NAME }, statistic, period });

/** 429s counted by the access log's metric filter, which publishes without a dimension. */
const apiThrottled = () =>
  new Metric({ namespace: METRICS_NAMESPACE, metricName: API_THROTTLED_METRIC, statistic: Stats.SUM, period: PERIOD });

/**
 * The alarms of the issue on one SNS topic (optionally mailed), and a dashboard of erasures by
 * outcome, latency and retries. Every alarm but VerifikTokenExpiring treats missing data as fine:
 * those metrics are only published when something happened, while the token's days left are
 * published every 6 hours, so a day without them means the check itself is failing.
 */
export class ServiceMonitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Record<string, Alarm> = {};
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id);

    this.topic = new Topic(this, 'AlarmTopic', { displayName: 'verifik-erasure alarms', enforceSSL: true });
    const hasEmail = new CfnCondition(this, 'HasAlarmEmail', {
      expression: Fn.conditionNot(Fn.conditionEquals(props.alarmEmail, '')),
    });
    const subscription = new CfnSubscription(this, 'AlarmEmail', {
      topicArn: this.topic.topicArn,
      protocol: 'email',
      endpoint: props.alarmEmail,
    });
    subscription.cfnOptions.condition = hasEmail;

    const functions = [props.httpFunction, props.workerFunction, props.invokeFunction];
    const sumOf = (label: string, metrics: IMetric[]) =>
      new MathExpression({
        label,
        expression: metrics.map((_, i) => `m${i}`).join(' + '),
        usingMetrics: Object.fromEntries(metrics.map((metric, i) => [`m${i}`, metric])),
        period: PERIOD,
      });

    this.alarm('DeadLetters', {
      description:
        'Erasures were dead-lettered: some persons are failed. Fix the cause, then redrive the dead-letter queue (docs/operations.md).',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period: PERIOD }),
      threshold: 0,
    });
    this.alarm('WorkerErrors', {
      description: 'The retry worker failed whole invocations; its messages come back and may end in the dead-letter queue.',
      metric: props.workerFunction.metricErrors({ period: PERIOD }),
      threshold: 0,
    });
    this.alarm('InvokeErrors', {
      description: 'Direct invocations by a privacy portal failed.',
      metric: props.invokeFunction.metricErrors({ period: PERIOD }),
      threshold: 0,
    });
    this.alarm('VerifikAuthFailures', {
      description:
        'Verifik answered 401/403: the token is wrong or expired. Persons stay pending; renew the token secret (docs/deploy.md).',
      metric: serviceMetric('VendorAuthFailures'),
      threshold: 0,
    });
    this.alarm('VerifikUnexpectedNotFound', {
      description:
        'Verifik answered 404 without PERSON_NOT_FOUND in the body: the request did not reach the persons API (wrong VerifikBaseUrl, or a proxy answering). Those persons are recorded as failed, not erased; fix the URL or the network path, then submit their erasures again.',
      metric: serviceMetric('VerifikUnexpectedNotFound'),
      threshold: 0,
    });
    this.alarm('VerifikServerErrors', {
      description: 'Verifik has answered 5xx for 15 minutes; erasures wait on the retry queue.',
      metric: serviceMetric('VerifikServerErrors'),
      threshold: 0,
      evaluationPeriods: 3,
    });
    this.alarm('Api5xx', {
      description: 'The API answered 5xx: requests could not be recorded durably (callers should retry).',
      metric: props.api.metricServerError({ period: PERIOD, statistic: Stats.SUM }),
      threshold: 0,
    });
    this.alarm('ApiThrottled', {
      description:
        "API Gateway refused requests with 429 (a route's throttling limits; the access log's routeKey says which); raise that route's limits if the load is legitimate.",
      metric: apiThrottled(),
      threshold: 0,
    });
    this.alarm('FunctionsThrottled', {
      description: 'Lambda throttled the service functions (account or reserved concurrency exhausted).',
      metric: sumOf(
        'Throttles',
        functions.map((fn) => fn.metricThrottles({ period: PERIOD })),
      ),
      threshold: 0,
    });
    this.alarm('RetryQueueStalled', {
      description: `A retry message is older than ${RETRY_QUEUE_STALLED_AFTER.toMinutes()} minutes: the retry worker is not consuming.`,
      metric: props.retryQueue.metricApproximateAgeOfOldestMessage({ statistic: Stats.MAXIMUM, period: PERIOD }),
      threshold: RETRY_QUEUE_STALLED_AFTER.toSeconds(),
    });
    this.alarm('ErasuresPendingTooLong', {
      description: 'An erasure has been pending longer than the PendingAlarmHours parameter.',
      metric: new MathExpression({
        label: 'Oldest pending erasure (hours)',
        expression: 'age / 3600',
        usingMetrics: { age: serviceMetric('PendingAge', Stats.MAXIMUM) },
        period: PERIOD,
      }),
      threshold: props.pendingAlarmHours,
    });

    this.alarm('VerifikTokenExpiring', {
      description: `The Verifik token has fewer than ${TOKEN_DAYS_LEFT_ALARM} days left, Verifik refuses it (0), or nobody has checked it for a day. Rotation renews it every TokenRotationDays; if the TokenRotationFailed alarm fired too, or Verifik refused the token, it cannot be renewed: log in to Verifik, issue a new token and put it in the token secret (docs/operations.md, "The Verifik token").`,
      // The best of the day's checks: one good check after a new token clears it.
      metric: serviceMetric(TOKEN_DAYS_LEFT_METRIC, Stats.MAXIMUM, Duration.days(1)),
      threshold: TOKEN_DAYS_LEFT_ALARM,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      // No figure for a day means the check itself fails: the expiry is unknown, which is no better.
      treatMissingData: TreatMissingData.BREACHING,
    });
    this.alarm('TokenRotationFailed', {
      description:
        'The Verifik token rotation failed twice within a day (Verifik unreachable, or it refused the token). The current token stays in use and the check retries every 6 hours; see the rotation function\'s log for the reason (docs/operations.md, "The Verifik token").',
      metric: serviceMetric(TOKEN_ROTATION_FAILED_METRIC, Stats.SUM, Duration.days(1)),
      threshold: 1,
    });
    this.dashboard = this.buildDashboard(props, functions);
  }

  /**
   * An alarm on the topic, alarm and OK both notified. Missing data is fine unless said otherwise;
   * `comparison` defaults to above the threshold.
   */
  alarm(
    id: string,
    options: {
      description: string;
      metric: IMetric;
      threshold: number;
      evaluationPeriods?: number;
      comparisonOperator?: ComparisonOperator;
      treatMissingData?: TreatMissingData;
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: options.comparisonOperator ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      treatMissingData: options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms[id] = alarm;
    return alarm;
  }

  private buildDashboard(props: ServiceMonitoringProps, functions: IFunction[]): Dashboard {
    const dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(1) });
    const graph = (title: string, left: IMetric[], options: { stacked?: boolean; right?: IMetric[] } = {}) =>
      new GraphWidget({ title, left, right: options.right, stacked: options.stacked, width: 12, height: 6 });
    const labelled = (metric: Metric, label: string) => metric.with({ label });
    dashboard.addWidgets(
      graph(
        'Persons by outcome',
        [
          labelled(serviceMetric('Erased'), 'erased'),
          labelled(serviceMetric('AlreadyErased'), 'already erased'),
          labelled(serviceMetric('Pending'), 'pending'),
          labelled(serviceMetric('Failed'), 'failed'),
        ],
        { stacked: true },
      ),
      graph('Requests and answers', [
        labelled(props.api.metricCount({ period: PERIOD }), 'requests'),
        labelled(props.api.metricClientError({ period: PERIOD, statistic: Stats.SUM }), '4xx'),
        labelled(props.api.metricServerError({ period: PERIOD, statistic: Stats.SUM }), '5xx'),
        labelled(apiThrottled(), '429 (throttled)'),
      ]),
    );
    dashboard.addWidgets(
      graph('API latency (ms)', [
        labelled(props.api.metricLatency({ period: PERIOD, statistic: Stats.percentile(50) }), 'p50'),
        labelled(props.api.metricLatency({ period: PERIOD, statistic: Stats.percentile(99) }), 'p99'),
        labelled(props.api.metricIntegrationLatency({ period: PERIOD, statistic: Stats.percentile(99) }), 'integration p99'),
      ]),
      graph(
        'Function duration p99 (ms)',
        functions.map((fn, i) =>
          labelled(fn.metricDuration({ period: PERIOD, statistic: Stats.percentile(99) }), ['http', 'worker', 'invoke'][i]!),
        ),
      ),
    );
    dashboard.addWidgets(
      graph('Retries and Verifik failures', [
        labelled(serviceMetric('Retries'), 'retries'),
        labelled(serviceMetric('DeadLettered'), 'dead-lettered persons'),
        labelled(serviceMetric('VendorAuthFailures'), 'Verifik 401/403'),
        labelled(serviceMetric('VerifikUnexpectedNotFound'), 'Verifik 404 without PERSON_NOT_FOUND'),
        labelled(serviceMetric('VerifikServerErrors'), 'Verifik 5xx'),
      ]),
      graph(
        'Retry queues',
        [
          labelled(props.retryQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD }), 'retry queue visible'),
          labelled(props.retryQueue.metricApproximateNumberOfMessagesDelayed({ period: PERIOD }), 'retry queue delayed'),
          labelled(props.retryQueue.metricApproximateNumberOfMessagesNotVisible({ period: PERIOD }), 'retry queue in flight'),
          labelled(props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD }), 'dead letters'),
        ],
        {
          right: [
            labelled(
              props.retryQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: Stats.MAXIMUM }),
              'oldest retry message (s)',
            ),
          ],
        },
      ),
    );
    dashboard.addWidgets(
      graph('Verifik token', [labelled(serviceMetric(TOKEN_DAYS_LEFT_METRIC, Stats.MINIMUM, Duration.hours(6)), 'days left')], {
        right: [labelled(serviceMetric(TOKEN_ROTATION_FAILED_METRIC, Stats.SUM, Duration.hours(6)), 'failed rotation steps')],
      }),
    );
    dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 4 }));
    return dashboard;
  }
}
