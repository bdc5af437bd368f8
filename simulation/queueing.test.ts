import { describe, expect, it } from 'vitest';
import {
  concurrencyCapLoss,
  erlangB,
  mixtureMax,
  mixtureQuantile,
  mmcInSystem,
  mmcWait,
  shiftedExpQuantile,
  transientQueueStep,
} from './queueing.ts';

describe('queueing approximations', () => {
  it('gives M/M/1 waiting exactly for one server (Wq = S·ρ/(1−ρ))', () => {
    expect(mmcWait(10, 1, 0.5)).toBeCloseTo(10, 9);
    expect(mmcWait(10, 1, 0.8)).toBeCloseTo(40, 9);
  });

  it('waits less with more servers at the same utilisation', () => {
    expect(mmcWait(10, 4, 0.8)).toBeLessThan(mmcWait(10, 1, 0.8));
  });

  it('has no waiting at zero load and bounded waiting when overloaded', () => {
    expect(mmcWait(10, 2, 0)).toBe(0);
    expect(Number.isFinite(mmcWait(10, 2, 5))).toBe(true);
  });

  it('computes shifted-exponential quantiles in closed form', () => {
    expect(shiftedExpQuantile({ shift: 5, tail: 10 }, 0.5)).toBeCloseTo(5 + 10 * Math.LN2, 9);
    expect(shiftedExpQuantile({ shift: 5, tail: 0 }, 0.99)).toBe(5);
  });

  it('solves a mixture quantile: one component alone gives its own quantile', () => {
    const q = mixtureQuantile([{ shift: 2, tail: 8, weight: 3 }], 0.95);
    expect(q).toBeCloseTo(shiftedExpQuantile({ shift: 2, tail: 8 }, 0.95), 1);
  });

  it('puts the p95 of a 90/10 mixture of fast and slow requests inside the slow component', () => {
    const fast = { shift: 1, tail: 1, weight: 90 };
    const slow = { shift: 100, tail: 50, weight: 10 };
    const p95 = mixtureQuantile([fast, slow], 0.95);
    // Half of the slow component lies below its median: the p95 is the slow component's median.
    expect(p95).toBeCloseTo(shiftedExpQuantile(slow, 0.5), 0);
  });
});

describe('mixture quantiles by safeguarded Newton', () => {
  /** Plain bisection on the mixture's CDF: the reference the solver must match within 0.01 ms. */
  function bisect(cs: { shift: number; tail: number; weight: number }[], p: number): number {
    const total = cs.reduce((a, c) => a + c.weight, 0);
    const cdf = (x: number) =>
      cs.reduce(
        (a, c) => a + (x < c.shift ? 0 : c.weight * (c.tail > 0 ? 1 - Math.exp(-(x - c.shift) / c.tail) : 1)),
        0,
      ) / total;
    let lo = 0;
    let hi = 1e7;
    while (hi - lo > 1e-6) {
      const mid = (lo + hi) / 2;
      if (cdf(mid) < p) lo = mid;
      else hi = mid;
    }
    return hi;
  }
  const cases = [
    {
      name: 'fast and slow requests',
      cs: [
        { shift: 1, tail: 1, weight: 90 },
        { shift: 100, tail: 50, weight: 10 },
      ],
    },
    {
      name: 'a point mass of rejections beside served requests',
      cs: [
        { shift: 3, tail: 0, weight: 40 },
        { shift: 5, tail: 200, weight: 60 },
      ],
    },
    {
      name: 'many similar intervals',
      cs: Array.from({ length: 50 }, (_, i) => ({ shift: 10 + i, tail: 20 + 3 * i, weight: 1 + (i % 7) })),
    },
    {
      name: 'a long queue in a few intervals',
      cs: [
        { shift: 2, tail: 5, weight: 1000 },
        { shift: 40, tail: 30_000, weight: 3 },
      ],
    },
  ];
  // (Not p = 0.9 in the first case: its CDF is flat at exactly 0.9 up to 100 ms in floating point.)
  it.each(cases)('agrees with bisection within 0.01 ms for $name', ({ cs }) => {
    for (const p of [0.5, 0.8, 0.95, 0.99, 0.999999]) {
      const q = mixtureQuantile(cs, p);
      const ref = bisect(cs, p);
      expect(q).toBeGreaterThanOrEqual(ref - 1e-6);
      expect(q - ref).toBeLessThanOrEqual(0.01 + 1e-6);
    }
  });
});

