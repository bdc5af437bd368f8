/**
 * `createBudgetAbortRule(budgets)`: the engine's AbortRule (engine/abort-rules.ts) for budgets with
 * `abortOnFail`. Called once per second with the records the engine just emitted, it keeps each
 * budget's running state incrementally (a cumulative sum for whole-run budgets, a trailing window of
 * `window` event seconds for windowed ones, histograms merged exactly) and stops the load, exit 99,
 * the first second a budget is breached on at least `minSamples` samples, once the warm-up and
 * `delayAbortEval` have passed. Budgets without abortOnFail are left to the gate.
 */
import { ExitCode } from '../core/errors.ts';
import type { SeriesRecord } from '../core/run-format.ts';
import { type Budget, formatBudgetValue, holds } from '../scenarios/budgets/budget.ts';
import { observe } from '../scenarios/budgets/observe.ts';
import {
  applySlice,
  buildSlices,
  createHistogramCache,
  createWindowState,
  type Slice,
  type WindowState,
} from '../scenarios/budgets/slices.ts';
import type { AbortDecision, AbortRule } from './abort-rules.ts';

/** Optional run facts; without them the first second's `t` is the start and slice spans are inferred. */
export interface BudgetAbortOptions {
  eventStart?: number;
  timeScale?: number;
}

interface Tracker {
  budget: Budget;
  state: WindowState;
  queue: Slice[];
}

/** Builds the abort rule for the budgets that ask for it. */
export function createBudgetAbortRule(
  budgets: readonly Budget[],
  options: BudgetAbortOptions = {},
): AbortRule {
  const trackers: Tracker[] = budgets
    .filter((b) => b.abortOnFail && b.metric !== 'unsupported')
    .map((budget) => ({ budget, state: createWindowState(), queue: [] }));
  const cache = createHistogramCache();
  let start = options.eventStart;
  let prevT: number | undefined;
  return (second: { t: number; wall: number; records: SeriesRecord[] }): AbortDecision => {
    if (trackers.length === 0) return { abort: false };
    start ??= second.t;
    const timeScale =
      options.timeScale ??
      (() => {
        const r = second.records[0];
        const dt = r?.dt ?? 1;
        const gap = prevT === undefined ? undefined : second.t - prevT;
        return gap !== undefined && gap > 0 ? gap / dt : 1;
      })();
    prevT = second.t;
    for (const tr of trackers) {
      const b = tr.budget;
      const fromT = (start as number) + b.warmupSeconds;
      const slices = buildSlices(b, second.records, { timeScale, fromT, cache });
      for (const s of slices) {
        applySlice(tr.state, s, 1);
        if (b.windowSeconds !== null) tr.queue.push(s);
      }
      if (slices.length === 0) continue;
      const last = slices[slices.length - 1] as Slice;
      const windowEnd = last.t + last.span;
      if (b.windowSeconds !== null) {
        while (tr.queue.length > 0 && (tr.queue[0] as Slice).t < windowEnd - b.windowSeconds - 1e-9) {
          applySlice(tr.state, tr.queue.shift() as Slice, -1);
        }
      }
      if (second.t < fromT + b.delayAbortEvalSeconds) continue;
      const o = observe(b, tr.state);
      if (!o.ok || o.samples < b.minSamples || holds(b.op, o.value, b.limit)) continue;
      const over = b.windowSeconds === null ? 'so far' : `over the last ${b.windowSeconds}s of event time`;
      return {
        abort: true,
        exitCode: ExitCode.budgetsBreached,
        reason: `budget "${b.name}" breached (abortOnFail): ${b.expression}, observed ${formatBudgetValue(b, o.value)} ${over} on ${o.samples} samples`,
      };
    }
    return { abort: false };
  };
}
