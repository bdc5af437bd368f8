/**
 * Breach minutes as the budgets gate judges them, so that `compare`'s "breach minutes" and its
 * "meets budgets" can never disagree: a breach minute is an event minute covered by at least one
 * breached window of a windowed budget, each window read exactly as `evaluateBudget`
 * (reports/budgets/evaluate.ts) reads it — the same warm-up, scope, slices, sliding windows,
 * `observe`, minimum samples and comparison (a simulated latency window is decided from its mixture
 * CDF at the limit, the same judgement without solving its quantile; ties are observed). Whole-run budgets (`window: run`) have no windows and
 * add no minutes (they still decide the verdict). Pure.
 */
import type { Budget } from '../../scenarios/budgets/budget.ts';
import { holds, judgeReading } from '../../scenarios/budgets/budget.ts';
import { mixtureCdf, observe } from '../../scenarios/budgets/observe.ts';
import {
  applySlice,
  buildSlices,
  createHistogramCache,
  createWindowState,
  type HistogramCache,
  type WindowState,
} from '../../scenarios/budgets/slices.ts';
import type { BudgetsJudge } from '../../simulation/sizing/compare.ts';
import { evaluateBudget, evaluateBudgets, type RunInput, slidingWindows } from '../budgets/evaluate.ts';

/** Breach minutes in total (union over budgets) and per budget name. */
export interface BreachMinutes {
  total: number;
  byBudget: Record<string, number>;
}

/**
 * Event minutes covered by breached windows of `budgets` in `run` (see the module comment). Budgets
 * a run cannot measure (no data, unsupported) breach nothing.
 */
export function computeBreachMinutes(
  budgets: readonly Budget[],
  run: RunInput,
  cache: HistogramCache = createHistogramCache(),
): BreachMinutes {
  const all: [number, number][] = [];
  const byBudget: Record<string, number> = {};
  for (const budget of budgets) {
    if (budget.windowSeconds === null || budget.unsupported) continue;
    const fromT = run.meta.eventStart + budget.warmupSeconds;
    const slices = buildSlices(budget, run.records, { timeScale: run.meta.timeScale, fromT, cache });
    if (slices.length === 0) continue;
    const end = Math.max(...slices.map((s) => s.t + s.span));
    const spans: [number, number][] = [];
    // Each window read as observeWindows reads it (one sliding state), judged by windowBreached: a
    // simulated latency window from its mixture CDF at the limit, anything else observed.
    const w = createWindowState();
    let lo = 0;
    let hi = 0;
    for (const win of slidingWindows(slices, budget.windowSeconds).list) {
      while (hi < slices.length && slices[hi]!.t < win.to) applySlice(w, slices[hi++]!, 1);
      while (lo < slices.length && slices[lo]!.t < win.from) applySlice(w, slices[lo++]!, -1);
      if (windowBreached(budget, w)) spans.push([win.from, Math.min(win.to, end)]);
    }
    const minutes = unionLength(spans) / 60;
    if (minutes > 0) byBudget[budget.name] = round(minutes);
    all.push(...spans);
  }
  return { total: round(unionLength(all) / 60), byBudget };
}

