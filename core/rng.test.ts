import { describe, expect, it } from 'vitest';
import { createRng } from './rng.ts';

describe('seeded randomness', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
  });

  it('draws uniform values in [0,1) with the right mean', () => {
    const r = createRng(7);
    let sum = 0;
    let lo = 1;
    let hi = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
      sum += x;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(sum / n).toBeCloseTo(0.5, 2);
  });

  it('draws exponentials with the requested mean and normals with the requested spread', () => {
    const r = createRng(9);
    const n = 100_000;
    let e = 0;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      e += r.exponential(2);
      const z = r.normal(10, 3);
      s += z;
      s2 += z * z;
    }
    expect(e / n).toBeCloseTo(2, 1);
    const mean = s / n;
    expect(mean).toBeCloseTo(10, 1);
    expect(Math.sqrt(s2 / n - mean * mean)).toBeCloseTo(3, 1);
  });

  it('forks independent but reproducible streams by label', () => {
    const x = createRng(1).fork('web').next();
    expect(createRng(1).fork('web').next()).toBe(x);
    expect(createRng(1).fork('pos').next()).not.toBe(x);
  });
});
