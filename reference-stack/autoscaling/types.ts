/**
 * The types of the autoscaling emulation: what a scaling file resolves to (one `ServiceScaling` per
 * ECS service, mapping 1:1 onto Application Auto Scaling resources: a ScalableTarget, its scaling
 * policies and scheduled actions), the per-period metrics the decision logic reads, and the plain-data
 * state it carries from one decision to the next. Everything here is JSON-serialisable so that the
 * live stack and the simulator can snapshot, log and replay decisions.
 */

/** Which per-period metric a policy reads. `requestsPerTarget` is per target per period (60 s = per minute). */
export type MetricKey = 'cpu' | 'memory' | 'requestsPerTarget';

/**
 * Application Auto Scaling's predefined target-tracking metrics for ECS, mapped to the metric they read
 * (docs/sources.md: ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization, ALBRequestCountPerTarget).
 */
export const PREDEFINED_METRICS = {
  ECSServiceAverageCPUUtilization: 'cpu',
  ECSServiceAverageMemoryUtilization: 'memory',
  ALBRequestCountPerTarget: 'requestsPerTarget',
} as const satisfies Record<string, MetricKey>;

export type PredefinedMetric = keyof typeof PREDEFINED_METRICS;

/** CloudWatch metric names a step-scaling alarm may watch (AWS/ECS and AWS/ApplicationELB), mapped likewise. */
export const ALARM_METRICS = {
  CPUUtilization: 'cpu',
  MemoryUtilization: 'memory',
  RequestCountPerTarget: 'requestsPerTarget',
} as const satisfies Record<string, MetricKey>;

export type AlarmMetric = keyof typeof ALARM_METRICS;

/** One completed metric period of one service. `null` means no datapoint (CloudWatch INSUFFICIENT_DATA). */
export interface MetricDatapoint {
  /** Event time at the start of the period (s). */
  t: number;
  /** Period length in event seconds (60 for CloudWatch's 1-minute ECS metrics). */
  period: number;
  /** Average CPU utilisation over running tasks, percent. */
  cpu: number | null;
  /** Average memory utilisation, percent. */
  memory: number | null;
  /** Requests per healthy target during the period. */
  requestsPerTarget: number | null;
}

/**
 * How target tracking's two hidden CloudWatch alarms behave. AWS does not document these for ECS;
 * the defaults are observed behaviour (docs/sources.md) and every one can be overridden per policy.
 */
export interface AlarmBehaviour {
  /** Alarm period (s). Observed: 60. */
  periodSeconds: number;
  /** Consecutive datapoints above target before scale-out. Observed: 3. */
  scaleOutDatapoints: number;
  /** Consecutive datapoints below `scaleInRatio` × target before scale-in. Observed: 15. */
  scaleInDatapoints: number;
  /** Scale-in threshold as a fraction of the target. Observed: 0.9. */
  scaleInRatio: number;
  /** Delay before a period's datapoint is visible to the alarm (s). Inference: ~60 (docs/sources.md). */
  metricLagSeconds: number;
}

/** TargetTrackingScalingPolicyConfiguration with a predefined metric, plus the emulation's overridable knobs. */
export interface TargetTrackingPolicy {
  type: 'TargetTrackingScaling';
  name: string;
  metric: PredefinedMetric;
  /** For ALBRequestCountPerTarget: `app/<lb>/<id>/targetgroup/<tg>/<id>`; informational locally. */
  resourceLabel?: string;
  targetValue: number;
  /** Seconds (documented default for ECS: 300). */
  scaleOutCooldown: number;
  /** Seconds (documented default for ECS: 300). */
  scaleInCooldown: number;
  disableScaleIn: boolean;
  alarms: AlarmBehaviour;
  /**
   * At most this percentage of current capacity removed by one scale-in (at least one task).
   * Assumption: AWS documents scale-in as "gradual" without a formula; default 50.
   */
  scaleInMaxStepPercent: number;
}

/** One StepAdjustment: bounds are relative to the alarm threshold, lower inclusive, upper exclusive. */
export interface StepAdjustment {
  lowerBound?: number;
  upperBound?: number;
  scalingAdjustment: number;
}

