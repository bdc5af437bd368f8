/**
 * Step scaling: you own the alarm. While it is in ALARM, the step whose bounds (relative to the alarm
 * threshold; lower inclusive, upper exclusive) contain the latest value gives the adjustment:
 * ChangeInCapacity adds it, PercentChangeInCapacity adds that percentage of capacity (rounded as AWS
 * documents for Auto Scaling: above 1 down, between 0 and 1 to 1, mirrored for negatives; then
 * MinAdjustmentMagnitude), ExactCapacity sets it. One Cooldown: during it a further scale-out goes
 * ahead only if larger (capacity already added counts), and scale-in is blocked.
 */
import { alarmDatapoints, comparisons, evaluateAlarm } from '../alarms.ts';
import { ALARM_METRICS, type StepAdjustment, type StepScalingPolicy } from '../types.ts';
import { formatValue, type PolicyEvaluator } from './vote.ts';

/** The step containing `diff` (metric − threshold), if any. */
export function findStep(steps: readonly StepAdjustment[], diff: number): StepAdjustment | undefined {
  return steps.find(
    (s) =>
      (s.lowerBound === undefined || diff >= s.lowerBound) &&
      (s.upperBound === undefined || diff < s.upperBound),
  );
}

/** Rounds a PercentChangeInCapacity adjustment as AWS documents. */
export function percentChange(base: number, percent: number, minMagnitude?: number): number {
  const raw = (base * percent) / 100;
  let change = raw > 1 ? Math.floor(raw) : raw > 0 ? 1 : raw < -1 ? Math.ceil(raw) : raw < 0 ? -1 : 0;
  if (minMagnitude !== undefined && change !== 0 && Math.abs(change) < minMagnitude)
    change = Math.sign(change) * minMagnitude;
  return change;
}

/** The capacity a step asks for from `base`. */
export function stepCapacity(policy: StepScalingPolicy, step: StepAdjustment, base: number): number {
  const adj = step.scalingAdjustment;
  const byType = {
    ChangeInCapacity: () => base + adj,
    PercentChangeInCapacity: () => base + percentChange(base, adj, policy.minAdjustmentMagnitude),
    ExactCapacity: () => adj,
  } satisfies Record<StepScalingPolicy['adjustmentType'], () => number>;
  return Math.max(0, byType[policy.adjustmentType]());
}

/** Evaluates one step-scaling policy. */
export const evaluateStepScaling: PolicyEvaluator<StepScalingPolicy> = (ctx) => {
  const { policy, desired, eventTime, history, state } = ctx;
  const alarm = policy.alarm;
  const values = alarmDatapoints(
    history,
    ALARM_METRICS[alarm.metric],
    alarm.periodSeconds,
    alarm.metricLagSeconds,
    eventTime,
    alarm.evaluationPeriods,
    policy.metricAggregationType,
  );
  const compare = comparisons[alarm.comparison];
  const alarmState = evaluateAlarm(values, (v) => compare(v, alarm.threshold), alarm.datapointsToAlarm);
  if (alarmState !== 'ALARM') return { kind: 'abstain', reason: `alarm ${alarmState}` };
  let value: number | undefined;
  for (let i = values.length - 1; i >= 0 && value === undefined; i--) value = values[i] ?? undefined;
  const step = value === undefined ? undefined : findStep(policy.stepAdjustments, value - alarm.threshold);
  if (!step || value === undefined) return { kind: 'abstain', reason: 'no step matches' };
  const cause = `monitor alarm ${policy.name}-alarm in state ALARM triggered policy ${policy.name} (${alarm.metric} ${formatValue(value)}, threshold ${formatValue(alarm.threshold)})`;
  const wanted = stepCapacity(policy, step, desired);
  if (wanted > desired) {
    const last = state.lastScaleOut;
    const withinCooldown = last !== undefined && eventTime < last.at + policy.cooldown;
    const capacity = withinCooldown && last ? stepCapacity(policy, step, last.fromCapacity) : wanted;
    const bound = (b: number | undefined) => (b === undefined ? null : alarm.threshold + b);
    const boundary = {
      metric: alarm.metric,
      value,
      lower: bound(step.lowerBound),
      upper: bound(step.upperBound),
    };
    return { kind: 'out', capacity, cause, withinCooldown, boundary };
  }
  if (wanted < desired) {
    const lastAt = Math.max(
      state.lastScaleIn?.at ?? Number.NEGATIVE_INFINITY,
      state.lastScaleOut?.at ?? Number.NEGATIVE_INFINITY,
    );
    if (eventTime < lastAt + policy.cooldown) return { kind: 'hold', reason: 'Cooldown' };
    return { kind: 'in', capacity: wanted, cause };
  }
  return { kind: 'abstain', reason: 'AlreadyAtDesiredCapacity' };
};
