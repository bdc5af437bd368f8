/**
 * Application Auto Scaling for one ECS service, generated from the SAME scaling file the local
 * emulation and the simulator read (reference-stack/autoscaling/*.yaml, scaling-file.ts): one
 * ScalableTarget per service, a target-tracking policy per TargetTrackingScaling entry, a step
 * policy and the alarm it owns per StepScaling entry, and a scheduled action per scheduled action.
 * Change the YAML and the template changes with it; nothing here adds a policy of its own.
 *
 * What the file holds that AWS does not let you set is left to AWS: target tracking's hidden alarms
 * (datapoints, scale-in ratio, metric lag) and the scale-in step are observed AWS behaviour the
 * emulation copies (docs/autoscaling.md), not parameters of the AWS resources.
 */
import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type {
  AlarmMetric,
  PredefinedMetric,
  ServiceScaling,
  StepScalingPolicy,
  TargetTrackingPolicy,
} from '../../reference-stack/autoscaling/types.ts';

/** What the scaling of one service needs to know about it. */
export interface ServiceScalingTarget {
  clusterName: string;
  serviceName: string;
  /** The service's target group, when it sits behind the load balancer (request-count metrics). */
  targetGroup?: elbv2.ApplicationTargetGroup;
  /** Epoch ms of event time 0 (doors open): where scheduled actions' `at` offsets start. */
  doorsOpenMs?: number;
}

const PREDEFINED: Record<PredefinedMetric, appscaling.PredefinedMetric> = {
  ECSServiceAverageCPUUtilization: appscaling.PredefinedMetric.ECS_SERVICE_AVERAGE_CPU_UTILIZATION,
  ECSServiceAverageMemoryUtilization: appscaling.PredefinedMetric.ECS_SERVICE_AVERAGE_MEMORY_UTILIZATION,
  ALBRequestCountPerTarget: appscaling.PredefinedMetric.ALB_REQUEST_COUNT_PER_TARGET,
};

const ADJUSTMENT: Record<StepScalingPolicy['adjustmentType'], appscaling.AdjustmentType> = {
  ChangeInCapacity: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
  PercentChangeInCapacity: appscaling.AdjustmentType.PERCENT_CHANGE_IN_CAPACITY,
  ExactCapacity: appscaling.AdjustmentType.EXACT_CAPACITY,
};

const AGGREGATION: Record<StepScalingPolicy['metricAggregationType'], appscaling.MetricAggregationType> = {
  Average: appscaling.MetricAggregationType.AVERAGE,
  Minimum: appscaling.MetricAggregationType.MINIMUM,
  Maximum: appscaling.MetricAggregationType.MAXIMUM,
};

const COMPARISON: Record<StepScalingPolicy['alarm']['comparison'], cloudwatch.ComparisonOperator> = {
  GreaterThanOrEqualToThreshold: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  GreaterThanThreshold: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  LessThanThreshold: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
  LessThanOrEqualToThreshold: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
};

/** Why a scaling entry cannot be deployed as written (the CLI turns these into located problems). */
export class ScalingNotDeployable extends Error {
  constructor(
    readonly service: string,
    readonly path: string,
    message: string,
    readonly hint: string,
  ) {
    super(`${service}: ${message}`);
  }
}

/** The Application Auto Scaling resources of one ECS service, from its entry in the scaling file. */
export class ServiceAutoScaling extends Construct {
  /** The ScalableTarget (service/<cluster>/<service>, ecs:service:DesiredCount). */
  readonly target: appscaling.ScalableTarget;

