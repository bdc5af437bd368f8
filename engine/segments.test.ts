import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { arrivalModels } from './executors/index.ts';
import { plannedIterations } from './run.ts';
import { countArrivals, k6SegmentArgs, parseSegment, segmentKeeps, segmentPlan } from './segments.ts';
import { createTestPlan, getJourney } from './test-support.ts';

const plans = {
  'an even ramp': createTestPlan([{ journey: getJourney('a', ['/a']), rate: [3, 97] }], 37),
  'poisson arrivals over two scenarios': createTestPlan(
    [
      { journey: getJourney('a', ['/a']), rate: 41.3 },
      { journey: getJourney('b', ['/b', '/c']), rate: [0, 13], channel: 'pos' },
    ],
    23,
    { arrivals: 'poisson', seed: 5 },
  ),
  'a compressed plan': createTestPlan([{ journey: getJourney('a', ['/a']), rate: 7.7 }], 11, {
    timeScale: 60,
  }),
};

describe('segments', () => {
  for (const [name, plan] of Object.entries(plans)) {
    for (const n of [1, 2, 3, 7]) {
      it(`add up exactly to the whole plan for ${name} split ${n} ways`, () => {
        const whole = plannedIterations(plan);
        const parts = Array.from({ length: n }, (_, i) => segmentPlan(plan, { index: i + 1, count: n }));
        expect(parts.reduce((a, p) => a + p.iterations, 0)).toBe(whole);
        expect(parts.reduce((a, p) => a + plannedIterations(p), 0)).toBe(whole);
        for (const p of parts) expect(plannedIterations(p)).toBe(p.iterations);
        // The union of the segments' arrivals is exactly the whole plan's arrivals.
        const all: number[] = [];
        const it0 = arrivalModels[plan.arrivals](plan.scenarios[0] as never, plan, createRng(plan.seed));
        for (let x = it0.next(); !x.done; x = it0.next()) all.push(x.value);
        const kept = parts.map((p) =>
          all.filter((_, k) => segmentKeeps(k, p.segment as { index: number; count: number })),
        );
        expect(kept.flat().sort((a, b) => a - b)).toEqual(all);
      });
    }
  }

  it('count the even arrivals of a constant rate exactly', () => {
    expect(countArrivals(createTestPlan([{ journey: getJourney('a', ['/a']), rate: 100 }], 3))).toEqual([
      300,
    ]);
  });

  it.each([
    ['1/4', { index: 1, count: 4 }],
    ['4/4', { index: 4, count: 4 }],
  ])('parses %s', (text, seg) => expect(parseSegment(text)).toEqual(seg));

  it.each(['0/4', '5/4', '1/0', 'a/b', '1:4'])('rejects %s with a hint', (text) => {
    expect(() => parseSegment(text)).toThrow(/i\/N/);
  });

  it.each([
    [{ index: 1, count: 2 }, ['--execution-segment', '0:1/2', '--execution-segment-sequence', '0,1/2,1']],
    [{ index: 3, count: 3 }, ['--execution-segment', '2/3:1', '--execution-segment-sequence', '0,1/3,2/3,1']],
  ])('maps %o onto k6 execution segments', (seg, args) => expect(k6SegmentArgs(seg)).toEqual(args));
});
