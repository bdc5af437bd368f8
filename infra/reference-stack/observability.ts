/**
 * CloudWatch for the reference stack: one dashboard per topology, showing the metrics `collect
 * --source cloudwatch` reads back (the same namespaces and names the local stack emits as EMF,
 * telemetry/metric-map.ts), and alarms for the budgets' latency and error thresholds, so a breach
 * during a rehearsal on AWS shows up where an SRE looks, not only in peakday's report.
 *
 * The load balancer sees every channel and journey together: a budget scoped to one channel or
 * journey is alarmed on the whole entry (its alarm description says so), which is stricter than the
 * budget when other traffic is faster and looser when it is slower. The budget gate stays the verdict.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { Arch } from '../../reference-stack/topology.ts';
import type { Budget, BudgetSet } from '../../scenarios/budgets/budget.ts';

/** One alarm derived from a budget: a latency percentile or an error rate at the entry. */
export type BudgetAlarmSpec =
  | { kind: 'latency'; percentile: number; limitMs: number; budgets: string[]; scoped: boolean }
  | { kind: 'errors'; rate: number; budgets: string[]; scoped: boolean };

/**
 * The alarms a budgets file calls for: one per distinct (percentile, limit) among latency budgets with
 * an upper limit (`<`, `<=`), one per distinct error-rate limit. Budgets CloudWatch cannot express
 * (dropped iterations, check pass rates: load-generator metrics) produce none. Pure.
 */
export function computeBudgetAlarms(set: BudgetSet): BudgetAlarmSpec[] {
  const out = new Map<string, BudgetAlarmSpec>();
  const upper = (b: Budget) => b.op === '<' || b.op === '<=';
  for (const b of set.budgets) {
    if (b.unsupported || !upper(b)) continue;
    const scoped = Boolean(b.scope.channel || b.scope.journey || b.scope.step);
    if (b.metric === 'latency' && b.stat.kind === 'percentile') {
      const key = `latency:${b.stat.p}:${b.limit}`;
      const prev = out.get(key);
      if (prev) {
        prev.budgets.push(b.name);
        prev.scoped &&= scoped;
      } else
        out.set(key, { kind: 'latency', percentile: b.stat.p, limitMs: b.limit, budgets: [b.name], scoped });
    } else if (b.metric === 'error_rate' && b.stat.kind === 'rate') {
      const key = `errors:${b.limit}`;
      const prev = out.get(key);
      if (prev) {
        prev.budgets.push(b.name);
        prev.scoped &&= scoped;
      } else out.set(key, { kind: 'errors', rate: b.limit, budgets: [b.name], scoped });
    }
  }
  return [...out.values()];
}

/** What the dashboard and alarms watch. */
export interface ObservabilityOptions {
  arch: Arch;
  clusterName: string;
  services: readonly string[];
  loadBalancer: elbv2.ApplicationLoadBalancer;
  targetGroup: elbv2.ApplicationTargetGroup;
  tables: readonly { name: string; table: dynamodb.Table }[];
  deadLetterQueues: readonly sqs.Queue[];
  budgetAlarms: readonly BudgetAlarmSpec[];
}

const MINUTE = Duration.minutes(1);

/** Creates the dashboard and the alarms; returns the dashboard. */
export function createObservability(scope: Construct, o: ObservabilityOptions): cloudwatch.Dashboard {
  const ecsMetric = (namespace: string, name: string, service: string, statistic = 'Average') =>
    new cloudwatch.Metric({
      namespace,
      metricName: name,
      dimensionsMap: { ClusterName: o.clusterName, ServiceName: service },
      statistic,
      period: MINUTE,
      label: service,
    });
  const lb = o.loadBalancer.metrics;
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: `peakday-${o.arch}`,
    defaultInterval: Duration.hours(3),
  });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Requests (ALB) and target 5xx',
      left: [lb.requestCount({ period: MINUTE })],
      right: [
        lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: MINUTE }),
        lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: MINUTE }),
      ],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Latency at the entry (TargetResponseTime)',
      left: [50, 95, 99].map((p) =>
        lb.targetResponseTime({ statistic: `p${p}`, period: MINUTE, label: `p${p}` }),
      ),
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'CPU per service (AWS/ECS CPUUtilization)',
      left: o.services.map((s) => ecsMetric('AWS/ECS', 'CPUUtilization', s)),
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Tasks: running (Container Insights)',
      left: o.services.map((s) => ecsMetric('ECS/ContainerInsights', 'RunningTaskCount', s)),
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'DynamoDB consumed capacity',
      left: o.tables.map((t) =>
        t.table.metricConsumedReadCapacityUnits({ period: MINUTE, label: `${t.name} read` }),
      ),
      right: o.tables.map((t) =>
        t.table.metricConsumedWriteCapacityUnits({ period: MINUTE, label: `${t.name} write` }),
      ),
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Healthy targets at the entry; dead letters',
      left: [o.targetGroup.metrics.healthyHostCount({ period: MINUTE })],
      right: o.deadLetterQueues.map((q) =>
        q.metricApproximateNumberOfMessagesVisible({ period: MINUTE, label: q.node.id }),
      ),
      width: 12,
    }),
  );

  for (const [i, spec] of o.budgetAlarms.entries()) {
    const note = spec.scoped
      ? ' (the budget is scoped to a channel or journey; the load balancer sees all traffic together)'
      : '';
    if (spec.kind === 'latency') {
      new cloudwatch.Alarm(scope, `BudgetLatency${i}`, {
        alarmDescription: `budget: ${spec.budgets.join('; ')}: p${spec.percentile} < ${spec.limitMs} ms${note}`,
        metric: lb.targetResponseTime({ statistic: `p${spec.percentile}`, period: MINUTE }),
        threshold: spec.limitMs / 1000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    } else {
      const errors = new cloudwatch.MathExpression({
        expression: '(FILL(t5xx, 0) + FILL(e5xx, 0)) / IF(requests > 0, requests, 1)',
        usingMetrics: {
          t5xx: lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
            period: MINUTE,
            statistic: 'Sum',
          }),
          e5xx: lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: MINUTE, statistic: 'Sum' }),
          requests: lb.requestCount({ period: MINUTE, statistic: 'Sum' }),
        },
        period: MINUTE,
        label: 'error rate',
      });
      new cloudwatch.Alarm(scope, `BudgetErrors${i}`, {
        alarmDescription: `budget: ${spec.budgets.join('; ')}: error rate < ${spec.rate * 100}%${note}`,
        metric: errors,
        threshold: spec.rate,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
  }
  for (const q of o.deadLetterQueues) {
    new cloudwatch.Alarm(scope, `${q.node.id}Alarm`, {
      alarmDescription: `events in ${q.node.id}: a consumer or a bus rule failed to take them`,
      metric: q.metricApproximateNumberOfMessagesVisible({ period: MINUTE, statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
  return dashboard;
}