/** Length of the union of [from, to) spans. */
function unionLength(spans: [number, number][]): number {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let curFrom = Number.NEGATIVE_INFINITY;
  let curTo = Number.NEGATIVE_INFINITY;
  for (const [from, to] of sorted) {
    if (from > curTo) {
      if (curTo > curFrom) total += curTo - curFrom;
      curFrom = from;
      curTo = to;
    } else curTo = Math.max(curTo, to);
  }
  if (curTo > curFrom) total += curTo - curFrom;
  return total;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Metrics whose simulated windows {@link computeAnyBudgetFails} reads itself (the others go to the gate). */
const FAST_METRICS = new Set<Budget['metric']>([
  'latency',
  'latency_send',
  'error_rate',
  'dropped_rate',
  'dropped_count',
  'check_pass_rate',
]);

/**
 * Whether a window breaches a latency percentile budget, decided from the estimates' mixture CDF at
 * the limit in one pass instead of solving the window's quantile: the q-quantile is at most (below)
 * the limit exactly when F(limit) (F(limit−)) reaches q of the weight. Null when that is too close
 * to call (within 1e-9 of the weight: float rounding could decide it either way) or the window is not
 * one the shortcut covers; the caller then observes the window as the gate does.
 */
function latencyWindowBreached(budget: Budget, w: WindowState): boolean | null {
  if (budget.stat.kind !== 'percentile' || (w.hist && w.hist.total > 0)) return null;
  if (budget.op !== '<' && budget.op !== '<=') return null;
  const f = mixtureCdf(w.estimates, budget.limit);
  if (!f || f.total <= 0) return null;
  if (Math.round(f.total) < budget.minSamples) return false;
  const need = (budget.stat.p / 100) * f.total;
  const have = budget.op === '<' ? f.before : f.at;
  const tol = 1e-9 * f.total;
  if (have > need + tol) return false;
  if (have < need - tol) return true;
  return null;
}

/** Whether one reading of the window breaches the budget, as the gate would judge it. */
function windowBreached(budget: Budget, w: WindowState): boolean {
  const fast = latencyWindowBreached(budget, w);
  if (fast !== null) return fast;
  const o = observe(budget, w);
  return o.ok && judgeReading(budget, o.samples, o.value) === 'breached';
}

/**
 * Whether the gate would fail `run` on `budgets` (its verdict is `fail`), stopping at the first
 * breach: what a sizing trial needs, at a fraction of a full evaluation. Exactly the gate's rule for a
 * simulated run — a windowed budget fails when a window with enough samples breaches and the whole
 * run has a reading, a whole-run budget when the run's reading breaches with enough samples — with a
 * latency window decided from its mixture CDF at the limit (ties are observed as the gate does).
 * Budgets it does not cover (live runs, k6 and timeline metrics) are evaluated by the gate. Pure.
 */
export function computeAnyBudgetFails(
  budgets: readonly Budget[],
  run: RunInput,
  cache: HistogramCache = createHistogramCache(),
): boolean {
  // Cheap readings first: any failing budget decides.
  const order = [...budgets].sort(
    (a, b) => Number(a.metric.startsWith('latency')) - Number(b.metric.startsWith('latency')),
  );
  for (const budget of order) {
    if (run.meta.mode !== 'simulated' || !FAST_METRICS.has(budget.metric) || budget.unsupported) {
      if (evaluateBudget(budget, run, cache).verdict === 'fail') return true;
      continue;
    }
    const fromT = run.meta.eventStart + budget.warmupSeconds;
    const slices = buildSlices(budget, run.records, { timeScale: run.meta.timeScale, fromT, cache });
    if (slices.length === 0) continue;
    const whole = createWindowState();
    for (const sl of slices) applySlice(whole, sl, 1);
    if (budget.windowSeconds === null) {
      const o = observe(budget, whole);
      if (o.ok && o.samples >= budget.minSamples && !holds(budget.op, o.value, budget.limit)) return true;
      continue;
    }
    // The gate reads the whole run first and gives no verdict when it has no reading.
    // (A latency percentile has one whenever some interval has requests: no need to solve it.)
    const hasReading =
      (budget.metric === 'latency' || budget.metric === 'latency_send') && budget.stat.kind === 'percentile'
        ? (whole.hist !== null && whole.hist.total > 0) ||
          whole.estimates.some((l) => l.some((e) => e.weight > 0))
        : observe(budget, whole).ok;
    if (!hasReading) continue;
    const w = createWindowState();
    let lo = 0;
    let hi = 0;
    for (const win of slidingWindows(slices, budget.windowSeconds).list) {
      while (hi < slices.length && slices[hi]!.t < win.to) applySlice(w, slices[hi++]!, 1);
      while (lo < slices.length && slices[lo]!.t < win.from) applySlice(w, slices[lo++]!, -1);
      if (windowBreached(budget, w)) return true;
    }
  }
  return false;
}

/**
 * Whether a PREFIX of a simulated run (its series up to some event time) already fails the budgets
 * whatever comes after: some windowed budget has a breached window lying wholly inside the prefix.
 * Each such window is a window of the whole run with the same content (sliding windows start at
 * every slice and are kept only when they fit; a simulation never rewrites an earlier interval),
 * and a breached window means the run has a reading, so {@link computeAnyBudgetFails} on the whole
 * run says fail too. Whole-run budgets, budgets the gate evaluates itself and budgets whose window
 * is longer than the prefix are not read (they can only be decided on the whole run). What lets a
 * sizing trial stop early (simulation/sizing/compare.ts). Pure.
 */
export function computePrefixFails(
  budgets: readonly Budget[],
  run: RunInput,
  cache: HistogramCache = createHistogramCache(),
  since?: number,
): boolean {
  // With `since`, only the windows that end after it (those starting at `since` − window or later)
  // are read: the others lie wholly inside the prefix up to `since`, already read. A simulated
  // series has a record of every (scenario, step) in every interval, so every budget's slices end
  // where the prefix ends, and that prefix's windows are exactly those.
  const longest = Math.max(0, ...budgets.map((b) => b.windowSeconds ?? 0));
  const records = since === undefined ? run.records : run.records.filter((r) => r.t >= since - longest);
  for (const budget of budgets) {
    if (run.meta.mode !== 'simulated' || !FAST_METRICS.has(budget.metric) || budget.unsupported) continue;
    if (budget.windowSeconds === null) continue;
    const fromT = run.meta.eventStart + budget.warmupSeconds;
    const slices = buildSlices(budget, records, { timeScale: run.meta.timeScale, fromT, cache });
    if (slices.length === 0) continue;
    const windows = slidingWindows(slices, budget.windowSeconds);
    // A prefix shorter than one window gets one partial window: no window of the whole run.
    if (windows.shorterThanRun) continue;
    const w = createWindowState();
    let lo = 0;
    let hi = 0;
    for (const win of windows.list) {
      while (hi < slices.length && slices[hi]!.t < win.to) applySlice(w, slices[hi++]!, 1);
      while (lo < slices.length && slices[lo]!.t < win.from) applySlice(w, slices[lo++]!, -1);
      if (windowBreached(budget, w)) return true;
    }
  }
  return false;
}

/**
 * The sizing search's judge (simulation/sizing/compare.ts) for `budgets`: the gate's own verdict and
 * these breach minutes, so `compare` judges a simulated configuration exactly as `peakday gate` would;
 * `fails` is the gate's "fail" verdict alone, stopping at the first breach (the search's trials).
 */
export function budgetsJudge(budgets: readonly Budget[]): BudgetsJudge {
  return {
    evaluate: (run) => evaluateBudgets(budgets, run),
    breachMinutes: (run) => computeBreachMinutes(budgets, run).total,
    fails: (run) => computeAnyBudgetFails(budgets, run),
    failsEarly: (run, since) => computePrefixFails(budgets, run, createHistogramCache(), since),
  };
}
