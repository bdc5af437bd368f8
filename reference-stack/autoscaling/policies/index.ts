/** The registry of scaling-policy types: one evaluator per Application Auto Scaling PolicyType. */
import type { PolicyType, ScalingPolicy } from '../types.ts';
import { evaluateStepScaling } from './step-scaling.ts';
import { evaluateTargetTracking } from './target-tracking.ts';
import type { PolicyContext, PolicyEvaluator, PolicyVote } from './vote.ts';

/** Evaluators keyed by PolicyType, as PutScalingPolicy names them. */
export const policyEvaluators = {
  TargetTrackingScaling: evaluateTargetTracking,
  StepScaling: evaluateStepScaling,
} satisfies { [K in PolicyType]: PolicyEvaluator<Extract<ScalingPolicy, { type: K }>> };

/** Evaluates any policy through the registry. */
export function evaluatePolicy(ctx: PolicyContext): PolicyVote {
  const evaluator = policyEvaluators[ctx.policy.type] as PolicyEvaluator<ScalingPolicy>;
  return evaluator(ctx);
}
