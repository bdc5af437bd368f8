/**
 * Recommendations per service: the minimum capacity that keeps utilisation at the target at the
 * peak the run saw, when to raise it (a scheduled action before the step, leading by the measured
 * scale-out lag plus a margin), the maximum capacity, and the account quota that needs. A
 * {@link Resimulate} callback (the simulator) checks them; without one the set says "not re-simulated".
 */
import type { Provenance } from '../../core/run-format.ts';
import type { ServiceCapacity } from './capacity.ts';
import type { ScaleOut } from './scale-out-lag.ts';
import type { ServiceSeries } from './service-series.ts';
import type { Recommendation, RecommendationSet, Resimulate } from './types.ts';

/** Model inputs of the recommendations (every one an assumption the user may override). */
export interface RecommendationAssumptions {
  /** Utilisation to size for at the peak (a target-tracking target is commonly 50–70%). */
  targetUtilisation: number;
  /** Maximum capacity as a multiple of the recommended minimum at peak. */
  maxFactor: number;
  /** Lead time before a step when no lag was measured (s): the inference of 4–6 min to capacity (docs/sources.md, Fargate and load balancer timings). */
  defaultLeadSeconds: number;
  /** Margin added to the measured lag (s). */
  marginSeconds: number;
  /** Availability floor (tasks). */
  floor: number;
  /** Fargate launch burst per account per Region (docs/sources.md: burst 100, then 20 tasks/s). */
  fargateLaunchBurst: number;
}

/** Defaults; sources in the field docs. */
export const DEFAULT_RECOMMENDATION_ASSUMPTIONS: RecommendationAssumptions = {
  targetUtilisation: 0.7,
  maxFactor: 1.5,
  defaultLeadSeconds: 360,
  marginSeconds: 300,
  floor: 2,
  fargateLaunchBurst: 100,
};

/** Computes recommendations (pure) — call {@link checkRecommendations} to re-simulate them. */
export function computeRecommendations(
  series: ServiceSeries[],
  caps: ServiceCapacity[],
  scaleOuts: ScaleOut[][],
  a: RecommendationAssumptions = DEFAULT_RECOMMENDATION_ASSUMPTIONS,
): Recommendation[] {
  const out: Recommendation[] = [];
  series.forEach((s, k) => {
    const cap = caps[k]!;
    const peakRps = Math.max(0, ...s.rps.map((r) => r ?? 0));
    const reasons: string[] = [];
    const assumptions = [
      `size for ${(a.targetUtilisation * 100).toFixed(0)}% utilisation at peak (assumption)`,
      `availability floor ${a.floor} tasks (reference stack rule)`,
    ];
    let min: number;
    if (cap.rpsPerTask !== null && cap.rpsPerTask > 0) {
      min = Math.max(a.floor, Math.ceil(peakRps / (cap.rpsPerTask * a.targetUtilisation)));
      reasons.push(
        `peak ${peakRps.toFixed(1)} rps ÷ (${cap.rpsPerTask.toFixed(1)} rps/task × ${a.targetUtilisation}) = ${min} tasks`,
      );
    } else {
      // No capacity per task, no sizing: the most tasks the run happened to run is not a minimum
      // (cart peaking at 67.5% CPU on 2 tasks does not need 5). The report says why (unsizedServices).
      return;
    }
    const max = Math.max(min + 1, Math.ceil(min * a.maxFactor));
    assumptions.push(
      `maximum = ${a.maxFactor}× the peak minimum (assumption: room for load above the profile)`,
    );
    const outs = (scaleOuts[k] ?? []).filter((o) => o.tasksAfter > o.tasksBefore);
    let preWarmAt: number | null = null;
    const baseRunning = s.running[0] ?? a.floor;
    if (outs.length > 0 || min > baseRunning) {
      const first = outs[0];
      const stepAt =
        first?.stepAt ?? s.times[s.rps.findIndex((r) => (r ?? 0) >= peakRps * 0.5)] ?? s.times[0] ?? 0;
      const lead = (first?.lagSeconds ?? a.defaultLeadSeconds) + a.marginSeconds;
      preWarmAt = stepAt - lead;
      reasons.push(
        first?.lagSeconds !== null && first?.lagSeconds !== undefined
          ? `raise the minimum at event ${preWarmAt}s: the step at ${stepAt}s took ${first.lagSeconds}s to reach capacity, plus ${a.marginSeconds}s margin`
          : `raise the minimum at event ${preWarmAt}s: ${a.defaultLeadSeconds}s typical time to capacity (docs/sources.md, inference) plus ${a.marginSeconds}s margin`,
      );
    }
    const provenance: Provenance = cap.provenance;
    out.push({
      service: s.name,
      minCapacity: min,
      maxCapacity: max,
      preWarmAt,
      reasons,
      assumptions,
      provenance,
    });
  });
  return out;
}

/**
 * Services that get no recommendation, and why: their capacity per task is unknown (no per-service
 * request metric, or no period at utilisation to measure it), so any minimum would be a guess.
 */
export function unsizedServices(series: ServiceSeries[], caps: ServiceCapacity[]): string[] {
  return series
    .filter((_, k) => !(caps[k]?.rpsPerTask !== null && (caps[k]?.rpsPerTask ?? 0) > 0))
    .map(
      (s) =>
        `${s.name}: no recommendation: its capacity per task is unknown (${s.rps.every((r) => r === null) ? 'no per-service request metric' : 'no period near its limit to measure it'}), so no minimum can be derived; the peak it ran (${Math.max(0, ...s.running)} tasks) is not a sizing`,
    );
}

/** Account-level notes: tasks launched at once vs the Fargate launch burst. */
export function quotaNotes(
  recs: Recommendation[],
  series: ServiceSeries[],
  a = DEFAULT_RECOMMENDATION_ASSUMPTIONS,
): string[] {
  const launches = recs.reduce(
    (sum, r, k) => sum + Math.max(0, r.minCapacity - (series[k]?.running[0] ?? 0)),
    0,
  );
  const maxTotal = recs.reduce((s, r) => s + r.maxCapacity, 0);
  const notes = [`all services at maximum: ${maxTotal} tasks (check the account's Fargate vCPU quota)`];
  if (launches > a.fargateLaunchBurst)
    notes.push(
      `pre-warming launches ${launches} tasks at once, above the Fargate launch burst of ${a.fargateLaunchBurst} (then 20 tasks/s; docs/sources.md): stagger the scheduled actions`,
    );
  else
    notes.push(
      `pre-warming launches ${launches} tasks, within the Fargate launch burst of ${a.fargateLaunchBurst}`,
    );
  return notes;
}

/** Runs the re-simulation when a callback is given; otherwise says so. */
export async function checkRecommendations(
  items: Recommendation[],
  series: ServiceSeries[],
  resimulate?: Resimulate,
): Promise<RecommendationSet> {
  const notes = quotaNotes(items, series);
  if (!resimulate)
    return {
      items,
      resimulation: {
        status: 'not-re-simulated',
        reason: 'no simulator was given to this report (run `peakday rehearse`)',
      },
      quotaNotes: notes,
    };
  const outcome = await resimulate(items);
  return { items, resimulation: { status: 're-simulated', outcome }, quotaNotes: notes };
}
