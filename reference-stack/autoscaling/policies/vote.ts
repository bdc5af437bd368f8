/**
 * What one scaling policy says at one decision: the shared shape every policy type returns, so that
 * decide() can combine several policies the way Application Auto Scaling does (scale out if any
 * policy asks, scale in only if all do, each by the largest resulting capacity).
 */
import type { DecisionBoundary } from '../../../core/run-format.ts';
import type { MetricDatapoint, PolicyState, ScalingPolicy } from '../types.ts';

/** A policy's opinion. `abstain` takes no part in the scale-in vote; `hold` blocks scale-in. */
export type PolicyVote =
  | { kind: 'out'; capacity: number; cause: string; withinCooldown: boolean; boundary?: DecisionBoundary }
  | { kind: 'in'; capacity: number; cause: string }
  | { kind: 'hold'; reason: string }
  | { kind: 'abstain'; reason: string };

/** Everything a policy may read; it never reads a clock or anything else. */
export interface PolicyContext<P extends ScalingPolicy = ScalingPolicy> {
  policy: P;
  resourceId: string;
  desired: number;
  eventTime: number;
  history: readonly MetricDatapoint[];
  state: PolicyState;
}

/** One policy type's evaluation function. */
export type PolicyEvaluator<P extends ScalingPolicy> = (ctx: PolicyContext<P>) => PolicyVote;

/** Formats a metric value for activity causes (AWS prints a few decimals). */
export function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}
