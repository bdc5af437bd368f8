import { describe, expect, it } from 'vitest';
import { compileLevel } from '../compile.ts';
import { evaluate } from '../rate-function.ts';
import { minimalProfile, profileFromText } from '../testing/profile-fixtures.ts';
import { SHAPE_TYPES } from './index.ts';

function levelOf(shape: string, event = '2h') {
  const p = profileFromText(minimalProfile({ event, shape, local: '{ peakRps: 10, duration: 20m }' }));
  return compileLevel(p.model).level;
}

describe('shape building blocks', () => {
  it('registers one block per kind the issue names', () => {
    expect(SHAPE_TYPES.sort()).toEqual([
      'baseline',
      'burst',
      'diurnal',
      'noise',
      'pause',
      'schedule',
      'trend',
    ]);
  });

  it.each([
    [
      'two baselines add',
      '  - baseline: { level: 2 }\n  - baseline: { level: 3 }',
      [
        [0, 5],
        [3600, 5],
      ],
    ],
    [
      'a multiplying trend scales linearly between its times and holds outside',
      '  - baseline: { level: 2 }\n  - trend: { from: 30m, to: 90m, start: 1, end: 2 }',
      [
        [0, 2],
        [1800, 2],
        [3600, 3],
        [5400, 4],
        [7200, 4],
      ],
    ],
    [
      'an adding trend adds to the level written before it',
      '  - baseline: { level: 2 }\n  - trend: { op: add, from: 0s, to: 2h, start: 0, end: 1 }',
      [
        [0, 2],
        [3600, 2.5],
        [7200, 3],
      ],
    ],
    [
      'a linear diurnal goes straight between its points and wraps around the period',
      '  - baseline: {}\n  - diurnal: { period: 1h, smooth: false, peaks: [{ at: 30m, level: 2 }], troughs: [{ at: 0s, level: 1 }] }',
      [
        [0, 1],
        [900, 1.5],
        [1800, 2],
        [2700, 1.5],
        [3600, 1],
        [5400, 2],
      ],
    ],
    [
      'a smooth diurnal follows a half cosine between its points',
      '  - baseline: {}\n  - diurnal: { period: 1h, resolution: 1s, peaks: [{ at: 30m, level: 2 }], troughs: [{ at: 0s, level: 1 }] }',
      [
        [450, 1 + (1 - Math.cos(Math.PI / 4)) / 2],
        [900, 1.5],
        [1800, 2],
      ],
    ],
    [
      'a pause drops the level to its fraction and back',
      '  - baseline: { level: 4 }\n  - pause: { at: 1h, duration: 10m, level: 0.25 }',
      [
        [3599, 4],
        [3900, 1],
        [4201, 4],
      ],
    ],
    [
      'a step burst is exactly its multiple over its plateau',
      '  - baseline: { level: 3 }\n  - burst: { name: s, at: 10m, plateau: 5m, multiplier: 7, curve: step }',
      [
        [599, 3],
        [601, 21],
        [899, 21],
        [901, 3],
      ],
    ],
    [
      'a linear burst ramps, holds and decays',
      '  - baseline: {}\n  - burst: { name: l, at: 10m, rampUp: 10m, plateau: 10m, decay: 20m, multiplier: 5 }',
      [
        [600, 1],
        [900, 3],
        [1200, 5],
        [1800, 5],
        [2400, 3],
        [3000, 1],
      ],
    ],
  ])('%s', (_what, shape, expected) => {
    const level = levelOf(shape);
    for (const [t, v] of expected as [number, number][])
      expect(evaluate(level, t), `t=${t}`).toBeCloseTo(v, 6);
  });

  it('keeps seeded noise within its amplitude and averaging near 1', () => {
    const level = levelOf('  - baseline: { level: 10 }\n  - noise: { amplitude: 0.1, every: 1m }', '10h');
    let sum = 0;
    for (let t = 0; t <= 36000; t += 60) {
      const v = evaluate(level, t);
      expect(v).toBeGreaterThanOrEqual(9);
      expect(v).toBeLessThanOrEqual(11);
      sum += v;
    }
    expect(sum / 601).toBeCloseTo(10, 0);
  });
});
