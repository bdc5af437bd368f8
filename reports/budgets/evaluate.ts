/**
 * Budget evaluation: pure, from a run's meta and series records to one honest verdict per budget.
 *
 * Verdict rules (docs/budgets.md "Verdicts"):
 * - Records before `eventStart + warmup` are ignored.
 * - Whole-run budgets read every remaining record at once. Windowed budgets read every sliding
 *   window of `window` event seconds: one window starts at each record interval, and holds the
 *   intervals that start before its end; windows running past the run's end are not evaluated, unless
 *   the run is shorter than one window, when the whole run is the one window.
 * - A window with fewer samples than `minSamples` gives no verdict ("thin"); any window that breaches
 *   fails the budget; no window with enough samples makes it inconclusive; else it passes.
 * - A budget the run cannot measure (k6 runs have no intended-start latency; unsupported k6 metrics)
 *   is inconclusive and says why. Simulated runs are judged on their estimates and say "simulated".
 * - An invalid run, or one that did not complete its plan (interrupted, aborted, killed), cannot
 *   pass: its passing budgets become inconclusive (breaches still fail).
 * - The gate exits 99 if any budget fails, else 98 if any is inconclusive (or there are none), else 0.
 */
import { ExitCode } from '../../core/errors.ts';
import type { MetricRecord, RunMeta, SeriesRecord, TimelineRecord } from '../../core/run-format.ts';
import {
  type Budget,
  formatBudgetValue,
  holds,
  judgeReading,
  worseThan,
} from '../../scenarios/budgets/budget.ts';
import { observe } from '../../scenarios/budgets/observe.ts';
import { describeScope } from '../../scenarios/budgets/parse-budgets.ts';
import {
  applySlice,
  buildSlices,
  createHistogramCache,
  createWindowState,
  type HistogramCache,
  type Slice,
} from '../../scenarios/budgets/slices.ts';
import { observeK6Metric } from './k6-metric.ts';
import { observeTimelineMetric } from './timeline-metric.ts';

export type Verdict = 'pass' | 'fail' | 'inconclusive';

/** The parts of a run the evaluation reads. */
export interface RunInput {
  meta: Pick<
    RunMeta,
    'id' | 'mode' | 'driver' | 'valid' | 'invalidReasons' | 'capabilities' | 'eventStart' | 'timeScale'
  > &
    Partial<Pick<RunMeta, 'endReason' | 'endDetail' | 'startedAt'>>;
  records: readonly SeriesRecord[];
  /** Per-second k6 metric records (`metrics.ndjson`, imported k6 runs); absent when the run has none. */
  metrics?: readonly MetricRecord[];
  /** The run's wall length (summary.json), for a k6 Counter's per-second `rate`. */
  durationSeconds?: number;
  /** The run's timeline (`timeline.ndjson`), read when a budget names a timeline metric; null when it has none. */
  timeline?: readonly TimelineRecord[] | null;
}

/** A window's place and reading. `from`/`to` are event seconds; `wall` the wall offset of its start. */
export interface WindowReading {
  from: number;
  to: number;
  wall: number;
  value: number;
  samples: number;
}

/** A baseline comparison (filled in by regression.ts). */
export interface RegressionResult {
  verdict: Verdict;
  baseline: number;
  candidate: number;
  /** Relative change, e.g. 0.2 = 20% worse. */
  change: number;
  /** Bootstrap confidence interval of the change. */
  ciLow: number;
  ciHigh: number;
  maxRegression: number;
  reason: string;
}

/** One budget's verdict and the evidence for it. */
export interface BudgetResult {
  budget: Budget;
  verdict: Verdict;
  /** Whole run after the warm-up; null when it could not be read. */
  observed: number | null;
  samples: number;
  simulated: boolean;
  /** Worst window (windowed budgets with at least one window with enough samples). */
  worst: WindowReading | null;
  windows: { evaluated: number; breached: number; thin: number } | null;
  /** One sentence: why this verdict. */
  reason: string;
  notes: string[];
  regression?: RegressionResult;
}

/** The gate's overall answer. */
export interface GateResult {
  run: {
    id: string;
    mode: RunMeta['mode'];
    driver: RunMeta['driver'];
    valid: boolean;
    invalidReasons: string[];
  };
  results: BudgetResult[];
  verdict: Verdict;
  exitCode: number;
  counts: Record<Verdict, number>;
}

