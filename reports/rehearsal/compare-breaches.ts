/**
 * Breach minutes as the budgets gate judges them, so that `compare`'s "breach minutes" and its
 * "meets budgets" can never disagree: a breach minute is an event minute covered by at least one
 * breached window of a windowed budget, each window read exactly as `evaluateBudget`
 * (reports/budgets/evaluate.ts) reads it — the same warm-up, scope, slices, sliding windows,
 * `observe`, minimum samples and comparison. Whole-run budgets (`window: run`) have no windows and
 * add no minutes (they still decide the verdict). Pure.
 */
import type { Budget } from '../../scenarios/budgets/budget.ts';
import { holds } from '../../scenarios/budgets/budget.ts';
import { buildSlices, createHistogramCache, type HistogramCache } from '../../scenarios/budgets/slices.ts';
import type { BudgetsJudge } from '../../simulation/sizing/compare.ts';
import { evaluateBudgets, observeWindows, type RunInput, slidingWindows } from '../budgets/evaluate.ts';

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
    for (const { win, o } of observeWindows(
      budget,
      slices,
      slidingWindows(slices, budget.windowSeconds).list,
    )) {
      if (!o.ok || o.samples < budget.minSamples) continue;
      if (!holds(budget.op, o.value, budget.limit)) spans.push([win.from, Math.min(win.to, end)]);
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

/**
 * The sizing search's judge (simulation/sizing/compare.ts) for `budgets`: the gate's own verdict and
 * these breach minutes, so `compare` judges a simulated configuration exactly as `peakday gate` would.
 */
export function budgetsJudge(budgets: readonly Budget[]): BudgetsJudge {
  return {
    evaluate: (run) => evaluateBudgets(budgets, run),
    breachMinutes: (run) => computeBreachMinutes(budgets, run).total,
  };
}
