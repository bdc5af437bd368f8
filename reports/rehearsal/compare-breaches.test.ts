import { describe, expect, it } from 'vitest';
import type { SeriesRecord } from '../../core/run-format.ts';
import { loadScaling } from '../../reference-stack/autoscaling/scaling-file.ts';
import type { Budget } from '../../scenarios/budgets/budget.ts';
import { buildSlices, createHistogramCache } from '../../scenarios/budgets/slices.ts';
import { constructedPlan, oneStepJourney } from '../../scenarios/test-plans.ts';
import { SeriesColumns } from '../../simulation/series-columns.ts';
import { simulate } from '../../simulation/simulate.ts';
import { evaluateBudgets, observeWindows, slidingWindows } from '../budgets/evaluate.ts';
import {
  budgetsJudge,
  computeAnyBudgetFails,
  computeBreachMinutes,
  computeGateVerdicts,
  computePrefixFails,
} from './compare-breaches.ts';

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

  it.each([
    // [name, budgets, prefix end (s), prefix fails]
    ['a prefix holding the breached minute fails (1-minute window)', [budget('w1', 60)], 120, true],
    ['a prefix ending before the breach does not', [budget('w1', 60)], 60, false],
    ['a 2-minute window wholly inside the prefix, breached, fails', [budget('w2', 120)], 120, true],
    ['a window reaching past the prefix is not read', [budget('w3', 180)], 120, false],
    ['a whole-run budget is never decided on a prefix', [budget('run', null)], 300, false],
  ] as const)('on a prefix of the run: %s', (_name, budgets, end, fails) => {
    const prefix = records.filter((r) => r.t < end);
    expect(computePrefixFails(budgets, { meta, records: prefix })).toBe(fails);
    // A prefix that fails means the whole run fails, as the gate and the fail-fast judge say.
    if (fails) {
      expect(computeAnyBudgetFails(budgets, { meta, records })).toBe(true);
      expect(evaluateBudgets(budgets, { meta, records }).verdict).toBe('fail');
    }
  });

  it('reads, after a check at `since`, only the windows that end after it', () => {
    const b = [budget('w1', 60)];
    const prefix = { meta, records: records.filter((r) => r.t < 300) };
    expect(computePrefixFails(b, prefix)).toBe(true);
    // The breached minute [60, 120) ends after a check at 60 or 120 (read again: harmless)…
    expect(computePrefixFails(b, prefix, undefined, 60)).toBe(true);
    expect(computePrefixFails(b, prefix, undefined, 120)).toBe(true);
    // …but not after one at 180, which read it (and would have stopped the run there).
    expect(computePrefixFails(b, prefix, undefined, 180)).toBe(false);
    expect(budgetsJudge(b).failsEarly?.(prefix, 180)).toBe(false);
  });

  it("is the sizing search's judge: the gate's verdict and these minutes", () => {
    const b = [budget('w2', 120)];
    const judge = budgetsJudge(b);
    expect(judge.evaluate({ meta, records }).verdict).toBe(evaluateBudgets(b, { meta, records }).verdict);
    expect(judge.evaluate({ meta, records }).verdict).toBe('fail');
    expect(judge.breachMinutes({ meta, records })).toBe(3);
  });
});

