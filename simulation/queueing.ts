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

function mixtureCdf(components: readonly MixtureComponent[], total: number, x: number): number {
  let acc = 0;
  for (const c of components) {
    if (c.weight <= 0 || x < c.shift) continue;
    acc += c.weight * (c.tail > 0 ? 1 - Math.exp(-(x - c.shift) / c.tail) : 1);
  }
  return acc / total;
}

/** The p-quantile of a weighted mixture (exact up to the bisection tolerance, 0.01 ms). */
export function mixtureQuantile(components: readonly MixtureComponent[], p: number): number {
  let total = 0;
  let hi = 0;
  for (const c of components) {
    if (c.weight <= 0) continue;
    total += c.weight;
    hi = Math.max(hi, shiftedExpQuantile(c, Math.min(1 - 1e-12, 1 - (1 - p) / 1e6)));
  }
  if (total === 0) return 0;
  let lo = 0;
  for (let i = 0; i < 80 && hi - lo > 0.01; i++) {
    const mid = (lo + hi) / 2;
    if (mixtureCdf(components, total, mid) < p) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The largest value a mixture is expected to show among `count` samples (its 1 − 1/count quantile). */
export function mixtureMax(components: readonly MixtureComponent[], count: number): number {
  if (count <= 1) return mixtureQuantile(components, 0.5);
  return mixtureQuantile(components, Math.min(1 - 1e-9, 1 - 1 / count));
}
