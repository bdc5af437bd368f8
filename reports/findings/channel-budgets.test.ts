import { describe, expect, it } from 'vitest';
import type { Budget, BudgetSet } from '../../scenarios/budgets/budget.ts';
import { channelBudgetsFromSet } from './channel-budgets.ts';

function budget(over: Partial<Budget>): Budget {
  return {
    id: 'b',
    name: 'b',
    form: 'native',
    source: { file: 'b.yaml', line: 3, path: 'budgets[0]' },
    metric: 'latency',
    metricName: 'latency',
    stat: { kind: 'percentile', p: 95 },
    op: '<',
    limit: 500,
    expression: 'p95 < 500ms',
    scope: {},
    windowSeconds: 60,
    warmupSeconds: 0,
    minSamples: 20,
    minSamplesDerived: true,
    abortOnFail: false,
    delayAbortEvalSeconds: 0,
    notes: [],
    ...over,
  };
}

describe('channelBudgetsFromSet', () => {
  it('gives channel budgets the unscoped limits they lack and keeps the tightest', () => {
    const set: BudgetSet = {
      file: 'b.yaml',
      budgets: [
        budget({}),
        budget({ metric: 'error_rate', stat: { kind: 'rate' }, limit: 0.01 }),
        budget({ scope: { channel: 'pos' }, limit: 300 }),
        budget({ scope: { channel: 'pos' }, limit: 400 }),
      ],
    };
    const { budgets } = channelBudgetsFromSet(set);
    const rule = (limit: number) => ({ op: '<', limit, minSamples: 20, warmupSeconds: 0 });
    expect(budgets.find((b) => b.channel === 'pos')).toEqual({
      channel: 'pos',
      p95Ms: 300,
      errorRate: 0.01,
      source: 'b.yaml',
      rules: { p95Ms: rule(300), errorRate: rule(0.01) },
    });
    expect(budgets.find((b) => b.channel === '*')).toEqual({
      channel: '*',
      p95Ms: 500,
      errorRate: 0.01,
      source: 'b.yaml',
      rules: { p95Ms: rule(500), errorRate: rule(0.01) },
    });
  });

  it.each([
    ['a journey-scoped budget', budget({ scope: { journey: 'checkout' } }), 'scoped'],
    ['a lower limit', budget({ op: '>' }), 'upper limits'],
    [
      'a dropped-iterations budget',
      budget({ metric: 'dropped_rate', stat: { kind: 'rate' } }),
      'peakday gate',
    ],
  ])('leaves out %s and says why', (_n, b, why) => {
    const { budgets, ignored } = channelBudgetsFromSet({ file: 'b.yaml', budgets: [b] });
    expect(budgets).toEqual([]);
    expect(ignored[0]).toContain(why);
    expect(ignored[0]).toContain('b.yaml:3');
  });
});
