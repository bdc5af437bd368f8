import { describe, expect, it } from 'vitest';
import { describeResimulation } from './format.ts';

describe('describeResimulation', () => {
  it.each([
    [
      'says the budgets still do not hold when breach minutes remain',
      { before: { breachMinutes: 20, costUsd: 0.44 }, after: { breachMinutes: 19, costUsd: 0.76 } },
      ['20 → 19', '$0.4400 → $0.7600', 'still do not hold', '19 breach minutes remain'],
    ],
    [
      'says the budgets hold when none remain',
      { before: { breachMinutes: 12 }, after: { breachMinutes: 0 } },
      ['12 → 0', 'With them the budgets hold.'],
    ],
  ])('%s', (_name, outcome, expected) => {
    const text = describeResimulation(outcome);
    for (const e of expected) expect(text).toContain(e);
    expect(text).toContain('summed over channels');
  });
});
