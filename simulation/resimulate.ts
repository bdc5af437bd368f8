/**
 * The simulator as the reports' `Resimulate` plug-in: re-plays a plan with the report's
 * recommendations applied (minimum and maximum tasks per service, and a scheduled action that raises
 * the minimum at the pre-warm time) and returns before/after breach minutes and Fargate compute cost,
 * so every recommendation is checked, not just asserted.
 *
 * A breach minute here is a series interval in which more than 1% of requests failed or a step's
 * estimated p95 exceeded `p95Ms` (default 2 s, the page budget of docs/sources.md), counted in
 * event minutes.
 */
import type { ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import type { ServiceScaling } from '../reference-stack/autoscaling/types.ts';
import type { Arch } from '../reference-stack/topology.ts';
import type { Recommendation, Resimulate, ResimulationOutcome } from '../reports/findings/types.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { PricingTable } from './pricing/pricing-table.ts';
import { type SimulateOptions, type SimulationResult, simulate } from './simulate.ts';

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

/** Breach minutes of a simulation (see the module comment). */
export function breachMinutes(
  r: SimulationResult,
  p95Ms: number,
): { total: number; byChannel: Record<string, number> } {
  const byT = new Map<string, { req: number; failed: number; slow: boolean; dt: number }>();
  for (const rec of r.series) {
    if (rec.step === null) continue;
    const key = `${rec.t}|${rec.channel}`;
    const e = byT.get(key) ?? { req: 0, failed: 0, slow: false, dt: r.findings.resolutionSeconds };
    e.req += rec.requests ?? 0;
    e.failed += rec.failed ?? 0;
    if ((rec.requests ?? 0) > 0 && (rec.latencyEstimate?.p95 ?? 0) > p95Ms) e.slow = true;
    byT.set(key, e);
  }
  const byChannel: Record<string, number> = {};
  const times = new Set<string>();
  for (const [key, e] of byT) {
    if (e.req <= 0 || !(e.slow || e.failed / e.req > 0.01)) continue;
    const [t, ch] = key.split('|') as [string, string];
    byChannel[ch] = (byChannel[ch] ?? 0) + e.dt / 60;
    times.add(t);
  }
  return { total: (times.size * r.findings.resolutionSeconds) / 60, byChannel };
}

/** Fargate compute (x86 vCPU-hours and GB-hours) of a simulation, priced; the part a topology decides. */
export function fargateComputeCost(
  r: SimulationResult,
  pricing: PricingTable,
): { vcpuHours: number; gbHours: number; usd: number } {
  let vcpuHours = 0;
  let gbHours = 0;
  for (const s of Object.values(r.findings.services)) {
    vcpuHours += s.vcpuHours;
    gbHours += s.memoryGbHours;
  }
  const usd =
    vcpuHours * pricing.prices['fargate.x86.vcpuHour'].value +
    gbHours * pricing.prices['fargate.x86.gbHour'].value;
  return { vcpuHours, gbHours, usd };
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
    calibration?: SimulateOptions['calibration'];
  },
): Resimulate {
  const p95 = options.p95Ms ?? 2000;
  const calibration = options.calibration ? { calibration: options.calibration } : {};
  return async (recs) => {
    const before = simulate(plan, {
      arch: options.arch,
      scaling: options.scaling,
      seed: options.seed,
      ...calibration,
    });
    const after = simulate(plan, {
      arch: options.arch,
      scaling: applyRecommendations(options.scaling, recs),
      seed: options.seed,
      ...calibration,
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
