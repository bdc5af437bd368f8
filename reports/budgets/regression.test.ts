import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/rng.ts';
import type { Budget } from '../../scenarios/budgets/budget.ts';
import { parseBudgetsText } from '../../scenarios/budgets/parse-budgets.ts';
import { constructRun } from '../../scenarios/budgets/testing.ts';
import type { RunInput } from './evaluate.ts';
import { compareToBaseline } from './regression.ts';

const p95: Budget = parseBudgetsText('budgets:\n  - metric: latency\n    threshold: p95 < 2s\n', 'b.yaml')
  .budgets[0] as Budget;

/**
 * A noisy run: each second's latency level wanders around 200 ms (lognormal, sigma `wander`), and
 * the 50 requests of a second spread around that level; `factor` scales every latency (a regression).
 */
function noisyRun(seed: number, seconds: number, factor: number, wander = 0.35): RunInput {
  const rng = createRng(seed);
  return constructRun(seconds, () => {
    const level = 200 * Math.exp(rng.normal(0, wander));
    const latency: [number, number][] = [];
    for (let i = 0; i < 50; i++) latency.push([level * Math.exp(rng.normal(0, 0.5)) * factor, 1]);
    return [{ requests: 50, latency }];
  });
}

describe('regression against a baseline (block bootstrap over per-second histograms)', () => {
  it.each([1, 2, 3, 4])('fails a real 20% regression (5-minute runs, seed %d)', (seed) => {
    const r = compareToBaseline(p95, noisyRun(seed, 300, 1.2, 0.15), noisyRun(seed + 50, 300, 1, 0.15), {
      maxRegression: 0.1,
    });
    expect(r?.verdict).toBe('fail');
    expect(r?.ciLow).toBeGreaterThan(0.1);
    expect(r?.reason).toMatch(/beyond the allowed 10.0% and the noise/);
  });

  it('passes the same 5-minute runs without the regression', () => {
    const r = compareToBaseline(p95, noisyRun(1, 300, 1, 0.15), noisyRun(51, 300, 1, 0.15), {
      maxRegression: 0.1,
    });
    expect(r?.verdict).toBe('pass');
    expect(Math.abs(r?.change ?? 1)).toBeLessThan(0.1);
  });

  it('does not fail on noise alone, even when the observed change exceeds the allowance', () => {
    const results = [];
    for (let seed = 1; seed <= 12; seed++) {
      results.push(
        compareToBaseline(p95, noisyRun(100 + seed, 30, 1), noisyRun(200 + seed, 30, 1), {
          maxRegression: 0.1,
        }),
      );
    }
    expect(results.every((r) => r?.verdict === 'pass')).toBe(true);
    // the noise criterion did real work: some same-distribution pairs differ by more than 10%.
    expect(results.some((r) => (r?.change ?? 0) > 0.1)).toBe(true);
  });

  it('is seeded: the same inputs give the same interval', () => {
    const a = compareToBaseline(p95, noisyRun(3, 60, 1.1), noisyRun(4, 60, 1), {
      maxRegression: 0.1,
      seed: 7,
    });
    const b = compareToBaseline(p95, noisyRun(3, 60, 1.1), noisyRun(4, 60, 1), {
      maxRegression: 0.1,
      seed: 7,
    });
    expect(a).toEqual(b);
  });

  it('does not compare budgets a regression makes no sense for', () => {
    const rate = parseBudgetsText('budgets:\n  - metric: error_rate\n    threshold: rate < 1%\n', 'b.yaml')
      .budgets[0] as Budget;
    expect(
      compareToBaseline(rate, noisyRun(1, 10, 1), noisyRun(2, 10, 1), { maxRegression: 0.1 }),
    ).toBeUndefined();
  });
});
