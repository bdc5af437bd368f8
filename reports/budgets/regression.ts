/**
 * Baseline regression: is the candidate run's latency worse than the baseline's by more than the
 * allowed percentage AND by more than run-to-run noise? Pure and seeded.
 *
 * Method (docs/budgets.md "Regression against a baseline"): each run's per-interval HDR histograms
 * (after the warm-up, in the budget's scope) are grouped into at most `BLOCKS` blocks of consecutive
 * intervals, so slow drifts and bursts stay together (a block bootstrap). Each of `RESAMPLES` rounds
 * draws as many blocks as each run has, with replacement, merges their bucket counts exactly and
 * reads the budget's statistic; the change is candidate / baseline - 1. The gate fails the budget
 * only when even the lower end of the 95% interval of the change exceeds `maxRegression`: the
 * regression is beyond the allowance by more than the run-to-run noise. (Requiring only a lower end
 * above zero let 2 of 12 same-distribution pairs of 30-s runs fail in regression.test.ts: bootstrap
 * intervals of high percentiles from few intervals are too narrow, so the stricter rule is used.) Applies to latency budgets on
 * percentiles and averages with `<`/`<=`; other budgets are not compared.
 */
import { createRng, type Rng } from '../../core/rng.ts';
import { type Budget, formatBudgetValue, isLatencyMetric } from '../../scenarios/budgets/budget.ts';
import {
  buildSlices,
  createHistogramCache,
  type HistogramCache,
  type Slice,
} from '../../scenarios/budgets/slices.ts';
import {
  addSparse,
  concatSparse,
  type DenseCounts,
  meanValue,
  type SparseHistogram,
  valueAtPercentile,
} from '../../scenarios/budgets/sparse-histogram.ts';
import type { RegressionResult, RunInput } from './evaluate.ts';

/** Bootstrap settings; the defaults are what the gate uses (assumptions, documented). */
export interface RegressionOptions {
  maxRegression: number;
  seed?: number;
  resamples?: number;
  blocks?: number;
  confidence?: number;
}

const RESAMPLES = 400;
const BLOCKS = 60;

/** Whether a budget is compared against a baseline at all. */
export function isRegressionComparable(b: Budget): boolean {
  return (
    isLatencyMetric(b.metric) &&
    (b.stat.kind === 'percentile' || b.stat.kind === 'avg') &&
    (b.op === '<' || b.op === '<=')
  );
}

/** Compares one budget's statistic between a candidate and a baseline run. */
export function compareToBaseline(
  budget: Budget,
  candidate: RunInput,
  baseline: RunInput,
  options: RegressionOptions,
  caches: { candidate?: HistogramCache; baseline?: HistogramCache } = {},
): RegressionResult | undefined {
  if (!isRegressionComparable(budget)) return undefined;
  const maxRegression = options.maxRegression;
  const empty = {
    baseline: Number.NaN,
    candidate: Number.NaN,
    change: Number.NaN,
    ciLow: Number.NaN,
    ciHigh: Number.NaN,
    maxRegression,
  };
  const slicesOf = (run: RunInput, cache: HistogramCache | undefined) =>
    buildSlices(budget, run.records, {
      timeScale: run.meta.timeScale,
      fromT: run.meta.eventStart + budget.warmupSeconds,
      cache: cache ?? createHistogramCache(),
    }).filter((s) => s.hist !== null && s.hist.total > 0);
  const cand = slicesOf(candidate, caches.candidate);
  const base = slicesOf(baseline, caches.baseline);
  if (cand.length < 2 || base.length < 2) {
    return {
      ...empty,
      verdict: 'inconclusive',
      reason:
        'regression not compared: each run needs latency histograms in at least two intervals (simulated runs have none)',
    };
  }
  const blocks = options.blocks ?? BLOCKS;
  const candBlocks = toBlocks(cand, blocks);
  const baseBlocks = toBlocks(base, blocks);
  let minIdx = Number.POSITIVE_INFINITY;
  let maxIdx = 0;
  for (const blk of [...candBlocks, ...baseBlocks]) {
    for (const i of blk.idx) {
      minIdx = Math.min(minIdx, i);
      maxIdx = Math.max(maxIdx, i);
    }
  }
  const dense: DenseCounts = { counts: new Float64Array(maxIdx - minIdx + 1), total: 0, offset: minIdx };
  const stat = (selection: SparseHistogram[]): number => {
    dense.counts.fill(0);
    dense.total = 0;
    for (const blk of selection) addSparse(dense, blk, 1);
    const us =
      budget.stat.kind === 'avg'
        ? meanValue(dense)
        : valueAtPercentile(dense, budget.stat.kind === 'percentile' ? budget.stat.p : 100);
    return us / 1000;
  };
  const total = (xs: SparseHistogram[]) => xs.reduce((a, blk) => a + blk.total, 0);
  if (total(candBlocks) < budget.minSamples || total(baseBlocks) < budget.minSamples) {
    return {
      ...empty,
      verdict: 'inconclusive',
      reason: `regression not compared: fewer than ${budget.minSamples} samples in a run`,
    };
  }
  const candValue = stat(candBlocks);
  const baseValue = stat(baseBlocks);
  const change = candValue / baseValue - 1;
  const rng = createRng(options.seed ?? 1);
  const rounds = options.resamples ?? RESAMPLES;
  const changes: number[] = [];
  for (let b = 0; b < rounds; b++) {
    const c = stat(resample(candBlocks, rng));
    const bl = stat(resample(baseBlocks, rng));
    changes.push(c / bl - 1);
  }
  changes.sort((a, b) => a - b);
  const alpha = (1 - (options.confidence ?? 0.95)) / 2;
  const ciLow = quantile(changes, alpha);
  const ciHigh = quantile(changes, 1 - alpha);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const fmt = (v: number) => formatBudgetValue(budget, v);
  const fails = ciLow > maxRegression;
  const reason = fails
    ? `regressed ${pct(change)} (${fmt(baseValue)} -> ${fmt(candValue)}), beyond the allowed ${pct(maxRegression)} and the noise (95% CI ${pct(ciLow)}..${pct(ciHigh)})`
    : change > maxRegression
      ? `changed ${pct(change)} (${fmt(baseValue)} -> ${fmt(candValue)}) but within run-to-run noise (95% CI ${pct(ciLow)}..${pct(ciHigh)})`
      : `changed ${pct(change)} (${fmt(baseValue)} -> ${fmt(candValue)}), within the allowed ${pct(maxRegression)}`;
  return {
    verdict: fails ? 'fail' : 'pass',
    baseline: baseValue,
    candidate: candValue,
    change,
    ciLow,
    ciHigh,
    maxRegression,
    reason,
  };
}

function toBlocks(slices: Slice[], maxBlocks: number): SparseHistogram[] {
  const size = Math.ceil(slices.length / maxBlocks);
  const out: SparseHistogram[] = [];
  for (let i = 0; i < slices.length; i += size) {
    out.push(concatSparse(slices.slice(i, i + size).map((s) => s.hist as SparseHistogram)));
  }
  return out;
}

function resample<T>(xs: T[], rng: Rng): T[] {
  const out: T[] = new Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = xs[rng.int(xs.length)] as T;
  return out;
}

function quantile(sorted: number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}
