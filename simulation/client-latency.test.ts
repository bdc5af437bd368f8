import { describe, expect, it } from 'vitest';
import { percentilesOf, timeoutFraction, truncatedMean } from './client-latency.ts';

describe("the client's recorded latency", () => {
  it.each([
    { shift: 100, tail: 100, timeout: 1000, frac: Math.exp(-9) },
    { shift: 2000, tail: 100, timeout: 1000, frac: 1 },
    { shift: 100, tail: 0, timeout: 1000, frac: 0 },
    { shift: 100, tail: 100, timeout: Number.POSITIVE_INFINITY, frac: 0 },
  ])(
    'times out exp(−(T − shift)/tail) of a shifted exponential: $shift + Exp($tail) at T = $timeout',
    (c) => {
      expect(timeoutFraction(c.shift, c.tail, c.timeout)).toBeCloseTo(c.frac, 12);
    },
  );

  it('records a timed-out request at the timeout: the mean is E[min(L, T)] and no percentile exceeds T', () => {
    expect(truncatedMean(100, 100, Number.POSITIVE_INFINITY)).toBe(200);
    expect(truncatedMean(100, 1000, 1000)).toBeCloseTo(100 + 1000 * (1 - Math.exp(-0.9)), 9);
    const p = percentilesOf([{ shift: 500, tail: 2000, weight: 1000 }], 1000);
    expect(p.p95).toBe(1000);
    expect(p.max).toBe(1000);
    expect(p.p50).toBe(1000);
    expect(p.count).toBe(1000);
  });
});
