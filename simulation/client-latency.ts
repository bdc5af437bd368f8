/**
 * The latency a client records, from the simulator's shifted-exponential components
 * (simulation/queueing.ts): a request that would outlast the client's timeout fails as a timeout and
 * is recorded at the timeout, exactly as the engine's histogram records it (docs/simulation.md
 * "Latency model").
 */
import type { Percentiles } from '../core/run-format.ts';
import { type MixtureComponent, packedQuantile, packMixture } from './queueing.ts';

/** Rounds to hundredths, as every figure the simulator writes. */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The percentiles of no requests. */
export function emptyPercentiles(): Percentiles {
  return { count: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
}

/**
 * Fraction of a shifted exponential (shift + Exp(tail), ms) beyond the client's timeout: those
 * requests fail as timeouts, as the engine records them.
 */
export function timeoutFraction(shift: number, tail: number, timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs)) return 0;
  if (shift >= timeoutMs) return 1;
  if (!(tail > 0)) return 0;
  const z = (timeoutMs - shift) / tail;
  // exp(−40) ≈ 4e−18: nothing a count of requests can show, and the common case (no queue).
  return z > 40 ? 0 : Math.exp(-z);
}

/** E[min(L, timeout)] for L = shift + Exp(tail): the latency a client records, timeouts at the timeout. */
export function truncatedMean(shift: number, tail: number, timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs)) return shift + tail;
  if (shift >= timeoutMs) return timeoutMs;
  // Past 40 tails from the timeout, exp(−z) < 5e−18 and 1 − exp(−z) is 1 exactly (the common case:
  // no queue): the same answer without the exponential.
  if (tail > 0 && (timeoutMs - shift) / tail > 40) return shift + tail;
  return shift + (tail > 0 ? tail * (1 - Math.exp(-(timeoutMs - shift) / tail)) : 0);
}

/**
 * Percentiles of a mixture as the client records them: a request that times out is recorded at the
 * timeout (the engine's histogram does the same), so every quantile is min(quantile, timeout).
 */
export function percentilesOf(components: readonly MixtureComponent[], timeoutMs: number): Percentiles {
  let count = 0;
  let mean = 0;
  for (const c of components) {
    count += c.weight;
    mean += c.weight * truncatedMean(c.shift, c.tail, timeoutMs);
  }
  if (count === 0) return emptyPercentiles();
  const packed = packMixture(components);
  const q = (p: number) => round2(Math.min(timeoutMs, packed.quantile(p)));
  // mixtureMax: the 1 − 1/n quantile (the median for one request).
  const max = count <= 1 ? packed.quantile(0.5) : packed.quantile(Math.min(1 - 1e-9, 1 - 1 / count));
  return {
    count: Math.round(count),
    mean: round2(mean / count),
    p50: q(0.5),
    p90: q(0.9),
    p95: q(0.95),
    p99: q(0.99),
    max: round2(Math.min(timeoutMs, max)),
  };
}

/**
 * {@link percentilesOf} of the first `n` components held in flat arrays (every weight positive),
 * written into `out`: the same figures, the same sums in the same order, without allocating (a run
 * computes them for every (scenario, step) of every series interval: simulate-series.ts).
 */
export function percentilesOfParts(
  shift: Float64Array,
  tail: Float64Array,
  weight: Float64Array,
  n: number,
  timeoutMs: number,
  out: Percentiles,
): Percentiles {
  let count = 0;
  let mean = 0;
  for (let j = 0; j < n; j++) {
    const w = weight[j] as number;
    count += w;
    mean += w * truncatedMean(shift[j] as number, tail[j] as number, timeoutMs);
  }
  if (count === 0) return Object.assign(out, emptyPercentiles());
  // mixtureMax: the 1 − 1/n quantile (the median for one request).
  const max =
    count <= 1
      ? packedQuantile(shift, tail, weight, n, count, 0.5)
      : packedQuantile(shift, tail, weight, n, count, Math.min(1 - 1e-9, 1 - 1 / count));
  out.count = Math.round(count);
  out.mean = round2(mean / count);
  out.p50 = round2(Math.min(timeoutMs, packedQuantile(shift, tail, weight, n, count, 0.5)));
  out.p90 = round2(Math.min(timeoutMs, packedQuantile(shift, tail, weight, n, count, 0.9)));
  out.p95 = round2(Math.min(timeoutMs, packedQuantile(shift, tail, weight, n, count, 0.95)));
  out.p99 = round2(Math.min(timeoutMs, packedQuantile(shift, tail, weight, n, count, 0.99)));
  out.max = round2(Math.min(timeoutMs, max));
  return out;
}
