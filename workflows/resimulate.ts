/**
 * The simulator as the reports' `Resimulate` plug-in: re-plays a plan with the report's
 * recommendations applied (minimum and maximum tasks per service, and a scheduled action that raises
 * the minimum at the pre-warm time) and returns before/after breach minutes and Fargate compute cost
 * (simulation/cost.ts), so every recommendation is checked, not just asserted. It chains a model
 * (simulation/) into reports/, so it lives with the workflows that hand it to the report generator.
 */
import type { ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import type { ServiceScaling } from '../reference-stack/autoscaling/types.ts';
import type { Arch } from '../reference-stack/topology.ts';
import type { Recommendation, Resimulate, ResimulationOutcome } from '../reports/findings/types.ts';
import type { Plan } from '../scenarios/plan.ts';
import { breachMinutes, fargateComputeCost } from '../simulation/cost.ts';
import type { PricingTable } from '../simulation/pricing/pricing-table.ts';
import { type SimulateOptions, simulate } from '../simulation/simulate.ts';

/** Applies recommendations to a scaling config (pure). */
export function applyRecommendations(base: ScalingConfig, recs: readonly Recommendation[]): ScalingConfig {
  const services: Record<string, ServiceScaling> = { ...base.services };
  for (const r of recs) {
    const s = services[r.service];
    if (!s) continue;
    const max = Math.max(r.maxCapacity, r.minCapacity, s.minCapacity);
    services[r.service] =
      r.preWarmAt === null
        ? {
            ...s,
            minCapacity: r.minCapacity,
            initialDesired: Math.max(s.initialDesired, r.minCapacity),
            maxCapacity: max,
          }
        : {
            ...s,
            maxCapacity: max,
            scheduledActions: [
              ...s.scheduledActions,
              {
                name: `pre-warm-${r.service}`,
                at: r.preWarmAt,
                minCapacity: r.minCapacity,
                maxCapacity: max,
              },
            ],
          };
  }
  return { ...base, services };
}

/** Creates the plug-in for one plan, topology and scaling. */
export function createResimulate(
  plan: Plan,
  options: {
    arch: Arch;
    scaling: ScalingConfig;
    seed: number;
    pricing: PricingTable;
    p95Ms?: number;
    /** The capacity the simulated run used (a rehearsal's measured one): the check must use it too. */
    efficiency?: SimulateOptions['efficiency'];
  },
): Resimulate {
  const p95 = options.p95Ms ?? 2000;
  const efficiency = options.efficiency ? { efficiency: options.efficiency } : {};
  return async (recs) => {
    const before = simulate(plan, {
      arch: options.arch,
      scaling: options.scaling,
      seed: options.seed,
      ...efficiency,
    });
    const after = simulate(plan, {
      arch: options.arch,
      scaling: applyRecommendations(options.scaling, recs),
      seed: options.seed,
      ...efficiency,
    });
    const b = breachMinutes(before, p95);
    const a = breachMinutes(after, p95);
    const outcome: ResimulationOutcome = {
      before: {
        breachMinutes: b.total,
        costUsd: Math.round(fargateComputeCost(before, options.pricing).usd * 100) / 100,
        byChannel: b.byChannel,
      },
      after: {
        breachMinutes: a.total,
        costUsd: Math.round(fargateComputeCost(after, options.pricing).usd * 100) / 100,
        byChannel: a.byChannel,
      },
      notes: [
        `re-simulated ${plan.profile.name} (${options.arch}) with the recommendations applied; breach minute = >1% failed or estimated p95 > ${p95} ms; cost = Fargate compute`,
      ],
    };
    return outcome;
  };
}
