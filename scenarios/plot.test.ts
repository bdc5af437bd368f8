import { describe, expect, it } from 'vitest';
import { compilePlan, planRequestRate } from './compile.ts';
import { computePlotSeries } from './plot.ts';
import { loadProfile } from './profile.ts';

describe('plot series', () => {
  it('stacks channels that add up to the plan rate and marks every burst', () => {
    const plan = compilePlan(loadProfile('flash-sale'), { whole: true });
    const s = computePlotSeries(plan, 200);
    expect(s.channels.map((c) => c.name)).toEqual(['web', 'mobile-app', 'social']);
    expect(s.bursts).toEqual([
      { name: 'sale-opens', startHour: 600 / 3600, endHour: 3060 / 3600, multiplier: 10 },
    ]);
    for (const i of [0, 50, 120, s.hours.length - 1]) {
      const total = s.channels.reduce((sum, c) => sum + (c.rps[i] as number), 0);
      expect(total).toBeCloseTo(planRequestRate(plan, (s.hours[i] as number) * 3600), 9);
    }
    // The burst's peak start is sampled exactly, so the plotted peak is the plan's peak.
    expect(s.hours).toContain(660 / 3600);
  });
});