export type AdjustmentType = 'ChangeInCapacity' | 'PercentChangeInCapacity' | 'ExactCapacity';

export type ComparisonOperator =
  | 'GreaterThanOrEqualToThreshold'
  | 'GreaterThanThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

/** The CloudWatch alarm a step-scaling policy needs; with step scaling you own the alarm. */
export interface StepAlarm {
  metric: AlarmMetric;
  comparison: ComparisonOperator;
  threshold: number;
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  metricLagSeconds: number;
}

/** StepScalingPolicyConfiguration plus its alarm. */
export interface StepScalingPolicy {
  type: 'StepScaling';
  name: string;
  adjustmentType: AdjustmentType;
  minAdjustmentMagnitude?: number;
  /** One cooldown for both directions (s). */
  cooldown: number;
  metricAggregationType: 'Average' | 'Minimum' | 'Maximum';
  stepAdjustments: StepAdjustment[];
  alarm: StepAlarm;
}

export type ScalingPolicy = TargetTrackingPolicy | StepScalingPolicy;
export type PolicyType = ScalingPolicy['type'];

/** A ScheduledAction: at an event time, set min and/or max capacity (ignores cooldowns: pre-warming). */
export interface ScheduledAction {
  name: string;
  /** Event time (s) at which it applies. */
  at: number;
  minCapacity?: number;
  maxCapacity?: number;
}

/** Distribution of a new task's time from launch to RUNNING (event seconds). */
export type StartLatency =
  | { distribution: 'fixed'; seconds: number }
  | { distribution: 'uniform'; minSeconds: number; maxSeconds: number }
  | { distribution: 'normal'; meanSeconds: number; sdSeconds: number; minSeconds: number };

/** Load balancer health checking of a newly registered task. */
export interface HealthCheck {
  /** ALB default 30 s (documented). */
  intervalSeconds: number;
  /** Passing checks a new target needs: 1 (ELB docs: a newly registered target needs one). */
  checksToHealthy: number;
}

/** How tasks come up: start latency, then health checks before taking traffic. */
export interface TaskLaunch {
  startLatency: StartLatency;
  healthCheck: HealthCheck;
}

/** Everything scaling one ECS service: ScalableTarget + policies + scheduled actions + task launch. */
export interface ServiceScaling {
  service: string;
  /** `service/<cluster>/<service>`. */
  resourceId: string;
  minCapacity: number;
  maxCapacity: number;
  /** Desired count when the stack starts (default: minCapacity). */
  initialDesired: number;
  policies: ScalingPolicy[];
  scheduledActions: ScheduledAction[];
  launch: TaskLaunch;
}

/** One task's lifecycle times (event seconds): launched, RUNNING, healthy in the target group. */
export interface TaskRecord {
  id: number;
  launchedAt: number;
  runningAt: number;
  healthyAt: number;
}

/** What a policy remembers between decisions: its cooldowns and the last not-scaled reason it logged. */
export interface PolicyState {
  lastScaleOut?: { at: number; fromCapacity: number; toCapacity: number };
  lastScaleIn?: { at: number };
  lastNotScaled?: string;
}

/** The autoscaler's state for one service; plain data, replaced (never mutated) by each decision. */
export interface ScalingState {
  service: string;
  resourceId: string;
  minCapacity: number;
  maxCapacity: number;
  desired: number;
  tasks: TaskRecord[];
  nextTaskId: number;
  policies: Record<string, PolicyState>;
  appliedScheduledActions: string[];
  /** Event time of the last decision; decisions must not go back in time. */
  lastEventTime: number;
  activitySeq: number;
  /** Seed for task start latencies; each task draws from its own stream (seed, service, task id). */
  seed: number;
}

/** Counts of a service's tasks at an event time, as ECS and the target group see them. */
export interface TaskCounts {
  desired: number;
  /** Launched, not yet RUNNING. */
  pending: number;
  /** RUNNING (ECS runningCount), healthy or not. */
  running: number;
  /** RUNNING and passed the health check: taking traffic. */
  healthy: number;
}
