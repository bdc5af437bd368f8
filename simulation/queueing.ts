/**
 * The queueing approximations the simulator uses for latency, in one place so they are documented
 * and tested (docs/simulation.md "Latency model").
 *
 * A deployable with `tasks` healthy tasks of `slots` virtual CPUs each is an M/M/c queue per task
 * (the load balancer spreads evenly) plus a fluid backlog that builds when demand exceeds capacity:
 * - service time S = demand × slowdown (a 0.25-vCPU task runs its one virtual CPU at quarter speed,
 *   exactly as the local replica's capacity emulator does: reference-stack/capacity/emulator.ts);
 * - steady-state waiting, Sakasegawa's M/M/c approximation: Wq ≈ S·ρ^(√(2(c+1))−1) / (c(1−ρ)) (exact for c = 1), with ρ
 *   capped at 0.98 so an overloaded period is governed by the backlog instead;
 * - backlog waiting: the time to drain the backlog ahead of a request, B / capacity.
 * A request's latency is modelled as a shifted exponential: a deterministic part (half the service
 * time, the floor no request beats) plus an exponential tail with the rest of the mean. Its
 * percentiles are closed-form, and mixtures of such components (periods, steps) are solved exactly
 * by bisection on their summed CDFs.
 */

/** Mean waiting time (same unit as `serviceTime`) in an M/M/c queue at utilisation `rho`. */
export function mmcWait(serviceTime: number, servers: number, rho: number): number {
  if (!(rho > 0) || servers <= 0) return 0;
  const r = Math.min(rho, 0.98);
  return (serviceTime * r ** (Math.sqrt(2 * (servers + 1)) - 1)) / (servers * (1 - r));
}

/** A latency distribution: `shift + Exp(mean = tail)`, in ms. */
export interface ShiftedExp {
  shift: number;
  tail: number;
}

/** The p-quantile (0 < p < 1) of a shifted exponential. */
export function shiftedExpQuantile(d: ShiftedExp, p: number): number {
  return d.shift + (d.tail > 0 ? -d.tail * Math.log(1 - p) : 0);
}

/** Mean of a shifted exponential. */
export function shiftedExpMean(d: ShiftedExp): number {
  return d.shift + d.tail;
}

/** Weighted mixture of shifted exponentials. */
export interface MixtureComponent extends ShiftedExp {
  weight: number;
}

/**
 * A mixture packed into typed arrays for repeated quantiles: a run's summary solves five quantiles
 * over every interval's component (hundreds of thousands at event scale), so the CDF walks flat
 * arrays instead of objects. Same bisection, same tolerance as `mixtureQuantile`.
 */
export interface PackedMixture {
  /** The p-quantile (0 < p < 1). */
  quantile(p: number): number;
  /** Total weight (the request count). */
  total: number;
}

/** Packs components (those with positive weight) for `PackedMixture.quantile`. */
export function packMixture(components: readonly MixtureComponent[]): PackedMixture {
  let n = 0;
  for (const c of components) if (c.weight > 0) n++;
  const shift = new Float64Array(n);
  const tail = new Float64Array(n);
  const weight = new Float64Array(n);
  let total = 0;
  let i = 0;
  for (const c of components) {
    if (c.weight <= 0) continue;
    shift[i] = c.shift;
    tail[i] = c.tail;
    weight[i] = c.weight;
    total += c.weight;
    i++;
  }
  return {
    total,
    quantile(p) {
      if (n === 0) return 0;
      // One component (a series interval): closed form, no bisection.
      if (n === 1) return shiftedExpQuantile({ shift: shift[0] as number, tail: tail[0] as number }, p);
      let hi = 0;
      const q = Math.min(1 - 1e-12, 1 - (1 - p) / 1e6);
      for (let j = 0; j < n; j++)
        hi = Math.max(hi, shiftedExpQuantile({ shift: shift[j] as number, tail: tail[j] as number }, q));
      // Safeguarded Newton on the CDF (its density comes from the same exponentials), inside a
      // bracket [lo, hi] with cdf(lo) < p ≤ cdf(hi); a step that leaves the bracket bisects. Near the
      // root, the next point is set just past the Newton estimate so that the bracket closes from the
      // other side too. Same answer as bisection (the bracket's upper end, within 0.01 ms) in a
      // handful of passes over the components instead of about twenty.
      let lo = 0;
      let x = hi / 2;
      for (let k = 0; k < 100 && hi - lo > 0.01; k++) {
        let F = 0;
        let f = 0;
        for (let j = 0; j < n; j++) {
          const sj = shift[j] as number;
          if (x < sj) continue;
          const t = tail[j] as number;
          const w = weight[j] as number;
          if (t > 0) {
            const e = Math.exp(-(x - sj) / t);
            F += w * (1 - e);
            f += (w * e) / t;
          } else F += w;
        }
        F /= total;
        f /= total;
        if (F < p) lo = x;
        else hi = x;
        let next = f > 0 ? x + (p - F) / f : Number.NaN;
        if (Math.abs(next - x) < 0.004) next += F < p ? 0.004 : -0.004;
        x = next > lo && next < hi ? next : (lo + hi) / 2;
      }
      return hi;
    },
  };
}

/** The p-quantile of a weighted mixture (exact for one component, else up to the bisection tolerance, 0.01 ms). */
export function mixtureQuantile(components: readonly MixtureComponent[], p: number): number {
  return packMixture(components).quantile(p);
}

/** The largest value a mixture is expected to show among `count` samples (its 1 − 1/count quantile). */
export function mixtureMax(components: readonly MixtureComponent[], count: number): number {
  if (count <= 1) return mixtureQuantile(components, 0.5);
  return mixtureQuantile(components, Math.min(1 - 1e-9, 1 - 1 / count));
}