/** Evaluates every budget against one run. */
export function evaluateBudgets(
  budgets: readonly Budget[],
  run: RunInput,
  cache: HistogramCache = createHistogramCache(),
): GateResult {
  const results = budgets.map((b) => evaluateBudget(b, run, cache));
  return summarizeGate(run, results);
}

/** Combines per-budget results into the gate's verdict and exit code. */
export function summarizeGate(run: RunInput, results: BudgetResult[]): GateResult {
  const counts: Record<Verdict, number> = { pass: 0, fail: 0, inconclusive: 0 };
  for (const r of results) counts[r.verdict]++;
  const verdict: Verdict =
    counts.fail > 0 ? 'fail' : counts.inconclusive > 0 || results.length === 0 ? 'inconclusive' : 'pass';
  const exitCode =
    verdict === 'fail'
      ? ExitCode.budgetsBreached
      : verdict === 'inconclusive'
        ? ExitCode.noVerdict
        : ExitCode.ok;
  return {
    run: {
      id: run.meta.id,
      mode: run.meta.mode,
      driver: run.meta.driver,
      valid: run.meta.valid,
      invalidReasons: run.meta.invalidReasons,
    },
    results,
    verdict,
    exitCode,
    counts,
  };
}

/** Why a run cannot supply a metric at all, or undefined when it can. */
function unavailable(budget: Budget, meta: RunInput['meta']): string | undefined {
  if (budget.unsupported) return budget.unsupported;
  if (
    budget.metric === 'latency' &&
    !meta.capabilities.intendedStartLatency &&
    !(meta.capabilities.sendLatency || meta.mode === 'simulated')
  ) {
    return `the run (driver ${meta.driver}) has neither intended-start nor send-time latency`;
  }
  if (budget.metric === 'latency_send' && !meta.capabilities.sendLatency && meta.mode !== 'simulated') {
    return `the run (driver ${meta.driver}) has no send-time latency`;
  }
  return undefined;
}

/** Evaluates one budget against one run. */
export function evaluateBudget(
  budget: Budget,
  run: RunInput,
  cache: HistogramCache = createHistogramCache(),
): BudgetResult {
  const notes = [...budget.notes];
  const asked = budget;
  // A run without intended-start latency (k6) is judged on send-time latency, and says so.
  if (
    budget.metric === 'latency' &&
    !run.meta.capabilities.intendedStartLatency &&
    run.meta.capabilities.sendLatency &&
    run.meta.mode !== 'simulated'
  ) {
    budget = { ...budget, metric: 'latency_send' };
    notes.push(
      `judged on send-time latency: the run (driver ${run.meta.driver}) has no intended-start latency${run.meta.driver === 'k6' ? ' (k6 cannot measure it)' : ''}, so coordinated omission is not excluded`,
    );
  }
  const base = {
    budget: asked,
    observed: null,
    samples: 0,
    simulated: run.meta.mode === 'simulated',
    worst: null,
    windows: null,
    notes,
  };
  const missing = unavailable(budget, run.meta);
  if (missing) return { ...base, verdict: 'inconclusive', reason: missing };

  const fromT = run.meta.eventStart + budget.warmupSeconds;
  if (budget.metric === 'k6_metric') return evaluateK6MetricBudget(budget, run, fromT, base);
  if (budget.metric === 'timeline') return evaluateTimelineBudget(budget, run, fromT, base);
  const slices = buildSlices(budget, run.records, { timeScale: run.meta.timeScale, fromT, cache });
  if (slices.length === 0) {
    return { ...base, verdict: 'inconclusive', reason: noDataReason(budget, run) };
  }
  const whole = createWindowState();
  for (const s of slices) applySlice(whole, s, 1);
  const overall = observe(budget, whole);
  if (!overall.ok)
    return { ...base, samples: overall.samples, verdict: 'inconclusive', reason: overall.reason };
  const simulated = overall.simulated;
  if (simulated) notes.push('simulated: judged on the simulator’s latency estimates, not measurements');
  const fmt = (v: number) => formatBudgetValue(budget, v);
  const result = (
    verdict: BudgetResult['verdict'],
    reason: string,
    extra: Partial<BudgetResult> = {},
  ): BudgetResult =>
    applyValidity(
      { ...base, observed: overall.value, samples: overall.samples, simulated, verdict, reason, ...extra },
      run,
    );

  if (budget.windowSeconds === null) {
    if (overall.samples < budget.minSamples) {
      return result(
        'inconclusive',
        `${overall.samples} samples, fewer than the minimum ${budget.minSamples}`,
      );
    }
    const ok = holds(budget.op, overall.value, budget.limit);
    return result(
      ok ? 'pass' : 'fail',
      `${budget.expression}: observed ${fmt(overall.value)} over the whole run${simulated ? ' (simulated)' : ''}`,
    );
  }

  const windows = slidingWindows(slices, budget.windowSeconds);
  let worst: WindowReading | null = null;
  const counts = { evaluated: 0, breached: 0, thin: 0 };
  for (const { win, o } of observeWindows(budget, slices, windows.list)) {
    const judged = o.ok ? judgeReading(budget, o.samples, o.value) : 'thin';
    if (!o.ok || judged === 'thin') {
      counts.thin++;
      continue;
    }
    counts.evaluated++;
    const reading: WindowReading = {
      from: win.from,
      to: win.to,
      wall: win.wall,
      value: o.value,
      samples: o.samples,
    };
    if (judged === 'breached') counts.breached++;
    if (!worst || worseThan(budget.op, o.value, worst.value, budget.limit)) worst = reading;
  }
  if (windows.shorterThanRun) notes.push('the run is shorter than one window: the whole run is the window');
  if (counts.thin > 0 && counts.evaluated > 0)
    notes.push(
      `${counts.thin} of ${counts.thin + counts.evaluated} windows had fewer than ${budget.minSamples} samples and were skipped`,
    );
  const extra = { worst, windows: counts };
  if (counts.breached > 0 && worst) {
    return result(
      'fail',
      `${budget.expression}: breached in ${counts.breached} of ${counts.evaluated} windows; worst ${fmt(worst.value)}${simulated ? ' (simulated)' : ''}`,
      extra,
    );
  }
  if (counts.evaluated === 0) {
    return result(
      'inconclusive',
      `no ${budget.windowSeconds}s window had the minimum ${budget.minSamples} samples (whole run: ${overall.samples})`,
      extra,
    );
  }
  return result(
    'pass',
    `${budget.expression}: held in all ${counts.evaluated} windows; worst ${fmt((worst as WindowReading).value)}${simulated ? ' (simulated)' : ''}`,
    extra,
  );
}

