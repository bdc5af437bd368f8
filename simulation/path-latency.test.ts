import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { type BoundPath, maxOf, maxOfTwo, pathMoments, shiftedExponentialOf } from './path-latency.ts';

/** Mean and variance of max(a + Exp(α), b + Exp(β)) over n seeded draws. */
function sampledMax(a: number, alpha: number, b: number, beta: number, n = 200_000) {
  const rng = createRng(7);
  const exp = (m: number) => (m > 0 ? -m * Math.log(1 - rng.next()) : 0);
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const m = Math.max(a + exp(alpha), b + exp(beta));
    s += m;
    s2 += m * m;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

describe('latency along a path', () => {
  it('gives the maximum of two independent unit exponentials its known mean 1.5 and variance 1.25', () => {
    const m = maxOfTwo({ shift: 0, tail: 1 }, { shift: 0, tail: 1 });
    expect(m.mean).toBeCloseTo(1.5, 12);
    expect(m.variance).toBeCloseTo(1.25, 12);
  });

  it('takes the larger of two constants, and b + α·e^(−(b−a)/α) for a constant above an exponential leg', () => {
    expect(maxOfTwo({ shift: 3, tail: 0 }, { shift: 5, tail: 0 })).toEqual({ mean: 5, variance: 0 });
    const m = maxOfTwo({ shift: 2, tail: 4 }, { shift: 5, tail: 0 });
    expect(m.mean).toBeCloseTo(5 + 4 * Math.exp(-3 / 4), 12);
  });

  it.each([
    [10, 5, 12, 20],
    [0, 30, 40, 2],
    [100, 50, 100, 50],
    [5, 0, 7, 3],
  ])(
    'agrees with a seeded sampling of max(%d + Exp(%d), %d + Exp(%d)) within 1%% on the mean and 3%% on the variance',
    (a, alpha, b, beta) => {
      const exact = maxOfTwo({ shift: a, tail: alpha }, { shift: b, tail: beta });
      const sampled = sampledMax(a, alpha, b, beta);
      expect(Math.abs(exact.mean - sampled.mean) / sampled.mean).toBeLessThan(0.01);
      expect(Math.abs(exact.variance - sampled.variance) / sampled.variance).toBeLessThan(0.03);
    },
  );

  it('costs parallel legs their expected maximum, more than the largest mean and less than the sum', () => {
    const leg = { mean: 20, variance: 100 };
    const m = maxOf([leg, leg]);
    expect(m.mean).toBeGreaterThan(20);
    expect(m.mean).toBeLessThan(40);
    // A third equal leg adds less than the second.
    expect(maxOf([leg, leg, leg]).mean - m.mean).toBeLessThan(m.mean - 20);
  });

  it('adds means and variances in series: four equal random waits have half the tail of one four times as long', () => {
    const q = { waitMs: 10, backlogWaitMs: 0, stepSlowdown: 1 };
    const visit: BoundPath = { kind: 'visit', at: q, cpuMs: 5 };
    const m = pathMoments({ kind: 'series', parts: [visit, visit, visit, visit] });
    expect(m.mean).toBeCloseTo(60, 12);
    const se = shiftedExponentialOf(m);
    expect(se.tail).toBeCloseTo(20, 12);
    expect(se.shift).toBeCloseTo(40, 12);
  });

  it('puts a visit backlog and CPU in the floor and its random wait and spent quota in the tail', () => {
    const at = { waitMs: 110, backlogWaitMs: 100, stepSlowdown: 3 };
    const m = pathMoments({ kind: 'visit', at, cpuMs: 4 });
    // floor 4 + 100; tails 4·2 = 8 (quota) and 10 (queue).
    expect(m.mean).toBeCloseTo(4 + 100 + 8 + 10, 12);
    expect(m.variance).toBeCloseTo(8 * 8 + 10 * 10, 12);
  });
});
