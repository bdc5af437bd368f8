/**
 * A service with no per-service request metric (no load balancer target group, no Service Connect,
 * no custom metric) still received traffic when a load run drove the system: its rate is estimated
 * as the load run's request rate × the service's share of that traffic. The share is a model input
 * (`assumptions.trafficShare.<service>` in peakday.config.yaml); without one it is 1, which counts
 * the service's traffic in the load run's requests (capacity per task is then "load-run requests per
 * second per task", the unit recommendations and utilisation need, since both sides scale alike).
 *
 * What the estimate makes honest, and what it does not:
 * - A traffic step is a ratio (STEP_RATIO× the preceding level), and a constant share cancels in a
 *   ratio: the load run's step is the service's step, so scale-out lag is measured, with that
 *   assumption stated.
 * - Capacity per task comes from CPU alone (rate per task ÷ CPU, the linear CPU model) and is labelled
 *   an estimate, with its method, on every finding and recommendation that rests on it.
 * Periods the load run did not cover stay unknown (null), never zero. Pure.
 */

import type { ServiceSeries } from './service-series.ts';
import type { Finding, FindingKind, Recommendation } from './types.ts';

/** How a series' request rate was estimated, carried on the series and shown with every finding. */
export interface TrafficEstimate {
  method: 'load-run-share';
  /** The share of the load run's requests the service is taken to serve. */
  share: number;
  /** Where the share came from: the user's config, or the default of 1 (an assumption). */
  shareSource: string;
  /** One sentence a reader sees on each finding that rests on the estimate. */
  label: string;
}

/** The load run's request rate on its own intervals (reports/run/load-series.ts). */
export interface LoadRate {
  times: readonly number[];
  /** Event seconds per interval. */
  intervalSeconds: number;
  /** Wall requests per second of each interval. */
  rps: readonly number[];
}

/**
 * The mean load-run rate over each period [t, t + period) of event time, weighted by overlap; null
 * where no load interval overlaps the period (before or after the run: unknown, not zero).
 */
export function loadRateOnPeriods(
  load: LoadRate,
  times: readonly number[],
  period: number,
): (number | null)[] {
  const width = load.intervalSeconds || 1;
  return times.map((t) => {
    let covered = 0;
    let sum = 0;
    for (let j = 0; j < load.times.length; j++) {
      const a = load.times[j]!;
      const o = Math.min(t + period, a + width) - Math.max(t, a);
      if (o <= 0) continue;
      covered += o;
      sum += o * (load.rps[j] ?? 0);
    }
    return covered > 0 ? sum / covered : null;
  });
}

/**
 * Fills the request rate of every series that has no request metric at all from the load run's rate ×
 * the service's share (`shares`, by service; default 1). Series with a measured rate, and runs with
 * no load (a metrics window with no load run), are returned as they are.
 */
export function estimateTrafficFromLoad(
  series: readonly ServiceSeries[],
  load: LoadRate,
  shares: Readonly<Record<string, number>> = {},
): ServiceSeries[] {
  const anyLoad = load.rps.some((r) => r > 0);
  return series.map((s) => {
    if (!anyLoad || !s.rps.every((r) => r === null)) return s;
    const userShare = shares[s.name];
    const share = userShare ?? 1;
    const shareSource =
      userShare !== undefined
        ? `assumptions.trafficShare.${s.name} = ${share} (user-set)`
        : `share 1 (assumption: rates counted in the load run's requests; set assumptions.trafficShare.${s.name} in peakday.config.yaml for the service's own requests)`;
    const rate = loadRateOnPeriods(load, s.times, s.period);
    if (rate.every((r) => r === null)) return s;
    const rps = rate.map((r) => (r === null ? null : r * share));
    const rpsPerTask = rps.map((r, i) => {
      const running = s.running[i] ?? 0;
      return r === null || running <= 0 ? null : r / running;
    });
    const estimate: TrafficEstimate = {
      method: 'load-run-share',
      share,
      shareSource,
      label: `estimate: ${s.name} has no per-service request metric, so its rate is the load run's request rate × ${shareSource}; it assumes that share is constant over the run`,
    };
    return { ...s, rps, rpsPerTask, rpsEstimate: estimate };
  });
}

/** Kinds of finding whose numbers rest on a service's request rate. */
const RATE_KINDS: ReadonlySet<FindingKind> = new Set([
  'capacity',
  'headroom',
  'peak-ratio',
  'under-provisioned',
  'scale-out-lag',
  'usl',
]);

/**
 * Labels every finding about a service whose rate is estimated: the estimate's sentence first in
 * its evidence, `data.rateEstimate` for JSON readers, and "(estimate)" in capacity titles.
 */
export function labelEstimatedFindings(findings: Finding[], series: readonly ServiceSeries[]): void {
  const est = new Map(series.filter((s) => s.rpsEstimate).map((s) => [s.name, s.rpsEstimate!]));
  for (const f of findings) {
    const e = f.service ? est.get(f.service) : undefined;
    if (!e || !RATE_KINDS.has(f.kind)) continue;
    if (f.data?.reason === 'no-request-metric') continue;
    f.evidence.unshift(e.label);
    f.data = { ...f.data, rateEstimate: { method: e.method, share: e.share, shareSource: e.shareSource } };
    if (f.kind === 'capacity' && f.value !== undefined) f.title = `${f.title} (estimate from CPU)`;
  }
}

/** Adds the estimate to the assumptions of recommendations that rest on an estimated capacity. */
export function labelEstimatedRecommendations(
  items: Recommendation[],
  series: readonly ServiceSeries[],
): void {
  const est = new Map(series.filter((s) => s.rpsEstimate).map((s) => [s.name, s.rpsEstimate!]));
  for (const r of items) {
    const e = est.get(r.service);
    if (e) r.assumptions.push(`capacity per task and peak are estimates (${e.label})`);
  }
}