function evaluateK6MetricBudget(
  budget: Budget,
  run: RunInput,
  fromT: number,
  base: Omit<BudgetResult, 'verdict' | 'reason'>,
): BudgetResult {
  if (!run.metrics) {
    return {
      ...base,
      verdict: 'inconclusive',
      reason: `the run has no per-second k6 metrics, so ${budget.metricName} cannot be read (runs imported with \`peakday import k6\` have them)`,
    };
  }
  const { observation: o, notes } = observeK6Metric(budget, run.metrics, fromT, run.durationSeconds ?? 0);
  base.notes.push(...notes);
  if (budget.windowSeconds !== null)
    base.notes.push(
      'k6 metrics are judged over the whole run, as k6 judges its thresholds; the window is not applied',
    );
  if (!o.ok) return { ...base, samples: o.samples, verdict: 'inconclusive', reason: o.reason };
  const r = { ...base, observed: o.value, samples: o.samples };
  if (o.samples < budget.minSamples)
    return applyValidity(
      {
        ...r,
        verdict: 'inconclusive',
        reason: `${o.samples} samples, fewer than the minimum ${budget.minSamples}`,
      },
      run,
    );
  const held = holds(budget.op, o.value, budget.limit);
  return applyValidity(
    {
      ...r,
      verdict: held ? 'pass' : 'fail',
      reason: `${budget.expression}: observed ${formatBudgetValue(budget, o.value)} over the whole run`,
    },
    run,
  );
}

/**
 * A timeline budget: a breach in the periods that are there fails; holding there while periods are
 * missing is no verdict (98), with a reason naming the service, the metric and the minutes.
 */