describe('the expected maximum of a mixture', () => {
  it('stays finite for billions of samples', () => {
    const m = mixtureMax([{ shift: 1, tail: 2, weight: 4e10 }], 4e10);
    expect(Number.isFinite(m)).toBe(true);
    expect(m).toBeGreaterThan(shiftedExpQuantile({ shift: 1, tail: 2 }, 0.999));
  });
});

describe('the transient M/M/c queue (pointwise stationary fluid flow)', () => {
  const run = (x0: number, lambda: number, mu: number, c: number, dt: number, seconds: number) => {
    let s = { x: x0, rho: 0 };
    for (let t = 0; t < seconds - 1e-9; t += dt) s = transientQueueStep(s.x, lambda, mu, c, dt);
    return s;
  };

  it.each([1, 2, 4])(
    'settles at the steady-state M/M/%i length under a constant load below capacity',
    (c) => {
      const s = run(0, 0.7 * 10 * c, 10 * c, c, 0.05, 600);
      expect(s.rho).toBeCloseTo(0.7, 3);
      expect(s.x).toBeCloseTo(mmcInSystem(c, 0.7), 2);
    },
  );

  it('builds a near-saturated queue over time instead of at once', () => {
    // ρ = 0.98 at 10 requests/s: 49 in the system in steady state, reached only after minutes.
    const early = run(0, 9.8, 10, 1, 0.1, 5);
    expect(early.x).toBeLessThan(10);
    const late = run(0, 9.8, 10, 1, 0.1, 3600);
    expect(late.x).toBeGreaterThan(40);
  });

  it('grows by the excess over capacity as a fluid backlog, and drains at the capacity', () => {
    const over = run(0, 30, 10, 1, 0.1, 10);
    // 20 requests/s beyond capacity for 10 s; a little more, as the server is not busy every instant.
    expect(over.x).toBeGreaterThan(200);
    expect(over.x).toBeLessThan(205);
    const drained = run(over.x, 0, 10, 1, 0.1, 10);
    expect(drained.x).toBeGreaterThan(over.x - 100);
    expect(drained.x).toBeLessThan(over.x - 100 + 5);
  });

  it('is stable for a step much longer than the service time', () => {
    const s = transientQueueStep(0, 5, 10, 1, 1000);
    expect(s.x).toBeGreaterThan(0.99);
    expect(s.x).toBeLessThan(1.01);
    expect(transientQueueStep(0, 0, 10, 1, 1)).toEqual({ x: 0, rho: 0 });
  });
});

describe("the load generator's concurrency cap as a loss system", () => {
  it.each([
    { c: 1, a: 1, b: 0.5 },
    { c: 2, a: 1, b: 0.2 },
    { c: 5, a: 3, b: 0.11005 },
    { c: 10, a: 10, b: 0.21458 },
  ])("gives Erlang's B($c, $a) = $b", ({ c, a, b }) => {
    expect(erlangB(c, a)).toBeCloseTo(b, 4);
  });

  it('interpolates between whole numbers of places and drops nothing without load', () => {
    expect(erlangB(1.5, 1)).toBeCloseTo((0.5 + 0.2) / 2, 9);
    expect(erlangB(3, 0)).toBe(0);
  });

  it('drops Erlang B at Poisson arrivals, fewer at evenly spaced ones, none at constant holding far below the cap', () => {
    const poisson = concurrencyCapLoss(10, 8, { mean: 1, sd: 1 }, 'poisson');
    expect(poisson).toBeCloseTo(erlangB(10, 8), 12);
    const even = concurrencyCapLoss(10, 8, { mean: 1, sd: 1 }, 'even');
    expect(even).toBeLessThan(poisson);
    expect(even).toBeGreaterThan(0);
    expect(concurrencyCapLoss(10, 8, { mean: 1, sd: 0 }, 'even')).toBeLessThan(1e-6);
    // Overloaded ten times: about 1 − cap/offered either way.
    expect(concurrencyCapLoss(10, 100, { mean: 1, sd: 1 }, 'even')).toBeCloseTo(0.9, 1);
  });
});
