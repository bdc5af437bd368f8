import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/rng.ts';
import { mixtureQuantile } from './observe.ts';
import type { WeightedEstimate } from './slices.ts';

const KNOTS = [
  ['p50', 0.5],
  ['p90', 0.9],
  ['p95', 0.95],
  ['p99', 0.99],
  ['max', 1],
] as const;

/** The mixture's CDF read knot by knot, and its quantile by bisection: the definition it must match. */
function bisect(est: WeightedEstimate[], q: number): number {
  const cdf1 = (e: WeightedEstimate['estimate'], v: number) => {
    let pv = 0;
    let pq = 0;
    for (const [k, kq] of KNOTS) {
      const x = e[k];
      if (v < x) return x === pv ? pq : pq + ((kq - pq) * (v - pv)) / (x - pv);
      pv = x;
      pq = kq;
    }
    return 1;
  };
  const total = est.reduce((a, e) => a + e.weight, 0);
  const cdf = (v: number) => est.reduce((a, e) => a + e.weight * cdf1(e.estimate, v), 0) / total;
  let lo = 0;
  let hi = Math.max(...est.map((e) => e.estimate.max));
  for (let i = 0; i < 200 && hi - lo > 1e-9; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) >= q) hi = mid;
    else lo = mid;
  }
  return hi;
}

function randomEstimates(seed: number, n: number): WeightedEstimate[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    // Some estimates sit at a bound (a timeout: every knot equal) or start at 0.
    const kind = rng.int(5);
    const p50 = kind === 0 ? 0 : rng.next() * 500;
    const p90 = kind === 1 ? p50 : p50 + rng.next() * 500;
    const p95 = p90 + rng.next() * 200;
    const p99 = kind === 2 ? p95 : p95 + rng.next() * 2000;
    const max = kind === 3 ? p99 : Math.min(10000, p99 + rng.next() * 5000);
    return { estimate: { p50, p90, p95, p99, max }, weight: rng.next() * 1000 };
  });
}

describe('the quantile of a mixture of simulated latency estimates', () => {
  it.each([1, 2, 3, 4, 5])('equals the bisection of its CDF on random mixtures (seed %i)', (seed) => {
    const est = randomEstimates(seed, 300);
    for (const q of [0.5, 0.9, 0.95, 0.99, 0.999]) {
      const exact = mixtureQuantile(est, q);
      expect(exact).not.toBeNull();
      expect(Math.abs((exact as number) - bisect(est, q))).toBeLessThan(1e-6);
    }
  });

  it('reads one estimate at its own knots and between them linearly', () => {
    const est = [{ estimate: { p50: 100, p90: 200, p95: 300, p99: 400, max: 500 }, weight: 7 }];
    expect(mixtureQuantile(est, 0.5)).toBeCloseTo(100, 9);
    expect(mixtureQuantile(est, 0.95)).toBeCloseTo(300, 9);
    expect(mixtureQuantile(est, 0.7)).toBeCloseTo(150, 9);
    expect(mixtureQuantile(est, 0.25)).toBeCloseTo(50, 9);
  });

  it('gives the bound when every estimate sits at it (a timed-out interval)', () => {
    const est = [{ estimate: { p50: 10000, p90: 10000, p95: 10000, p99: 10000, max: 10000 }, weight: 3 }];
    expect(mixtureQuantile(est, 0.95)).toBe(bisect(est, 0.95));
  });

  it('declines knots out of order, for the caller to bisect', () => {
    const est = [{ estimate: { p50: 300, p90: 200, p95: 300, p99: 400, max: 500 }, weight: 1 }];
    expect(mixtureQuantile(est, 0.95)).toBeNull();
  });
});