  constructor(scope: Construct, id: string, scaling: ServiceScaling, service: ServiceScalingTarget) {
    super(scope, id);
    this.target = new appscaling.ScalableTarget(this, 'Target', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${service.clusterName}/${service.serviceName}`,
      minCapacity: scaling.minCapacity,
      maxCapacity: scaling.maxCapacity,
    });
    scaling.policies.forEach((p, i) => {
      if (p.type === 'TargetTrackingScaling') this.addTargetTracking(p, i, scaling.service, service);
      else this.addStepScaling(p, scaling.service, service);
    });
    for (const [i, a] of scaling.scheduledActions.entries()) {
      if (service.doorsOpenMs === undefined)
        throw new ScalingNotDeployable(
          scaling.service,
          `services.${scaling.service}.scheduledActions[${i}]`,
          `scheduled action "${a.name}" is at event time ${a.at}s, and the stack has no doors-open time to count from`,
          'give the event start (--doors-open 2026-07-08T07:00:00Z) or remove the scheduled actions',
        );
      this.target.scaleOnSchedule(`Scheduled-${a.name}`, {
        schedule: appscaling.Schedule.at(new Date(service.doorsOpenMs + a.at * 1000)),
        ...(a.minCapacity === undefined ? {} : { minCapacity: a.minCapacity }),
        ...(a.maxCapacity === undefined ? {} : { maxCapacity: a.maxCapacity }),
      });
    }
  }

  private addTargetTracking(
    p: TargetTrackingPolicy,
    index: number,
    serviceName: string,
    service: ServiceScalingTarget,
  ): void {
    let resourceLabel: string | undefined;
    if (p.metric === 'ALBRequestCountPerTarget') {
      if (!service.targetGroup)
        throw new ScalingNotDeployable(
          serviceName,
          `services.${serviceName}.policies[${index}].metric`,
          'ALBRequestCountPerTarget needs a target group, and only the public entry sits behind the load balancer',
          'track requests on the gateway (headless) or the monolith; use CPU for internal services',
        );
      resourceLabel = `${service.targetGroup.firstLoadBalancerFullName}/${service.targetGroup.targetGroupFullName}`;
    }
    this.target.scaleToTrackMetric(`TargetTracking-${p.name}`, {
      policyName: p.name,
      predefinedMetric: PREDEFINED[p.metric],
      ...(resourceLabel === undefined ? {} : { resourceLabel }),
      targetValue: p.targetValue,
      scaleInCooldown: Duration.seconds(p.scaleInCooldown),
      scaleOutCooldown: Duration.seconds(p.scaleOutCooldown),
      disableScaleIn: p.disableScaleIn,
    });
  }

  private addStepScaling(p: StepScalingPolicy, serviceName: string, service: ServiceScalingTarget): void {
    const action = new appscaling.StepScalingAction(this, `StepScaling-${p.name}`, {
      scalingTarget: this.target,
      policyName: p.name,
      adjustmentType: ADJUSTMENT[p.adjustmentType],
      cooldown: Duration.seconds(p.cooldown),
      metricAggregationType: AGGREGATION[p.metricAggregationType],
      ...(p.minAdjustmentMagnitude === undefined ? {} : { minAdjustmentMagnitude: p.minAdjustmentMagnitude }),
    });
    for (const s of p.stepAdjustments)
      action.addAdjustment({
        adjustment: s.scalingAdjustment,
        ...(s.lowerBound === undefined ? {} : { lowerBound: s.lowerBound }),
        ...(s.upperBound === undefined ? {} : { upperBound: s.upperBound }),
      });
    const metric = alarmMetric(
      p.alarm.metric,
      p.metricAggregationType,
      p.alarm.periodSeconds,
      serviceName,
      service,
    );
    const alarm = new cloudwatch.Alarm(this, `StepAlarm-${p.name}`, {
      alarmDescription: `step scaling ${p.name} of ${serviceName} (from the scaling file)`,
      metric,
      threshold: p.alarm.threshold,
      comparisonOperator: COMPARISON[p.alarm.comparison],
      evaluationPeriods: p.alarm.evaluationPeriods,
      datapointsToAlarm: p.alarm.datapointsToAlarm,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    alarm.addAlarmAction(new cwActions.ApplicationScalingAction(action));
  }
}

/** The CloudWatch metric a step-scaling alarm watches, with the dimensions AWS publishes it under. */
function alarmMetric(
  metric: AlarmMetric,
  aggregation: StepScalingPolicy['metricAggregationType'],
  periodSeconds: number,
  serviceName: string,
  service: ServiceScalingTarget,
): cloudwatch.Metric {
  const period = Duration.seconds(periodSeconds);
  if (metric === 'RequestCountPerTarget') {
    if (!service.targetGroup)
      throw new ScalingNotDeployable(
        serviceName,
        `services.${serviceName}.policies`,
        'a RequestCountPerTarget alarm needs a target group, and only the public entry sits behind the load balancer',
        'watch CPUUtilization or MemoryUtilization on internal services',
      );
    return new cloudwatch.Metric({
      namespace: 'AWS/ApplicationELB',
      metricName: 'RequestCountPerTarget',
      dimensionsMap: { TargetGroup: service.targetGroup.targetGroupFullName },
      statistic: 'Sum',
      period,
    });
  }
  return new cloudwatch.Metric({
    namespace: 'AWS/ECS',
    metricName: metric,
    dimensionsMap: { ClusterName: service.clusterName, ServiceName: service.serviceName },
    statistic: aggregation,
    period,
  });
}
