import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/rng.ts';
import { fitUsl, isUslFit, uslThroughput } from './usl.ts';

const levels = [1, 2, 4, 8, 16, 32, 64];

describe('fitUsl', () => {
  it.each([
    { sigma: 0.05, kappa: 0.001, lambda: 100 },
    { sigma: 0.2, kappa: 0.0001, lambda: 40 },
    { sigma: 0, kappa: 0, lambda: 10 },
  ])('recovers σ=$sigma κ=$kappa λ=$lambda from exact data', (p) => {
    const fit = fitUsl(levels.map((n) => ({ concurrency: n, throughput: uslThroughput(n, p) })));
    if (!isUslFit(fit)) throw new Error(fit.reason);
    expect(fit.sigma).toBeCloseTo(p.sigma, 4);
    expect(fit.kappa).toBeCloseTo(p.kappa, 6);
    expect(fit.lambda).toBeCloseTo(p.lambda, 3);
    expect(fit.r2).toBeGreaterThan(0.9999);
  });

  it('stays close with 2% seeded noise and reports a good but imperfect R²', () => {
    const p = { sigma: 0.08, kappa: 0.0005, lambda: 50 };
    const rng = createRng(7);
    const pts = [];
    for (const n of [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64])
      for (let k = 0; k < 3; k++)
        pts.push({ concurrency: n, throughput: uslThroughput(n, p) * (1 + 0.02 * (rng.next() * 2 - 1)) });
    const fit = fitUsl(pts);
    if (!isUslFit(fit)) throw new Error(fit.reason);
    expect(fit.sigma).toBeGreaterThan(0.06);
    expect(fit.sigma).toBeLessThan(0.1);
    expect(fit.lambda).toBeGreaterThan(45);
    expect(fit.lambda).toBeLessThan(55);
    expect(fit.r2).toBeGreaterThan(0.95);
    expect(fit.r2).toBeLessThan(1);
    expect(fit.peakConcurrency).toBeGreaterThan(30);
  });

  it.each([
    ['too few levels', [1, 2, 4], 'distinct concurrency levels'],
    ['too narrow a span', [10, 11, 12, 13, 14], 'spans'],
  ])('refuses to fit with %s', (_n, ns, reason) => {
    const fit = fitUsl(ns.map((n) => ({ concurrency: n, throughput: n * 10 })));
    expect(isUslFit(fit)).toBe(false);
    if (!isUslFit(fit)) expect(fit.reason).toContain(reason);
  });
});