function evaluateTimelineBudget(
  budget: Budget,
  run: RunInput,
  fromT: number,
  base: Omit<BudgetResult, 'verdict' | 'reason'>,
): BudgetResult {
  const toT =
    run.durationSeconds !== undefined
      ? run.meta.eventStart + run.durationSeconds * run.meta.timeScale
      : Number.POSITIVE_INFINITY;
  const o = observeTimelineMetric(budget, run.timeline ?? null, fromT, toT, {
    startedAtMs: run.meta.startedAt ? Date.parse(run.meta.startedAt) : Number.NaN,
    eventStart: run.meta.eventStart,
    timeScale: run.meta.timeScale,
  });
  if (!o.ok) return { ...base, samples: o.samples, verdict: 'inconclusive', reason: o.reason };
  const r = { ...base, observed: o.value, samples: o.samples };
  const observed = `${budget.expression}: observed ${formatBudgetValue(budget, o.value)} over ${o.samples} timeline periods of ${budget.scope.service}`;
  if (o.samples < budget.minSamples)
    return {
      ...r,
      verdict: 'inconclusive',
      reason: `${o.samples} periods, fewer than the minimum ${budget.minSamples}`,
    };
  if (!holds(budget.op, o.value, budget.limit)) {
    if (o.missing) base.notes.push(`${o.missing}: breached on the periods that have data`);
    return { ...r, verdict: 'fail', reason: observed };
  }
  if (o.missing)
    return {
      ...r,
      verdict: 'inconclusive',
      reason: `${o.missing}: no verdict on data that is not there (${observed} with data)`,
    };
  return applyValidity({ ...r, verdict: 'pass', reason: observed }, run);
}

function applyValidity(r: BudgetResult, run: RunInput): BudgetResult {
  if (r.verdict !== 'pass') return r;
  if (!run.meta.valid) {
    const why =
      run.meta.invalidReasons.length > 0 ? run.meta.invalidReasons.join('; ') : 'no reason recorded';
    return {
      ...r,
      verdict: 'inconclusive',
      reason: `the run is invalid (${why}), so it cannot pass; ${r.reason}`,
    };
  }
  const end = run.meta.endReason;
  if (end !== undefined && end !== 'completed') {
    const why = `${end}${run.meta.endDetail ? `: ${run.meta.endDetail}` : ''}`;
    return {
      ...r,
      verdict: 'inconclusive',
      reason: `the run did not play its whole plan (${why}), so it cannot pass; ${r.reason}`,
    };
  }
  return r;
}

function noDataReason(budget: Budget, run: RunInput): string {
  const scope = describeScope(budget.scope);
  const seen = (k: 'channel' | 'journey' | 'step') =>
    [...new Set(run.records.map((r) => r[k]).filter((x): x is string => typeof x === 'string'))].sort();
  const hints: string[] = [];
  for (const k of ['channel', 'journey', 'step'] as const) {
    const v = budget.scope[k];
    if (v !== undefined && !seen(k).includes(v))
      hints.push(`no ${k} "${v}" in the run (it has: ${seen(k).join(', ') || 'none'})`);
  }
  if (hints.length > 0) return hints.join('; ');
  return `no records${scope ? ` for ${scope}` : ''} after the warm-up of ${budget.warmupSeconds}s`;
}

/**
 * Each window's observation, sliding one window state over the slices (added as a window's end
 * passes them, removed as its start does) so that a run of n slices costs O(n), not O(n × window).
 * Shared by the gate and by `compare`'s breach minutes so both read a window identically.
 */
export function* observeWindows(
  budget: Budget,
  slices: readonly Slice[],
  windows: readonly { from: number; to: number; wall: number }[],
): Generator<{ win: { from: number; to: number; wall: number }; o: ReturnType<typeof observe> }> {
  const w = createWindowState();
  let lo = 0;
  let hi = 0;
  for (const win of windows) {
    while (hi < slices.length && (slices[hi] as Slice).t < win.to) applySlice(w, slices[hi++] as Slice, 1);
    while (lo < slices.length && (slices[lo] as Slice).t < win.from) applySlice(w, slices[lo++] as Slice, -1);
    yield { win, o: observe(budget, w) };
  }
}

/**
 * The windows of a windowed budget: one per slice start, `[t, t + length)`, keeping those that end
 * by the run's end; when none does, the whole run is one window.
 */
export function slidingWindows(
  slices: readonly Slice[],
  length: number,
): { list: { from: number; to: number; wall: number }[]; shorterThanRun: boolean } {
  const first = slices[0];
  if (!first) return { list: [], shorterThanRun: false };
  const end = Math.max(...slices.map((s) => s.t + s.span));
  const eps = 1e-9;
  const list = slices
    .filter((s) => s.t + length <= end + eps)
    .map((s) => ({ from: s.t, to: s.t + length, wall: s.wall }));
  if (list.length === 0)
    return { list: [{ from: first.t, to: end + eps, wall: first.wall }], shorterThanRun: true };
  return { list, shorterThanRun: false };
}
