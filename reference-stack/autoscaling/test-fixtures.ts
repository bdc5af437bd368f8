/**
 * Builders for autoscaling tests and the simulator's tests: a ServiceScaling with AWS defaults and a
 * metric history from a function of event time. Test-only helpers, kept beside the code they serve.
 */
import { defaultAlarmBehaviour, defaultHealthCheck, SCALING_DEFAULTS } from './defaults.ts';
import type {
  AlarmBehaviour,
  MetricDatapoint,
  ScalingPolicy,
  ServiceScaling,
  StepScalingPolicy,
  TargetTrackingPolicy,
} from './types.ts';

/** A CPU target-tracking policy with AWS defaults; `alarms` overrides the observed alarm behaviour. */
export function cpuTargetPolicy(
  targetValue: number,
  overrides: Partial<Omit<TargetTrackingPolicy, 'alarms'>> & { alarms?: Partial<AlarmBehaviour> } = {},
): TargetTrackingPolicy {
  const { alarms, ...rest } = overrides;
  return {
    type: 'TargetTrackingScaling',
    name: 'cpu',
    metric: 'ECSServiceAverageCPUUtilization',
    targetValue,
    scaleOutCooldown: SCALING_DEFAULTS.scaleOutCooldown.value,
    scaleInCooldown: SCALING_DEFAULTS.scaleInCooldown.value,
    disableScaleIn: false,
    scaleInMaxStepPercent: SCALING_DEFAULTS.scaleInMaxStepPercent.value,
    ...rest,
    alarms: { ...defaultAlarmBehaviour(), ...alarms },
  };
}

/** A step-scaling policy on CPU with a 1-of-1 alarm and no metric lag, for table tests. */
export function cpuStepPolicy(overrides: Partial<StepScalingPolicy> = {}): StepScalingPolicy {
  return {
    type: 'StepScaling',
    name: 'cpu-steps',
    adjustmentType: 'ChangeInCapacity',
    cooldown: 300,
    metricAggregationType: 'Average',
    stepAdjustments: [{ lowerBound: 0, scalingAdjustment: 2 }],
    alarm: {
      metric: 'CPUUtilization',
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 70,
      periodSeconds: 60,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      metricLagSeconds: 0,
    },
    ...overrides,
  };
}

/** A ServiceScaling for `service` with the given policies and capacities. */
export function serviceScaling(
  policies: ScalingPolicy[],
  overrides: Partial<ServiceScaling> = {},
): ServiceScaling {
  return {
    service: 'catalog',
    resourceId: 'service/peakday/catalog',
    minCapacity: 1,
    maxCapacity: 20,
    initialDesired: 4,
    policies,
    scheduledActions: [],
    launch: {
      startLatency: { distribution: 'uniform', minSeconds: 30, maxSeconds: 60 },
      healthCheck: defaultHealthCheck(),
    },
    ...overrides,
  };
}

/** 60-s datapoints for periods starting at 0, 60, ... before `until`, with metrics from functions of t. */
export function historyOf(
  until: number,
  metrics: { cpu?: (t: number) => number | null; requestsPerTarget?: (t: number) => number | null },
): MetricDatapoint[] {
  const out: MetricDatapoint[] = [];
  for (let t = 0; t + 60 <= until; t += 60) {
    out.push({
      t,
      period: 60,
      cpu: metrics.cpu ? metrics.cpu(t) : null,
      memory: null,
      requestsPerTarget: metrics.requestsPerTarget ? metrics.requestsPerTarget(t) : null,
    });
  }
  return out;
}
