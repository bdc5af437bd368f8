import { describe, expect, it } from 'vitest';
import type { SeriesRecord } from '../../core/run-format.ts';
import type { Budget } from '../../scenarios/budgets/budget.ts';
import { evaluateBudgets } from '../budgets/evaluate.ts';
import { budgetsJudge, computeBreachMinutes } from './compare-breaches.ts';

describe('breach minutes as the gate judges them', () => {
  const budget = (name: string, windowSeconds: number | null, limit = 0.01): Budget => ({
    id: name,
    name,
    form: 'native',
    source: { file: 'x.yaml', path: name },
    metric: 'error_rate',
    metricName: 'error_rate',
    stat: { kind: 'rate' },
    op: '<',
    limit,
    expression: `rate < ${limit}`,
    scope: { channel: 'web' },
    windowSeconds,
    warmupSeconds: 0,
    minSamples: 10,
    minSamplesDerived: false,
    abortOnFail: false,
    delayAbortEvalSeconds: 0,
    notes: [],
  });
  const rec = (t: number, channel: string, requests: number, failed: number): SeriesRecord => ({
    t,
    wall: t,
    dt: 60,
    channel,
    journey: 'j',
    step: 's',
    requests,
    failed,
  });
  const meta = {
    id: 'x',
    mode: 'simulated' as const,
    driver: 'simulator' as const,
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: true, sendLatency: true },
    eventStart: 0,
    timeScale: 1,
  };
  // Minute 1 fails 5% on web; minute 2 fails 5% on mobile only (out of the budget's scope);
  // minute 3 has too few samples to judge.
  const records = [
    rec(0, 'web', 1000, 0),
    rec(60, 'web', 1000, 50),
    rec(120, 'web', 1000, 0),
    rec(120, 'mobile', 1000, 50),
    rec(180, 'web', 5, 5),
    rec(240, 'web', 1000, 0),
  ];

  it.each([
    ['a 1-minute window counts the one breached minute', [budget('w1', 60)], 1],
    ['a 2-minute window counts both minutes of each breached window', [budget('w2', 120)], 3],
    ['a whole-run budget counts no minutes', [budget('run', null)], 0],
    ['two budgets breached in the same minute count it once', [budget('a', 60), budget('b', 60, 0.02)], 1],
  ] as const)('%s', (_name, budgets, minutes) => {
    const got = computeBreachMinutes(budgets, { meta, records });
    expect(got.total).toBe(minutes);
  });

  it('agrees with the gate: no breach minutes exactly when no windowed budget fails', () => {
    const b = [budget('w1', 60)];
    const clean = records.filter((r) => r.t !== 60);
    expect(computeBreachMinutes(b, { meta, records: clean }).total).toBe(0);
    expect(evaluateBudgets(b, { meta, records: clean }).verdict).toBe('pass');
    expect(evaluateBudgets(b, { meta, records }).verdict).toBe('fail');
  });

  it("is the sizing search's judge: the gate's verdict and these minutes", () => {
    const b = [budget('w2', 120)];
    const judge = budgetsJudge(b);
    expect(judge.evaluate({ meta, records }).verdict).toBe(evaluateBudgets(b, { meta, records }).verdict);
    expect(judge.breachMinutes({ meta, records })).toBe(3);
  });
});
