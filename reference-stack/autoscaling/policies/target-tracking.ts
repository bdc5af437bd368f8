/**
 * Target tracking as Application Auto Scaling applies it to an ECS service. AWS creates two alarms per
 * policy: AlarmHigh (N datapoints above the target; observed N = 3) and AlarmLow (M datapoints below
 * 90% of the target; observed M = 15). While AlarmHigh is in ALARM the policy scales out
 * proportionally: desired ≈ ceil(capacity × metric / target) (inference: the formula is not
 * published). During the scale-out cooldown the capacity from before the cooldown's scale-out is the
 * base, so capacity already added counts toward the next scale-out and only a larger one goes ahead.
 * Scale-in is gradual (at most `scaleInMaxStepPercent` of capacity, an assumption) and waits for the
 * scale-in cooldown; INSUFFICIENT_DATA never scales in.
 */
import { alarmDatapoints, evaluateAlarm } from '../alarms.ts';
import { PREDEFINED_METRICS, type TargetTrackingPolicy } from '../types.ts';
import { formatValue, type PolicyEvaluator } from './vote.ts';

/** The alarm names AWS gives target-tracking alarms, used in activity causes. */
export function targetTrackingAlarmName(resourceId: string, policy: string, which: 'High' | 'Low'): string {
  return `TargetTracking-${resourceId}-Alarm${which}-${policy}`;
}

/** Evaluates one target-tracking policy. */
export const evaluateTargetTracking: PolicyEvaluator<TargetTrackingPolicy> = (ctx) => {
  const { policy, desired, eventTime, history, state, resourceId } = ctx;
  const key = PREDEFINED_METRICS[policy.metric];
  const a = policy.alarms;
  const high = alarmDatapoints(
    history,
    key,
    a.periodSeconds,
    a.metricLagSeconds,
    eventTime,
    a.scaleOutDatapoints,
  );
  const highState = evaluateAlarm(high, (v) => v > policy.targetValue, a.scaleOutDatapoints);
  if (highState === 'ALARM') {
    const value = high[high.length - 1] as number;
    const last = state.lastScaleOut;
    const withinCooldown = last !== undefined && eventTime < last.at + policy.scaleOutCooldown;
    const base = withinCooldown && last ? last.fromCapacity : desired;
    const capacity = Math.ceil((base * value) / policy.targetValue - 1e-9);
    // The value one task's worth of metric moves by: at or below capacity − 1 of them it asks one fewer.
    const perTask = policy.targetValue / base;
    return {
      kind: 'out',
      capacity,
      withinCooldown,
      boundary: { metric: policy.metric, value, lower: perTask * (capacity - 1), upper: perTask * capacity },
      cause: `monitor alarm ${targetTrackingAlarmName(resourceId, policy.name, 'High')} in state ALARM triggered policy ${policy.name} (${policy.metric} ${formatValue(value)} > target ${formatValue(policy.targetValue)})`,
    };
  }
  if (policy.disableScaleIn) return { kind: 'abstain', reason: 'DisableScaleIn' };
  const low = alarmDatapoints(
    history,
    key,
    a.periodSeconds,
    a.metricLagSeconds,
    eventTime,
    a.scaleInDatapoints,
  );
  const threshold = policy.targetValue * a.scaleInRatio;
  const lowState = evaluateAlarm(low, (v) => v < threshold, a.scaleInDatapoints);
  if (lowState === 'INSUFFICIENT_DATA') return { kind: 'hold', reason: 'AlarmLow INSUFFICIENT_DATA' };
  if (lowState !== 'ALARM') return { kind: 'hold', reason: 'AlarmLow OK' };
  if (state.lastScaleIn && eventTime < state.lastScaleIn.at + policy.scaleInCooldown)
    return { kind: 'hold', reason: 'ScaleInCooldown' };
  const value = low[low.length - 1] as number;
  const proportional = Math.ceil((desired * value) / policy.targetValue - 1e-9);
  const maxStep = Math.max(1, Math.floor((desired * policy.scaleInMaxStepPercent) / 100));
  const capacity = Math.max(proportional, desired - maxStep, 0);
  if (capacity >= desired) return { kind: 'hold', reason: 'AlreadyAtDesiredCapacity' };
  return {
    kind: 'in',
    capacity,
    cause: `monitor alarm ${targetTrackingAlarmName(resourceId, policy.name, 'Low')} in state ALARM triggered policy ${policy.name} (${policy.metric} ${formatValue(value)} < ${formatValue(threshold)})`,
  };
};
