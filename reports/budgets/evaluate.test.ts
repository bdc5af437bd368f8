import { describe, expect, it } from 'vitest';
import type { SeriesRecord } from '../../core/run-format.ts';
import type { Budget } from '../../scenarios/budgets/budget.ts';
import { parseBudgetsText } from '../../scenarios/budgets/parse-budgets.ts';
import { constructedMeta, constructRun } from '../../scenarios/budgets/testing.ts';
import { evaluateBudget, evaluateBudgets } from './evaluate.ts';

function budget(yaml: string): Budget {
  const b = parseBudgetsText(`budgets:\n  - ${yaml.split('\n').join('\n    ')}\n`, 'b.yaml').budgets[0];
  if (!b) throw new Error('no budget');
  return b;
}

const steady = constructRun(600, () => [{ requests: 100 }]);

describe('whole-run evaluation on constructed series', () => {
  const cases: [string, string, 'pass' | 'fail', number][] = [
    ['p95 of 100 ms holds under 150 ms', 'metric: latency\nthreshold: p95 < 150ms', 'pass', 100],
    ['p95 of 100 ms breaches 90 ms', 'metric: latency\nthreshold: p95 < 90ms', 'fail', 100],
    ['send-time max is read too', 'metric: latency_send\nthreshold: max < 101ms', 'pass', 100],
    ['no errors hold an error budget', 'metric: error_rate\nthreshold: rate < 1%', 'pass', 0],
    ['all checks pass', 'metric: check_pass_rate\nthreshold: rate > 99%', 'pass', 1],
  ];
  it.each(cases)('%s', (_name, yaml, verdict, observed) => {
    const r = evaluateBudget(budget(yaml), steady);
    expect(r.verdict).toBe(verdict);
    expect(r.observed).toBeCloseTo(observed, 0);
    expect(r.samples).toBe(60_000);
  });

  it('merges tag sets exactly and filters by scope', () => {
    const run = constructRun(60, () => [
      { channel: 'web', requests: 100, latency: [[100, 100]] },
      { channel: 'mobile-app', requests: 100, latency: [[300, 100]] },
    ]);
    const all = evaluateBudget(budget('metric: latency\nthreshold: p75 < 1s'), run);
    const web = evaluateBudget(budget('channel: web\nmetric: latency\nthreshold: p99 < 1s'), run);
    expect(all.observed).toBeCloseTo(300, -1);
    expect(web.observed).toBeCloseTo(100, -1);
    expect(web.samples).toBe(6000);
  });

  it('excludes the warm-up', () => {
    const run = constructRun(120, (t) => [{ requests: 100, latency: [[t < 30 ? 5000 : 100, 100]] }]);
    expect(evaluateBudget(budget('metric: latency\nthreshold: max < 1s'), run).verdict).toBe('fail');
    const r = evaluateBudget(budget('metric: latency\nthreshold: max < 1s\nwarmup: 30s'), run);
    expect(r.verdict).toBe('pass');
    expect(r.samples).toBe(9000);
  });
});

describe('sliding windows on constructed series with known answers', () => {
  it('a final minute of 100% errors does not average away (k6 #2379)', () => {
    const seconds = 600;
    const errorsFrom = 540;
    const run = constructRun(seconds, (t) => [{ requests: 100, failed: t >= errorsFrom ? 100 : 0 }]);
    const whole = evaluateBudget(budget('metric: error_rate\nthreshold: rate < 20%'), run);
    expect(whole.verdict).toBe('pass');
    expect(whole.observed).toBeCloseTo(0.1, 6);
    const windowed = evaluateBudget(budget('metric: error_rate\nthreshold: rate < 20%\nwindow: 1m'), run);
    expect(windowed.verdict).toBe('fail');
    expect(windowed.worst).toMatchObject({ from: 540, to: 600, value: 1 });
    // One 60-s window ends at each second from 60 to 600; a window breaches once at least 20% of it
    // (12 s) is errors, i.e. when it ends at 540 + 12 s or later.
    const window = 60;
    expect(windowed.windows).toEqual({
      evaluated: seconds - window + 1,
      breached: seconds - (errorsFrom + 0.2 * window) + 1,
      thin: 0,
    });
  });

  it('finds exactly the windows a ten-second latency spike breaches', () => {
    const run = constructRun(600, (t) => [
      { requests: 100, latency: [[t >= 300 && t < 310 ? 3000 : 100, 100]] },
    ]);
    const r = evaluateBudget(budget('metric: latency\nthreshold: p95 < 2s\nwindow: 1m'), run);
    expect(r.verdict).toBe('fail');
    // a 60-s window holds 6000 samples; p95 exceeds 100 ms once more than 300 (3 s) are spike samples:
    // windows starting at 244..306 hold 4 or more spike seconds.
    expect(r.windows).toEqual({ evaluated: 541, breached: 63, thin: 0 });
    expect(r.worst?.value).toBeGreaterThan(2990);
    expect(r.worst?.from).toBeGreaterThanOrEqual(244);
    expect(r.worst?.from).toBeLessThanOrEqual(306);
    expect(evaluateBudget(budget('metric: latency\nthreshold: p95 < 2s'), run).verdict).toBe('pass');
  });

  it('uses event time: at 60x one wall second is one event minute', () => {
    const records = constructRun(10, (t) => [{ requests: 100, failed: t === 9 ? 100 : 0 }]).records;
    const run = {
      meta: constructedMeta({ timeScale: 60, eventEnd: 600 }),
      records: records.map((r) => ({ ...r, t: r.t * 60 })),
    };
    const r = evaluateBudget(budget('metric: error_rate\nthreshold: rate < 50%\nwindow: 1m'), run);
    expect(r.windows).toEqual({ evaluated: 10, breached: 1, thin: 0 });
    expect(r.worst).toMatchObject({ from: 540, to: 600 });
  });

  it('evaluates a run shorter than the window as one window', () => {
    const run = constructRun(30, () => [{ requests: 100 }]);
    const r = evaluateBudget(budget('metric: latency\nthreshold: p95 < 2s\nwindow: 5m'), run);
    expect(r.verdict).toBe('pass');
    expect(r.windows?.evaluated).toBe(1);
    expect(r.notes.join()).toMatch(/shorter than one window/);
  });
});

