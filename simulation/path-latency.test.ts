import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import {
  type BoundPath,
  compilePath,
  maxOf,
  maxOfTwo,
  pathLatencySplit,
  pathMoments,
  shiftedExponentialOf,
} from './path-latency.ts';
import { mixtureQuantile } from './queueing.ts';

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

describe('the requests that waited and those that did not (session 10)', () => {
  const visit = (cpuMs: number, waitMs: number, waitProb: number): BoundPath => ({
    kind: 'visit',
    at: { waitMs, backlogWaitMs: 0, stepSlowdown: 1, waitProb },
    cpuMs,
  });

  it('splits one visit into its CPU alone and its CPU plus the wait given a wait, and the p95 lands in the waiting few', () => {
    // One request in five waits, 20 ms on average (mean wait 4 ms).
    const none = { shift: 0, tail: 0 };
    const waited = { shift: 0, tail: 0 };
    const chance = pathLatencySplit(compilePath(visit(10, 4, 0.2)), none, waited);
    expect(chance).toBeCloseTo(0.2, 12);
    expect(none).toEqual({ shift: 10, tail: 0 });
    expect(waited.shift).toBeCloseTo(10, 9);
    expect(waited.tail).toBeCloseTo(20, 9);
    // p95 of the mixture: 10 + 20·ln(0.2/0.05) = 37.73 ms; one exponential of the mean 4 gave 10 + 4·ln 20 = 22.0.
    const p95 = mixtureQuantile(
      [
        { ...none, weight: 1 - chance },
        { ...waited, weight: chance },
      ],
      0.95,
    );
    expect(p95).toBeCloseTo(10 + 20 * Math.log(4), 1);
  });

  it('keeps the mean of a series: P(no visit waited) = Π(1 − p), each visit waiting its mean over the chance that one did', () => {
    const none = { shift: 0, tail: 0 };
    const waited = { shift: 0, tail: 0 };
    const path = compilePath({ kind: 'series', parts: [visit(10, 4, 0.2), visit(20, 4, 0.2)] });
    const chance = pathLatencySplit(path, none, waited);
    expect(chance).toBeCloseTo(1 - 0.8 * 0.8, 12);
    const mean0 = none.shift + none.tail;
    const mean1 = waited.shift + waited.tail;
    expect(mean0).toBeCloseTo(30, 9);
    expect((1 - chance) * mean0 + chance * mean1).toBeCloseTo(pathMoments(path).mean, 9);
    expect(pathMoments(path).mean).toBeCloseTo(38, 9);
  });

  it('is one component, the exponential of the mean, when under 0.1% or over 99.9% wait (or no share is given)', () => {
    const none = { shift: 0, tail: 0 };
    const waited = { shift: 0, tail: 0 };
    expect(pathLatencySplit(compilePath(visit(10, 0.001, 0.0005)), none, waited)).toBe(0);
    expect(waited).toEqual(none);
    expect(none.shift + none.tail).toBeCloseTo(10.001, 9);
    const always: BoundPath = {
      kind: 'visit',
      at: { waitMs: 5, backlogWaitMs: 0, stepSlowdown: 1 },
      cpuMs: 10,
    };
    expect(pathLatencySplit(compilePath(always), none, waited)).toBe(0);
    expect(none).toEqual({ shift: 10, tail: 5 });
  });
});
