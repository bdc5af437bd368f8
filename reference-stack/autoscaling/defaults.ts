/**
 * Every default number the autoscaling emulation uses, with where it comes from. `documented` means
 * AWS documentation says so; `observed` means seen in practice (AWS workshops, tutorials) but not in the
 * ECS documentation; `assumption` means we chose it. All can be overridden in the scaling file
 * (docs/autoscaling.md lists them), and reports show which kind each number is.
 */
import type { AlarmBehaviour, HealthCheck, StartLatency } from './types.ts';

/** How sure we are of a default. */
export type DefaultKind = 'documented' | 'observed' | 'inference' | 'assumption';

/** A default value with its kind and source, for docs and reports. */
export interface SourcedDefault<T> {
  value: T;
  kind: DefaultKind;
  source: string;
}

/** The defaults, each with its source (docs/sources.md). */
export const SCALING_DEFAULTS = {
  scaleOutCooldown: {
    value: 300,
    kind: 'documented',
    source: 'Application Auto Scaling: ScaleOutCooldown defaults to 300 s for ECS',
  },
  scaleInCooldown: {
    value: 300,
    kind: 'documented',
    source: 'Application Auto Scaling: ScaleInCooldown defaults to 300 s for ECS',
  },
  alarmPeriodSeconds: { value: 60, kind: 'observed', source: 'target-tracking alarms use 60-s periods' },
  scaleOutDatapoints: {
    value: 3,
    kind: 'observed',
    source: 'AWS Fargate workshop: AlarmHigh fires after 3 datapoints of 60 s above target',
  },
  scaleInDatapoints: {
    value: 15,
    kind: 'observed',
    source: 'AWS Fargate workshop: AlarmLow fires after 15 datapoints below 90% of target',
  },
  scaleInRatio: { value: 0.9, kind: 'observed', source: 'AlarmLow threshold is 90% of the target' },
  metricLagSeconds: {
    value: 60,
    kind: 'inference',
    source: 'about one minute between a period ending and its datapoint reaching the alarm',
  },
  scaleInMaxStepPercent: {
    value: 50,
    kind: 'assumption',
    source: 'AWS documents scale-in as gradual without a formula; we remove at most half per activity',
  },
  stepCooldown: { value: 300, kind: 'assumption', source: 'same as the target-tracking cooldowns' },
  startLatency: {
    value: { distribution: 'uniform', minSeconds: 30, maxSeconds: 60 },
    kind: 'observed',
    source: 'AWS re:Post: Fargate tasks typically take 30–45 s or more to start',
  },
  healthCheckIntervalSeconds: {
    value: 30,
    kind: 'documented',
    source: 'ELB target group health check interval default 30 s',
  },
  checksToHealthy: {
    value: 1,
    kind: 'documented',
    source: 'ELB docs: a newly registered target must pass one health check',
  },
} as const satisfies Record<string, SourcedDefault<unknown>>;

/** The target-tracking alarm behaviour from the defaults above. */
export function defaultAlarmBehaviour(): AlarmBehaviour {
  return {
    periodSeconds: SCALING_DEFAULTS.alarmPeriodSeconds.value,
    scaleOutDatapoints: SCALING_DEFAULTS.scaleOutDatapoints.value,
    scaleInDatapoints: SCALING_DEFAULTS.scaleInDatapoints.value,
    scaleInRatio: SCALING_DEFAULTS.scaleInRatio.value,
    metricLagSeconds: SCALING_DEFAULTS.metricLagSeconds.value,
  };
}

/** The default Fargate task start latency. */
export function defaultStartLatency(): StartLatency {
  return { ...SCALING_DEFAULTS.startLatency.value };
}

/** The default ALB health check for new tasks. */
export function defaultHealthCheck(): HealthCheck {
  return {
    intervalSeconds: SCALING_DEFAULTS.healthCheckIntervalSeconds.value,
    checksToHealthy: SCALING_DEFAULTS.checksToHealthy.value,
  };
}
