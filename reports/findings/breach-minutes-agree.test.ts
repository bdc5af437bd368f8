import { describe, expect, it } from 'vitest';
import type { SeriesRecord } from '../../core/run-format.ts';
import { parseBudgetsText } from '../../scenarios/budgets/parse-budgets.ts';
import { evaluateBudgets } from '../budgets/evaluate.ts';
import { createLoadAggregator } from '../run/load-series.ts';
import { computeBreaches } from './breaches.ts';
import { channelBudgetsFromSet } from './channel-budgets.ts';

// The report's breach minutes and the gate judge the same run by one rule (judgeReading): a minute
// with fewer samples than the budget's minimum, or inside its warm-up, is breached in neither.
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
const rec = (t: number, requests: number, failed: number, p95: number): SeriesRecord => ({
  t,
  wall: t,
  dt: 60,
  channel: 'web',
  journey: 'browse',
  step: 'home',
  requests,
  failed,
  latencyEstimate: { p50: p95 / 2, p90: p95 * 0.9, p95, p99: p95 * 1.2, max: p95 * 1.5 },
});

function judgeBoth(yaml: string, records: SeriesRecord[]) {
  const set = parseBudgetsText(yaml, 'budgets.yaml');
  const gate = evaluateBudgets(set.budgets, { meta, records });
  const agg = createLoadAggregator(1);
  for (const r of records) agg.add(r);
  const [breach] = computeBreaches(agg.finish(), channelBudgetsFromSet(set).budgets, [], 0);
  const breachedMinutes = breach!.flagged.flatMap((f, i) => (f ? [i] : []));
  return { gate, breachedMinutes, minutes: breach!.minutes };
}

describe('report breach minutes and gate agree on minimum samples and warm-up', () => {
  const errors =
    'budgets:\n  - metric: error_rate\n    threshold: rate < 1%\n    window: 1m\n    minSamples: 100\n';
  const latency =
    'budgets:\n  - metric: latency\n    threshold: p95 < 500ms\n    window: 1m\n    minSamples: 100\n';

  it.each([
    ['error rate', errors],
    ['p95 latency', latency],
  ])('%s: a breached minute with 5 samples counts in neither; a sampled one in both', (_n, yaml) => {
    // Minute 1 breaches on 1,000 samples; minute 2 breaches on 5 (fewer than minSamples 100).
    const records = [
      rec(0, 1000, 0, 100),
      rec(60, 1000, 50, 900),
      rec(120, 5, 5, 2000),
      rec(180, 1000, 0, 100),
    ];
    const { gate, breachedMinutes, minutes } = judgeBoth(yaml, records);
    expect(gate.results[0]!.verdict).toBe('fail');
    expect(gate.results[0]!.windows).toEqual({ evaluated: 3, breached: 1, thin: 1 });
    expect(breachedMinutes).toEqual([1]);
    expect(minutes).toBe(1);
  });

  it('only a thin minute over the limit: the gate passes and the report shows no breach minute', () => {
    const records = [rec(0, 1000, 0, 100), rec(60, 5, 5, 2000), rec(120, 1000, 0, 100)];
    const { gate, breachedMinutes } = judgeBoth(errors, records);
    expect(gate.results[0]!.verdict).toBe('pass');
    expect(breachedMinutes).toEqual([]);
  });

  it('a minute inside the warm-up counts in neither', () => {
    const records = [rec(0, 1000, 500, 2000), rec(60, 1000, 0, 100), rec(120, 1000, 0, 100)];
    const { gate, breachedMinutes } = judgeBoth(errors.replace('minSamples: 100', 'warmup: 1m'), records);
    expect(gate.results[0]!.verdict).toBe('pass');
    expect(breachedMinutes).toEqual([]);
  });
});