describe("the sizing trials' fail-fast judge", () => {
  const plan = constructedPlan([
    {
      channel: 'web',
      journey: oneStepJourney('pdp', 'getProduct'),
      times: [0, 900, 1800],
      rates: [20, 400, 40],
    },
    { channel: 'mobile-app', journey: oneStepJourney('find', 'search'), times: [0, 1800], rates: [30, 30] },
    { channel: 'web', journey: oneStepJourney('buy', 'checkout'), times: [0, 1800], rates: [5, 5] },
  ]);
  const meta = {
    id: 'x',
    mode: 'simulated' as const,
    driver: 'simulator' as const,
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: true, sendLatency: true },
    eventStart: 0,
    timeScale: 1,
    endReason: 'completed' as const,
  };
  const latency = (name: string, p: number, op: '<' | '<=', limit: number, windowSeconds: number | null) =>
    ({
      ...errorBudget(name, windowSeconds, 0),
      metric: 'latency',
      metricName: 'latency',
      stat: { kind: 'percentile', p },
      op,
      limit,
      expression: `p${p} ${op} ${limit}`,
      scope: {},
    }) satisfies Budget;
  const errorBudget = (name: string, windowSeconds: number | null, limit: number): Budget => ({
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
    scope: {},
    windowSeconds,
    warmupSeconds: 0,
    minSamples: 10,
    minSamplesDerived: false,
    abortOnFail: false,
    delayAbortEvalSeconds: 0,
    notes: [],
  });
  // An under-sized fleet (the default scaling, 2 tasks to start) whose latency climbs and falls with the ramp.
  const r = simulate(plan, { arch: 'headless', scaling: loadScaling(), seed: 1, warmStart: false });
  const run = { meta, records: r.series };
  const worst = evaluateBudgets([latency('w', 95, '<', 1e9, 300)], run).results[0]!.worst!.value;
  // The best window's p95, read as the gate reads each window.
  const probe = latency('w', 95, '<', 1, 300);
  const slices = buildSlices(probe, r.series, { timeScale: 1, fromT: 0, cache: createHistogramCache() });
  const readings = [...observeWindows(probe, slices, slidingWindows(slices, 300).list)];
  const best = Math.min(...readings.map((x) => (x.o.ok ? x.o.value : Number.POSITIVE_INFINITY)));

  it('has a run whose windows span a range of latencies (the cases below mean something)', () => {
    expect(worst).toBeGreaterThan(best * 1.5);
  });

  it.each([
    ['a limit above every window', () => [latency('a', 95, '<', worst * 1.01, 300)]],
    ['a limit below every window', () => [latency('a', 95, '<', best * 0.99, 300)]],
    ['a limit between the windows', () => [latency('a', 95, '<', (best + worst) / 2, 300)]],
    ['a limit exactly at the worst window, strict', () => [latency('a', 95, '<', worst, 300)]],
    ['a limit exactly at the worst window, not strict', () => [latency('a', 95, '<=', worst, 300)]],
    ['p99 over the whole run', () => [latency('a', 99, '<', (best + worst) / 2, null)]],
    [
      'error rates and latencies together',
      () => [errorBudget('e', 300, 0.5), latency('a', 90, '<', worst, 600)],
    ],
    ['an error rate that fails', () => [errorBudget('e', 300, 0)]],
    ['no budgets', () => []],
  ] as const)('fails exactly when the gate says fail: %s', (_name, budgets) => {
    const b = budgets() as Budget[];
    expect(computeAnyBudgetFails(b, run)).toBe(evaluateBudgets(b, run).verdict === 'fail');
  });

  it('counts the breach minutes of reading every window’s quantile, at every limit', () => {
    for (let i = 0; i <= 10; i++) {
      const limit = best + ((worst - best) * i) / 10;
      for (const op of ['<', '<='] as const) {
        const b = latency('a', 95, op, limit, 300);
        const sl = buildSlices(b, r.series, { timeScale: 1, fromT: 0, cache: createHistogramCache() });
        const end = Math.max(...sl.map((x) => x.t + x.span));
        let seconds = 0;
        let coveredTo = Number.NEGATIVE_INFINITY;
        for (const { win, o } of observeWindows(b, sl, slidingWindows(sl, 300).list)) {
          if (!o.ok || o.samples < b.minSamples || (op === '<' ? o.value < limit : o.value <= limit))
            continue;
          const from = Math.max(win.from, coveredTo);
          const to = Math.min(win.to, end);
          if (to > from) seconds += to - from;
          coveredTo = Math.max(coveredTo, to);
        }
        expect(computeBreachMinutes([b], run).total).toBeCloseTo(seconds / 60, 2);
      }
    }
  });

  it("gives the gate's verdict on every budget, and overall, at every limit and sample minimum", () => {
    const runs = [
      run,
      { ...run, meta: { ...meta, valid: false, invalidReasons: ['engine behind'] } },
      { ...run, meta: { ...meta, endReason: 'interrupted' as const } },
    ];
    const seen = new Set<string>();
    for (let i = 0; i <= 10; i++) {
      const limit = best + ((worst - best) * i) / 10;
      for (const op of ['<', '<='] as const)
        for (const minSamples of [10, 1e5, 1e9]) {
          const b = [
            { ...latency('a', 95, op, limit, 300), minSamples },
            { ...latency('b', 99, op, limit, 600), minSamples },
            { ...latency('c', 90, op, limit, null), minSamples },
            { ...errorBudget('e', 300, 0.5), minSamples },
          ];
          for (const x of runs) {
            const gate = evaluateBudgets(b, x);
            const got = computeGateVerdicts(b, x);
            expect(got.verdict).toBe(gate.verdict);
            // The judge reads each window once for the verdict and the breach minutes (the verdict
            // stops at a budget's first breach, the minutes read on): the same answers, either order.
            const judge = budgetsJudge(b);
            expect(judge.evaluate(x)).toEqual(got);
            expect(judge.breachMinutes(x)).toBe(computeBreachMinutes(b, x).total);
            const judge2 = budgetsJudge(b);
            expect(judge2.breachMinutes(x)).toBe(computeBreachMinutes(b, x).total);
            expect(judge2.evaluate(x)).toEqual(got);
            expect(got.counts.fail).toBe(gate.counts.fail);
            expect(got.results.map((r) => [r.budget.name, r.verdict])).toEqual(
              gate.results.map((r) => [r.budget.name, r.verdict]),
            );
            for (const r of gate.results) seen.add(r.verdict);
          }
        }
    }
    // Every verdict occurs: the cases above mean something.
    expect([...seen].sort()).toEqual(['fail', 'inconclusive', 'pass']);
    expect(computeGateVerdicts([], run).verdict).toBe(evaluateBudgets([], run).verdict);
  });

  it('after prefix checks that did not fail, reads the windows ending after the last: the same answer', () => {
    const decided = { fail: 0, pass: 0 };
    for (let i = 0; i <= 20; i++) {
      const limit = best + ((worst - best) * i) / 20;
      for (const [op, checks] of [
        ['<', [600, 1200]],
        ['<=', [600, 1200]],
        ['<', [300, 600]],
      ] as const) {
        const b = [latency('a', 95, op, limit, 300), errorBudget('e', 300, 0.99)];
        // The checks as a trial makes them: each after the first reads what the last did not.
        let since: number | undefined;
        let stopped = false;
        for (const at of checks) {
          const prefix = { meta, records: r.series.filter((x) => x.t < at) };
          if (computePrefixFails(b, prefix, undefined, since)) stopped = true;
          since = at;
          if (stopped) break;
        }
        if (stopped) continue;
        const gate = evaluateBudgets(b, run).verdict === 'fail';
        decided[gate ? 'fail' : 'pass']++;
        expect(computeAnyBudgetFails(b, run, undefined, since)).toBe(gate);
        expect(budgetsJudge(b).fails?.(run, since)).toBe(gate);
      }
    }
    // Runs that fail only after the last check, and runs that pass, both occur.
    expect(decided.fail).toBeGreaterThan(0);
    expect(decided.pass).toBeGreaterThan(0);
  });

  it('judges as the gate windows of few requests, whose max is below their p99 (the gate bisects those)', () => {
    // Intervals of 20–90 requests: the simulator's max is the 1 − 1/n quantile, below the p99.
    const few: SeriesRecord[] = Array.from({ length: 12 }, (_, i) => {
      const p50 = 100 + 37 * ((i * 7) % 5);
      const latencyEstimate = {
        p50,
        p90: p50 * 2.1,
        p95: p50 * 2.6,
        p99: p50 * 3.4,
        max: p50 * (2.7 + 0.1 * (i % 4)),
        mean: p50 * 1.2,
      };
      return {
        t: i * 60,
        wall: i * 60,
        dt: 60,
        channel: 'web',
        journey: 'j',
        step: 's',
        requests: 20 + 7 * i,
        failed: 0,
        latencyEstimate,
      };
    });
    const fewRun = { meta, records: few };
    const values = few.flatMap((r) => Object.values(r.latencyEstimate!));
    const [lo, hi] = [Math.min(...values), Math.max(...values)];
    const seen = new Set<string>();
    for (let i = 0; i <= 40; i++) {
      const limit = lo + ((hi - lo) * i) / 40;
      for (const op of ['<', '<='] as const)
        for (const [p, win, minSamples] of [
          [95, 120, 10],
          [99, 300, 10],
          [90, 60, 30],
          [99, 180, 1000],
        ] as const) {
          const b = [{ ...latency('a', p, op, limit, win), minSamples }];
          const gate = evaluateBudgets(b, fewRun);
          expect(computeGateVerdicts(b, fewRun).verdict).toBe(gate.verdict);
          expect(computeAnyBudgetFails(b, fewRun)).toBe(gate.verdict === 'fail');
          seen.add(gate.verdict);
        }
    }
    // A window's value exactly at the limit, as the gate's bisection ends it.
    const b0 = latency('a', 95, '<', 1, 120);
    const slices = buildSlices(b0, few, { timeScale: 1, fromT: 0, cache: createHistogramCache() });
    for (const { o } of [...observeWindows(b0, slices, slidingWindows(slices, 120).list)].slice(0, 4)) {
      if (!o.ok) continue;
      for (const op of ['<', '<='] as const) {
        const b = [latency('a', 95, op, o.value, 120)];
        expect(computeGateVerdicts(b, fewRun).verdict).toBe(evaluateBudgets(b, fewRun).verdict);
      }
    }
    expect([...seen].sort()).toEqual(['fail', 'inconclusive', 'pass']);
  });

  it('answers as the gate does at every limit across the range of window latencies', () => {
    for (let i = 0; i <= 20; i++) {
      const limit = best + ((worst - best) * i) / 20;
      for (const op of ['<', '<='] as const) {
        const b = [latency('a', 95, op, limit, 300)];
        expect(computeAnyBudgetFails(b, run)).toBe(evaluateBudgets(b, run).verdict === 'fail');
      }
    }
  });

  // The same run keeping its series as columns, as a coarser sizing trial does.
  const rc = simulate(plan, {
    arch: 'headless',
    scaling: loadScaling(),
    seed: 1,
    warmStart: false,
    seriesColumns: true,
  });
  const colRun = { meta, records: [], columns: rc.seriesColumns! };
  const scoped = (b: Budget, scope: Budget['scope']): Budget => ({
    ...b,
    name: `${b.name} ${JSON.stringify(scope)}`,
    scope,
  });

  it('reads a series kept as columns as it reads the records: the same verdict on every budget, limit and scope', () => {
    expect(rc.series).toHaveLength(0);
    expect(rc.seriesColumns!.toRecords()).toStrictEqual(r.series);
    const seen = { fail: 0, pass: 0 };
    for (let i = 0; i <= 20; i++) {
      const limit = best + ((worst - best) * i) / 20;
      for (const op of ['<', '<='] as const)
        for (const scope of [
          {},
          { channel: 'web' },
          { channel: 'mobile-app' },
          { journey: 'buy' },
          { step: 'x' },
        ])
          for (const minSamples of [10, 1e5]) {
            const b = [
              scoped({ ...latency('a', 95, op, limit, 300), minSamples }, scope),
              scoped({ ...latency('b', 99, op, limit, null), minSamples }, scope),
              scoped(errorBudget('e', 300, 0.02 * (i % 4)), scope),
              // Iteration records: dropped iterations over the whole run (none dropped: 0 < 0 fails).
              scoped(
                { ...errorBudget('d', null, i % 2 === 0 ? 0 : 0.5), metric: 'dropped_rate', minSamples },
                scope,
              ),
            ];
            const want = computeAnyBudgetFails(b, run);
            expect(want).toBe(evaluateBudgets(b, run).verdict === 'fail');
            expect(computeAnyBudgetFails(b, colRun)).toBe(want);
            // Each budget alone too: one failing budget would hide the others' answers.
            for (const x of b) {
              const one = computeAnyBudgetFails([x], run);
              expect(computeAnyBudgetFails([x], colRun)).toBe(one);
              seen[one ? 'fail' : 'pass']++;
            }
            expect(computeGateVerdicts(b, colRun)).toEqual(computeGateVerdicts(b, run));
            seen[want ? 'fail' : 'pass']++;
          }
    }
    expect(seen.fail).toBeGreaterThan(0);
    expect(seen.pass).toBeGreaterThan(0);
  });

  it('checks a prefix kept as columns as it checks the records, read only after the last check', () => {
    const decided = { stopped: 0, fail: 0, pass: 0 };
    const cols = rc.seriesColumns!;
    // The columns up to event time `at`: the intervals before it (a run stopped there holds those).
    const prefixOf = (at: number) => {
      const c = new SeriesColumns(cols.scenarios, cols.stepSlots);
      for (let n = 0; n < cols.intervals && cols.t[n]! < at; n++) {
        c.beginInterval(cols.t[n]!, cols.wall[n]!, cols.dt[n]!);
        c.iterations.set(
          cols.iterations.subarray(n * cols.scenarios.length * 5, (n + 1) * cols.scenarios.length * 5),
          n * cols.scenarios.length * 5,
        );
        c.steps.set(cols.steps.subarray(cols.stepAt(n, 0), cols.stepAt(n + 1, 0)), c.stepAt(n, 0));
      }
      return c;
    };
    for (let i = 0; i <= 20; i++) {
      const limit = best + ((worst - best) * i) / 20;
      for (const op of ['<', '<='] as const) {
        const b = [latency('a', 95, op, limit, 300), errorBudget('e', 300, 0.99)];
        let since: number | undefined;
        let stopped = false;
        for (const at of [600, 1200]) {
          const fromRecords = computePrefixFails(
            b,
            { meta, records: r.series.filter((x) => x.t < at) },
            undefined,
            since,
          );
          const fromColumns = computePrefixFails(
            b,
            { meta, records: [], columns: prefixOf(at) },
            undefined,
            since,
          );
          expect(fromColumns).toBe(fromRecords);
          since = at;
          stopped = fromRecords;
          if (stopped) break;
        }
        if (stopped) {
          decided.stopped++;
          continue;
        }
        const want = computeAnyBudgetFails(b, run, undefined, since);
        expect(computeAnyBudgetFails(b, colRun, undefined, since)).toBe(want);
        expect(budgetsJudge(b).fails?.(colRun, since)).toBe(want);
        decided[want ? 'fail' : 'pass']++;
      }
    }
    expect(decided.stopped).toBeGreaterThan(0);
    expect(decided.fail).toBeGreaterThan(0);
    expect(decided.pass).toBeGreaterThan(0);
  });

  it('judges columns of few requests, whose max is below their p99, as the gate does (the bisection)', () => {
    // One step of one scenario, 12 intervals of 20–90 requests (the simulator's max is then the
    // 1 − 1/n quantile, below the p99): the knots out of order, which the judge leaves to the bisection.
    const cols = new SeriesColumns(
      [{ channel: 'web', journey: 'j', step: null }],
      [{ channel: 'web', journey: 'j', step: 's' }],
    );
    for (let i = 0; i < 12; i++) {
      const n = cols.beginInterval(i * 60, i * 60, 60);
      cols.setIteration(n, 0, 10, 10, 10, 0, 0);
      const p50 = 100 + 37 * ((i * 7) % 5);
      cols.setStep(n, 0, 20 + 7 * i, 0, 20 + 7 * i, 0, 0, {
        p50,
        p90: p50 * 2.1,
        p95: p50 * 2.6,
        p99: p50 * 3.4,
        max: p50 * (2.7 + 0.1 * (i % 4)),
        mean: p50 * 1.2,
      });
    }
    const records = cols.toRecords();
    const values = records.flatMap((x) => (x.latencyEstimate ? Object.values(x.latencyEstimate) : []));
    const [lo, hi] = [Math.min(...values), Math.max(...values)];
    const seen = new Set<boolean>();
    for (let i = 0; i <= 40; i++) {
      const limit = lo + ((hi - lo) * i) / 40;
      for (const op of ['<', '<='] as const)
        for (const [p, win, minSamples] of [
          [95, 120, 10],
          [99, 300, 10],
          [90, 60, 30],
        ] as const) {
          const b = [{ ...latency('a', p, op, limit, win), minSamples }];
          const want = evaluateBudgets(b, { meta, records }).verdict === 'fail';
          expect(computeAnyBudgetFails(b, { meta, records: [], columns: cols })).toBe(want);
          expect(computePrefixFails(b, { meta, records: [], columns: cols })).toBe(
            computePrefixFails(b, { meta, records }),
          );
          seen.add(want);
        }
    }
    expect([...seen].sort()).toEqual([false, true]);
  });
});
