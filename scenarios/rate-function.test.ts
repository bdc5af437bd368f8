import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import {
  arrivalTimes,
  evaluate,
  integrate,
  maxOver,
  refineTimes,
  restrict,
  unionTimes,
} from './rate-function.ts';

const ramp = { times: [0, 10, 20], values: [0, 10, 10] };

describe('rate functions', () => {
  it.each([
    [-5, 0],
    [0, 0],
    [5, 5],
    [10, 10],
    [15, 10],
    [25, 10],
  ])('evaluates the ramp at %d as %d', (t, v) => {
    expect(evaluate(ramp, t)).toBeCloseTo(v, 12);
  });

  it.each([
    [0, 10, 50],
    [0, 20, 150],
    [5, 15, 37.5 + 50],
    [20, 30, 100],
  ])('integrates the ramp exactly from %d to %d', (a, b, expected) => {
    expect(integrate(ramp, a, b)).toBeCloseTo(expected, 9);
  });

  it('finds the maximum at a breakpoint inside the range', () => {
    expect(maxOver({ times: [0, 5, 10], values: [1, 7, 2] }, 1, 9)).toBe(7);
    expect(maxOver({ times: [0, 5, 10], values: [1, 7, 2] }, 6, 9)).toBeCloseTo(6, 9);
  });

  it('merges breakpoints that are within epsilon and refines long gaps', () => {
    expect(
      unionTimes([
        [0, 1, 2],
        [1 + 1e-9, 3],
      ]),
    ).toEqual([0, 1, 2, 3]);
    expect(refineTimes([0, 10], 3)).toEqual([0, 2.5, 5, 7.5, 10]);
  });

  it('restricts a function to a range with end breakpoints', () => {
    const r = restrict(ramp, 5, 15);
    expect(r.times).toEqual([5, 10, 15]);
    expect(r.values).toEqual([5, 10, 10]);
  });

  it('places even arrivals where the cumulative count crosses k - 1/2, matching the integral', () => {
    // 0 → 10 per wall second over 20 wall seconds at time scale 2 (40 event seconds): 100 iterations.
    const f = { times: [0, 40], values: [0, 10] };
    const times = [...arrivalTimes(f, { timeScale: 2, eventStart: 0, eventEnd: 40 })];
    expect(times).toHaveLength(100);
    // The first arrival solves 0.25 x^2 = 0.5 → x = sqrt(2).
    expect(times[0]).toBeCloseTo(Math.SQRT2, 9);
    for (let i = 1; i < times.length; i++) expect(times[i] as number).toBeGreaterThan(times[i - 1] as number);
    expect(times[times.length - 1]).toBeLessThanOrEqual(20);
  });

  it('draws a seeded Poisson process whose count is close to the integral and repeatable', () => {
    const f = { times: [0, 100], values: [50, 50] };
    const a = [
      ...arrivalTimes(f, { timeScale: 1, eventStart: 0, eventEnd: 100, mode: 'poisson', rng: createRng(7) }),
    ];
    const b = [
      ...arrivalTimes(f, { timeScale: 1, eventStart: 0, eventEnd: 100, mode: 'poisson', rng: createRng(7) }),
    ];
    expect(a).toEqual(b);
    expect(Math.abs(a.length - 5000)).toBeLessThan(4 * Math.sqrt(5000));
  });
});