describe('inconclusive verdicts', () => {
  it('is inconclusive on thin data, never a pass', () => {
    const run = constructRun(10, () => [{ requests: 5 }]);
    const r = evaluateBudget(budget('metric: latency\nthreshold: p95 < 2s'), run);
    expect(r.verdict).toBe('inconclusive');
    expect(r.reason).toMatch(/50 samples, fewer than the minimum 100/);
  });

  it('skips thin windows and is inconclusive when none has enough samples', () => {
    const run = constructRun(600, () => [{ requests: 1 }]);
    const r = evaluateBudget(budget('metric: latency\nthreshold: p99 < 2s\nwindow: 1m'), run);
    expect(r.verdict).toBe('inconclusive');
    expect(r.windows?.thin).toBe(541);
  });

  it('judges a k6 run’s intended-start latency budget on send-time latency, and says so', () => {
    const run = {
      ...steady,
      meta: constructedMeta({
        driver: 'k6',
        capabilities: { intendedStartLatency: false, sendLatency: true },
      }),
    };
    const r = evaluateBudget(budget('metric: latency\nthreshold: p95 < 2s'), run);
    expect(r.verdict).toBe('pass');
    expect(r.budget.metric).toBe('latency');
    expect(r.notes.join()).toMatch(/judged on send-time latency.*k6 cannot measure it/);
    const slow = evaluateBudget(budget('metric: latency\nthreshold: p95 < 1ms'), run);
    expect(slow.verdict).toBe('fail');
    expect(slow.notes.join()).toMatch(/send-time latency/);
    expect(evaluateBudget(budget('metric: latency_send\nthreshold: p95 < 2s'), run).verdict).toBe('pass');
  });

  it('says which scope value the run lacks', () => {
    const r = evaluateBudget(budget('channel: voice\nmetric: latency\nthreshold: p95 < 2s'), steady);
    expect(r.verdict).toBe('inconclusive');
    expect(r.reason).toMatch(/no channel "voice" in the run \(it has: web\)/);
  });

  it('an invalid run cannot pass, but its breaches still fail', () => {
    const run = {
      ...steady,
      meta: constructedMeta({ valid: false, invalidReasons: ['scheduler lag p99 120 ms'] }),
    };
    const pass = evaluateBudget(budget('metric: latency\nthreshold: p95 < 2s'), run);
    expect(pass.verdict).toBe('inconclusive');
    expect(pass.reason).toMatch(/invalid \(scheduler lag p99 120 ms\)/);
    expect(evaluateBudget(budget('metric: latency\nthreshold: p95 < 50ms'), run).verdict).toBe('fail');
  });

  it('a run that did not complete its plan cannot pass', () => {
    const run = { ...steady, meta: constructedMeta({ endReason: 'interrupted', endDetail: 'SIGINT at 4m' }) };
    const r = evaluateBudget(budget('metric: latency\nthreshold: p95 < 2s'), run);
    expect(r.verdict).toBe('inconclusive');
    expect(r.reason).toMatch(/did not play its whole plan \(interrupted: SIGINT at 4m\)/);
  });
});

describe('simulated runs', () => {
  const simulated = (p95: number) => {
    const records: SeriesRecord[] = [];
    for (let t = 0; t < 3600; t += 60) {
      records.push({
        t,
        wall: t,
        dt: 60,
        channel: 'web',
        journey: 'browse',
        step: 'home',
        requests: 6000,
        failed: 0,
        latencyEstimate: { p50: p95 / 3, p90: p95 * 0.8, p95, p99: p95 * 1.5, max: p95 * 3, mean: p95 / 2 },
      });
    }
    return { meta: constructedMeta({ mode: 'simulated', driver: 'simulator', eventEnd: 3600 }), records };
  };
  const cases: [number, 'pass' | 'fail'][] = [
    [1500, 'pass'],
    [2500, 'fail'],
  ];
  it.each(cases)('gates on the simulated p95 of %d ms and says simulated', (p95, verdict) => {
    const r = evaluateBudget(budget('metric: latency\nthreshold: p95 < 2s\nwindow: 10m'), simulated(p95));
    expect(r.verdict).toBe(verdict);
    expect(r.simulated).toBe(true);
    expect(r.observed).toBeCloseTo(p95, 0);
    expect(r.reason).toMatch(/simulated/);
  });
});

describe('the gate verdict', () => {
  const cases: [string, string[], number][] = [
    ['every budget holds: exit 0', ['p95 < 2s'], 0],
    ['one breach: exit 99', ['p95 < 2s', 'p95 < 50ms'], 99],
    ['no verdict possible: exit 98', ['p95 < 2s', 'p99.99 < 2s'], 98],
  ];
  it.each(cases)('%s', (_name, thresholds, code) => {
    const set = parseBudgetsText(
      `budgets:\n  - metric: latency\n    threshold: [${thresholds.join(', ')}]\n`,
      'b.yaml',
    );
    const run = constructRun(10, () => [{ requests: 100 }]);
    expect(evaluateBudgets(set.budgets, run).exitCode).toBe(code);
  });
});
