/**
 * Breach minutes as the budgets gate judges them, so that `compare`'s "breach minutes" and its
 * "meets budgets" can never disagree: a breach minute is an event minute covered by at least one
 * breached window of a windowed budget, each window read exactly as `evaluateBudget`
 * (reports/budgets/evaluate.ts) reads it — the same warm-up, scope, slices, sliding windows,
 * `observe`, minimum samples and comparison (a simulated latency window is decided from its mixture
 * CDF at the limit, the same judgement without solving its quantile; ties are observed). Whole-run budgets (`window: run`) have no windows and
 * add no minutes (they still decide the verdict). Pure.
 */

import type { SeriesRecord } from '../../core/run-format.ts';
import type { Budget, Judgement } from '../../scenarios/budgets/budget.ts';
import { holds, judgeReading } from '../../scenarios/budgets/budget.ts';
import { estimateCdf, mixtureCdf, observe } from '../../scenarios/budgets/observe.ts';
import {
  applySlice,
  buildSlices,
  createHistogramCache,
  createWindowState,
  type HistogramCache,
  inScope,
  metricRecordKind,
  type Slice,
  type WeightedEstimate,
  type WindowState,
} from '../../scenarios/budgets/slices.ts';
import type { SeriesColumns } from '../../simulation/series-columns.ts';
import type { BudgetsJudge, SizingVerdict } from '../../simulation/sizing/compare.ts';
import { evaluateBudget, type RunInput, slidingWindows, type Verdict } from '../budgets/evaluate.ts';

/** Breach minutes in total (union over budgets) and per budget name. */
export interface BreachMinutes {
  total: number;
  byBudget: Record<string, number>;
}

/**
 * Event minutes covered by breached windows of `budgets` in `run` (see the module comment). Budgets
 * a run cannot measure (no data, unsupported) breach nothing. A series kept as columns is read as
 * its records.
 */
export function computeBreachMinutes(
  budgets: readonly Budget[],
  judged: JudgedInput,
  cache: HistogramCache = createHistogramCache(),
  reading: RunReading = readWindows(withRecords(judged), cache),
): BreachMinutes {
  const all: [number, number][] = [];
  const byBudget: Record<string, number> = {};
  for (const budget of budgets) {
    if (budget.windowSeconds === null || budget.unsupported) continue;
    const slices = reading.slicesOf(budget);
    if (slices.length === 0) continue;
    const end = Math.max(...slices.map((s) => s.t + s.span));
    const spans: [number, number][] = [];
    // Each window read as observeWindows reads it (one sliding state), judged by windowBreached: a
    // simulated latency window from its mixture CDF at the limit, anything else observed.
    const windows = reading.windows(budget);
    for (let i = 0; i < windows.list.length; i++)
      if (windows.judgement(i) === 'breached') {
        const win = windows.list[i]!;
        spans.push([win.from, Math.min(win.to, end)]);
      }
    const minutes = unionLength(spans) / 60;
    if (minutes > 0) byBudget[budget.name] = round(minutes);
    all.push(...spans);
  }
  return { total: round(unionLength(all) / 60), byBudget };
}

/**
 * A run's windows as the judge reads them, each budget's judged once whoever asks (the gate's
 * verdict, which stops at the first breached window, then the breach minutes, which read them all,
 * on a configuration's full run): the slices of `sliceReader`, and per budget its sliding windows
 * judged one after the other as they are first asked for (`windowJudgement`, one sliding state).
 */
export interface RunReading {
  slicesOf: (budget: Budget) => Slice[];
  windows(budget: Budget): {
    list: readonly { from: number; to: number }[];
    /** Window `i`'s judgement (asked for in order: each is judged once, the state slides on). */
    judgement(i: number): Judgement;
  };
}

/** Reads `run`'s windows (see {@link RunReading}). */
export function readWindows(run: RunInput, cache: HistogramCache = createHistogramCache()): RunReading {
  const slicesOf = sliceReader(run, run.records, cache);
  const byBudget = new Map<Budget, ReturnType<RunReading['windows']>>();
  return {
    slicesOf,
    windows(budget) {
      let hit = byBudget.get(budget);
      if (hit) return hit;
      const slices = slicesOf(budget);
      const list = slidingWindows(slices, budget.windowSeconds ?? 0).list;
      const judged: Judgement[] = [];
      const w = createWindowState();
      let lo = 0;
      let hi = 0;
      hit = {
        list,
        judgement(i) {
          while (judged.length <= i) {
            const win = list[judged.length]!;
            while (hi < slices.length && slices[hi]!.t < win.to) applySlice(w, slices[hi++]!, 1);
            while (lo < slices.length && slices[lo]!.t < win.from) applySlice(w, slices[lo++]!, -1);
            judged.push(windowJudgement(budget, w));
          }
          return judged[i]!;
        },
      };
      byBudget.set(budget, hit);
      return hit;
    },
  };
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
 * How a window of a latency percentile budget is judged, decided from the estimates' mixture CDF at
 * the limit in one pass instead of solving the window's quantile: the q-quantile is at most (below)
 * the limit exactly when F(limit) (F(limit−)) reaches q of the weight; a window whose weight rounds
 * to fewer than the minimum samples is thin, as the gate reads it (its samples are the rounded
 * weight). Null when that is too close to call (within 1e-9 of the weight: float rounding could
 * decide it either way), the window has no weight, or it is not one the shortcut covers; the caller
 * then observes the window as the gate does.
 */
function latencyWindowJudgement(budget: Budget, w: WindowState): Judgement | null {
  if (budget.stat.kind !== 'percentile' || (w.hist && w.hist.total > 0)) return null;
  if (budget.op !== '<' && budget.op !== '<=') return null;
  const f = mixtureCdf(w.estimates, budget.limit);
  // An estimate's knots out of order (a few requests: its max below its p99): the gate bisects.
  if (!f) return bisectedJudgement(budget, w);
  if (f.total <= 0) return null;
  if (Math.round(f.total) < budget.minSamples) return 'thin';
  const need = (budget.stat.p / 100) * f.total;
  const have = budget.op === '<' ? f.before : f.at;
  const tol = 1e-9 * f.total;
  if (have > need + tol) return 'holds';
  if (have < need - tol) return 'breached';
  return null;
}

/**
 * A latency percentile window whose estimates the gate cannot sweep (a knot out of order): the gate
 * bisects the mixture's CDF (observe.ts `readEstimates`: 60 halvings of [0, largest max] down to
 * 1e-6 ms) and compares the upper end with the limit. The same bisection, the same sums in the same
 * order, stopped as soon as the limit is outside the bracket: the upper end only falls and the lower
 * end only rises, so the comparison is decided then (to `<`, an upper end at the limit is not).
 */
function bisectedJudgement(budget: Budget, w: WindowState): Judgement | null {
  if (budget.stat.kind !== 'percentile') return null;
  const est: WeightedEstimate[] = [];
  for (const list of w.estimates) for (const e of list) if (e.weight > 0) est.push(e);
  if (est.length === 0) return null;
  let total = 0;
  for (const e of est) total += e.weight;
  if (Math.round(total) < budget.minSamples) return 'thin';
  const q = budget.stat.p / 100;
  const limit = budget.limit;
  const strict = budget.op === '<';
  let lo = 0;
  let hi = Math.max(...est.map((e) => e.estimate.max));
  for (let i = 0; i < 60 && hi - lo > 1e-6; i++) {
    if (hi < limit || (!strict && hi === limit)) return 'holds';
    if (lo >= limit) return 'breached';
    const mid = (lo + hi) / 2;
    let sum = 0;
    for (const e of est) sum += e.weight * estimateCdf(e.estimate, mid);
    if (sum / total >= q) hi = mid;
    else lo = mid;
  }
  return holds(budget.op, hi, limit) ? 'holds' : 'breached';
}

/** How the gate judges one reading of the window: thin (no reading, or too few samples), holds or breached. */
function windowJudgement(budget: Budget, w: WindowState): Judgement {
  const fast = latencyWindowJudgement(budget, w);
  if (fast !== null) return fast;
  const o = observe(budget, w);
  return o.ok ? judgeReading(budget, o.samples, o.value) : 'thin';
}

/** Whether one reading of the window breaches the budget, as the gate would judge it. */
function windowBreached(budget: Budget, w: WindowState): boolean {
  return windowJudgement(budget, w) === 'breached';
}

/**
 * Each budget's slices, built once for the budgets that read the same records the same way (the
 * same metric, scope and warm-up: a channel's p95 and p99 budgets): slices are only read. A budget
 * scoped to one channel (or one journey) is built from that channel's records alone, in their
 * order: the records out of its scope are the ones `buildSlices` skips, so the slices are the same.
 */
function sliceReader(run: RunInput, records: readonly SeriesRecord[], cache: HistogramCache) {
  const built = new Map<string, Slice[]>();
  let byChannel: Map<string, SeriesRecord[]> | null = null;
  let byJourney: Map<string, SeriesRecord[]> | null = null;
  const group = (key: (r: SeriesRecord) => string): Map<string, SeriesRecord[]> => {
    const m = new Map<string, SeriesRecord[]>();
    for (const r of records) {
      const k = key(r);
      let list = m.get(k);
      if (!list) {
        list = [];
        m.set(k, list);
      }
      list.push(r);
    }
    return m;
  };
  const inScope = (budget: Budget): readonly SeriesRecord[] => {
    const { channel, journey, ...rest } = budget.scope;
    if (Object.values(rest).some((v) => v !== undefined)) return records;
    if (channel !== undefined && journey === undefined) {
      byChannel ??= group((r) => r.channel);
      return byChannel.get(channel) ?? [];
    }
    if (journey !== undefined && channel === undefined) {
      byJourney ??= group((r) => r.journey);
      return byJourney.get(journey) ?? [];
    }
    return records;
  };
  return (budget: Budget): Slice[] => {
    const fromT = run.meta.eventStart + budget.warmupSeconds;
    const key = JSON.stringify([budget.metric, budget.scope, fromT]);
    let slices = built.get(key);
    if (!slices) {
      slices = buildSlices(budget, inScope(budget), { timeScale: run.meta.timeScale, fromT, cache });
      built.set(key, slices);
    }
    return slices;
  };
}

/** Whether the whole run has a reading of the budget (the gate gives no verdict without one). */
function hasReading(budget: Budget, whole: WindowState): boolean {
  // A latency percentile has one whenever some interval has requests: no need to solve it.
  return isLatencyPercentile(budget)
    ? (whole.hist !== null && whole.hist.total > 0) ||
        whole.estimates.some((l) => l.some((e) => e.weight > 0))
    : observe(budget, whole).ok;
}

function isLatency(budget: Budget): boolean {
  return budget.metric === 'latency' || budget.metric === 'latency_send';
}

function isLatencyPercentile(budget: Budget): boolean {
  return isLatency(budget) && budget.stat.kind === 'percentile';
}

/** A run the sizing judge reads: its records, or (a sizing trial's) its series as columns. */
export type JudgedInput = RunInput & { columns?: SeriesColumns };

/**
 * How the judge reads a run's series for one budget: its slices (from `since` on when asked) and
 * the judgement of a window over them, from records (`recordSeries`) or from a trial's columns
 * (`columnSeries`): the same slices, the same sums in the same order, the same verdicts.
 */
interface SeriesReader {
  /** The budget's slices, from the records (or intervals) starting at event time `from` on. */
  slices(budget: Budget): Slice[];
  /** Whether the window holding slices [lo, hi) (summed in `w`) breaches the budget. */
  windowBreached(budget: Budget, w: WindowState, slices: readonly Slice[], lo: number, hi: number): boolean;
  /** The window of all `slices` (summed in `whole`), with what a latency reading needs. */
  whole(budget: Budget, whole: WindowState, slices: readonly Slice[]): WindowState;
  /** Whether the whole run (slices summed in `whole`) has a reading of the budget. */
  hasReading(budget: Budget, whole: WindowState, slices: readonly Slice[]): boolean;
}

/** The records' reader: the slices hold every estimate (scenarios/budgets/slices.ts `buildSlices`). */
function recordSeries(run: RunInput, records: readonly SeriesRecord[], cache: HistogramCache): SeriesReader {
  const slicesOf = sliceReader(run, records, cache);
  return {
    slices: slicesOf,
    windowBreached: (budget, w) => windowBreached(budget, w),
    whole: (_budget, whole) => whole,
    hasReading: (budget, whole) => hasReading(budget, whole),
  };
}

/** A slice read from a trial's columns: its interval, its estimates left in the columns. */
interface ColumnSlice extends Slice {
  interval: number;
}

/**
 * The columns' reader (simulation/series-columns.ts): a budget's slices are built from the
 * intervals from `fromInterval` on as `buildSlices` builds them from the records (the records in
 * scope, in order, their counters summed the same way), without their estimates; a latency window is
 * judged from the estimates in the columns, in the order the slices' estimates would be read
 * (`mixtureCdf`'s sums, term for term). What the shortcut leaves to the gate's own reading (a tie
 * at the limit, knots out of order, a statistic other than a percentile) gets the window's
 * estimates built as records would give them, and is read as from records.
 */
function columnSeries(run: RunInput, cols: SeriesColumns, fromInterval: number): SeriesReader {
  const built = new Map<string, { slices: ColumnSlice[]; steps: number[] }>();
  const steps = new WeakMap<readonly Slice[], number[]>();
  const ns = cols.scenarios.length;
  const read = (budget: Budget) => {
    const fromT = run.meta.eventStart + budget.warmupSeconds;
    const key = JSON.stringify([budget.metric, budget.scope, fromT]);
    let hit = built.get(key);
    if (hit) return hit;
    // The slots of every interval in scope, in record order (iteration records first), as
    // buildSlices keeps records: the kind of record the metric reads, every tag of the scope.
    const kind = metricRecordKind[budget.metric];
    const its: number[] = [];
    const sts: number[] = [];
    if (kind !== 'steps')
      cols.scenarios.forEach((tag, i) => {
        if (inScope(tag, budget.scope)) its.push(i);
      });
    if (kind !== 'iterations')
      cols.stepSlots.forEach((tag, i) => {
        if (inScope(tag, budget.scope)) sts.push(i);
      });
    const slices: ColumnSlice[] = [];
    if (its.length + sts.length > 0)
      for (let n = fromInterval; n < cols.intervals; n++) {
        const t = cols.t[n]!;
        if (t < fromT) continue;
        const s: ColumnSlice = {
          t,
          span: cols.dt[n]! * run.meta.timeScale,
          wall: cols.wall[n]!,
          hist: null,
          estimates: [],
          requests: 0,
          failed: 0,
          planned: 0,
          dropped: 0,
          checksPassed: 0,
          checksFailed: 0,
          interval: n,
        };
        // The same terms, added in the same order, as `buildSlices` adds the records' (a field a
        // record lacks adds 0).
        const a = cols.iterations;
        for (const i of its) {
          const at = (n * ns + i) * 5;
          s.requests += 0;
          s.failed += 0;
          s.planned += a[at]!;
          s.dropped += a[at + 3]!;
          s.checksPassed += 0;
          s.checksFailed += 0;
        }
        const b = cols.steps;
        for (const i of sts) {
          const at = cols.stepAt(n, i);
          s.requests += b[at]!;
          s.failed += b[at + 1]!;
          s.planned += 0 + 0;
          s.dropped += 0;
          s.checksPassed += 0;
          s.checksFailed += 0;
        }
        slices.push(s);
      }
    hit = { slices, steps: isLatency(budget) ? sts : [] };
    steps.set(slices, hit.steps);
    built.set(key, hit);
    return hit;
  };
  /** The estimates the slices [lo, hi) would hold, as records give them (a list per slice). */
  const estimatesOf = (slices: readonly Slice[], lo: number, hi: number): WeightedEstimate[][] => {
    const sts = steps.get(slices) ?? [];
    const out: WeightedEstimate[][] = [];
    for (let k = lo; k < hi; k++) {
      const n = (slices[k] as ColumnSlice).interval;
      const list: WeightedEstimate[] = [];
      for (const i of sts) {
        const r = cols.recordAt(n * cols.perInterval + ns + i);
        list.push({ estimate: r.latencyEstimate!, weight: r.requests ?? 1 });
      }
      if (list.length > 0) out.push(list);
    }
    return out;
  };
  const withEstimates = (w: WindowState, slices: readonly Slice[], lo: number, hi: number): WindowState => ({
    ...w,
    estimates: estimatesOf(slices, lo, hi),
  });
  return {
    slices: (budget) => read(budget).slices,
    windowBreached: (budget, w, slices, lo, hi) => {
      let fast = columnLatencyJudgement(budget, cols, steps.get(slices) ?? [], slices, lo, hi);
      if (fast === 'bisect') fast = bisectedJudgement(budget, withEstimates(w, slices, lo, hi));
      if (fast !== null) return fast === 'breached';
      // Not decided by the shortcut: the window as records give it, observed as the gate does.
      const o = observe(budget, isLatency(budget) ? withEstimates(w, slices, lo, hi) : w);
      return (o.ok ? judgeReading(budget, o.samples, o.value) : 'thin') === 'breached';
    },
    whole: (budget, whole, slices) =>
      isLatency(budget) ? withEstimates(whole, slices, 0, slices.length) : whole,
    hasReading: (budget, whole, slices) => {
      if (!isLatencyPercentile(budget))
        return hasReading(budget, isLatency(budget) ? withEstimates(whole, slices, 0, slices.length) : whole);
      const sts = steps.get(slices) ?? [];
      for (const sl of slices) {
        const n = (sl as ColumnSlice).interval;
        for (const i of sts) if (cols.steps[cols.stepAt(n, i)]! > 0) return true;
      }
      return false;
    },
  };
}

/** The percentiles' knots of an estimate, as `mixtureCdf` reads them (the columns' p50 … max). */
const KNOT_QUANTILES = [0.5, 0.9, 0.95, 0.99, 1] as const;

/**
 * {@link latencyWindowJudgement} of the window of column slices [lo, hi): the mixture's CDF at the
 * limit summed from the columns exactly as `mixtureCdf` sums the window's estimates (each slice's
 * records in scope in order, the same terms); `bisect` where `mixtureCdf` would decline (an
 * estimate's knots out of order).
 */
function columnLatencyJudgement(
  budget: Budget,
  cols: SeriesColumns,
  sts: readonly number[],
  slices: readonly Slice[],
  lo: number,
  hi: number,
): Judgement | 'bisect' | null {
  if (budget.stat.kind !== 'percentile') return null;
  if (budget.op !== '<' && budget.op !== '<=') return null;
  const v = budget.limit;
  const c = cols.steps;
  let at = 0;
  let before = 0;
  let total = 0;
  for (let k = lo; k < hi; k++) {
    const n = (slices[k] as ColumnSlice).interval;
    for (const i of sts) {
      const base = cols.stepAt(n, i);
      const w = c[base]!;
      if (!(w > 0)) continue;
      total += w;
      let prevV = 0;
      let prevQ = 0;
      let a = -1;
      let b = -1;
      for (let q = 0; q < 5; q++) {
        const x = c[base + 5 + q]!;
        const kq = KNOT_QUANTILES[q]!;
        if (!(x >= prevV)) return 'bisect';
        if (b < 0 && v <= x) b = x === prevV ? prevQ : prevQ + ((kq - prevQ) * (v - prevV)) / (x - prevV);
        if (a < 0 && v < x) a = prevQ + ((kq - prevQ) * (v - prevV)) / (x - prevV);
        prevV = x;
        prevQ = kq;
      }
      at += w * (a < 0 ? 1 : a);
      before += w * (b < 0 ? 1 : b);
    }
  }
  if (total <= 0) return null;
  if (Math.round(total) < budget.minSamples) return 'thin';
  const need = (budget.stat.p / 100) * total;
  const have = budget.op === '<' ? before : at;
  const tol = 1e-9 * total;
  if (have > need + tol) return 'holds';
  if (have < need - tol) return 'breached';
  return null;
}

/** The reader of `run`'s series from event time `from` on (all of it when undefined). */
function seriesFrom(run: JudgedInput, cache: HistogramCache, from?: number): SeriesReader {
  const cols = run.columns;
  if (cols && run.records.length === 0) {
    let n = cols.intervals;
    // The intervals from `from` on, found from the end (see `tailFrom`).
    if (from !== undefined) while (n > 0 && cols.t[n - 1]! >= from) n--;
    return columnSeries(run, cols, from === undefined || n === 0 ? 0 : n);
  }
  return recordSeries(run, from === undefined ? run.records : tailFrom(run.records, from), cache);
}

/** `run` with its records (built from its columns when it has only those: the gate reads records). */
function withRecords(run: JudgedInput): RunInput {
  return run.columns && run.records.length === 0 ? { ...run, records: run.columns.toRecords() } : run;
}

/**
 * Whether the gate would fail `run` on `budgets` (its verdict is `fail`), stopping at the first
 * breach: what a sizing trial needs, at a fraction of a full evaluation. Exactly the gate's rule for a
 * simulated run — a windowed budget fails when a window with enough samples breaches and the whole
 * run has a reading, a whole-run budget when the run's reading breaches with enough samples — with a
 * latency window decided from its mixture CDF at the limit (ties are observed as the gate does).
 * Budgets it does not cover (live runs, k6 and timeline metrics) are evaluated by the gate. Pure.
 * A sizing trial's series may come as columns (`run.columns`, simulation/series-columns.ts): read
 * as they are, with the same verdict.
 *
 * `since`: the run's prefix up to that event time has been read by {@link computePrefixFails} (each
 * check after the first with the last one's time as its `since`) and did not fail; only the windows
 * that end after it are read (a breached window implies the run has a reading, so none is needed).
 */
export function computeAnyBudgetFails(
  budgets: readonly Budget[],
  run: JudgedInput,
  cache: HistogramCache = createHistogramCache(),
  since?: number,
): boolean {
  // Cheap readings first: any failing budget decides.
  const order = [...budgets].sort(
    (a, b) => Number(a.metric.startsWith('latency')) - Number(b.metric.startsWith('latency')),
  );
  const all = seriesFrom(run, cache);
  const longest = Math.max(0, ...budgets.map((b) => b.windowSeconds ?? 0));
  const recent = since === undefined ? null : seriesFrom(run, cache, since - longest);
  let gateRun: RunInput | null = null;
  for (const budget of order) {
    if (run.meta.mode !== 'simulated' || !FAST_METRICS.has(budget.metric) || budget.unsupported) {
      gateRun ??= withRecords(run);
      if (evaluateBudget(budget, gateRun, cache).verdict === 'fail') return true;
      continue;
    }
    if (budget.windowSeconds !== null && recent) {
      // The windows that end after `since` (as computePrefixFails reads them).
      const slices = recent.slices(budget);
      const windows = slidingWindows(slices, budget.windowSeconds);
      if (slices.length > 0 && !windows.shorterThanRun) {
        if (anyWindowBreached(budget, slices, windows.list, recent)) return true;
        continue;
      }
    }
    const slices = all.slices(budget);
    if (slices.length === 0) continue;
    const sums = createWindowState();
    for (const sl of slices) applySlice(sums, sl, 1);
    if (budget.windowSeconds === null) {
      const o = observe(budget, all.whole(budget, sums, slices));
      if (o.ok && o.samples >= budget.minSamples && !holds(budget.op, o.value, budget.limit)) return true;
      continue;
    }
    // The gate reads the whole run first and gives no verdict when it has no reading.
    if (!all.hasReading(budget, sums, slices)) continue;
    if (anyWindowBreached(budget, slices, slidingWindows(slices, budget.windowSeconds).list, all))
      return true;
  }
  return false;
}

/**
 * The records from event time `t` on. A simulated series is written in time order (one interval's
 * records after the other's), so they are its tail: found from the end, without reading the rest
 * (a long trial's checks every half hour would otherwise each read its whole series).
 */
function tailFrom(records: readonly SeriesRecord[], t: number): readonly SeriesRecord[] {
  let from = records.length;
  while (from > 0 && records[from - 1]!.t >= t) from--;
  return from === 0 ? records : records.slice(from);
}

/** Whether any of the windows (sliding over the slices, as the gate reads them) breaches. */
function anyWindowBreached(
  budget: Budget,
  slices: readonly Slice[],
  windows: readonly { from: number; to: number }[],
  series: SeriesReader,
): boolean {
  const w = createWindowState();
  let lo = 0;
  let hi = 0;
  for (const win of windows) {
    while (hi < slices.length && slices[hi]!.t < win.to) applySlice(w, slices[hi++]!, 1);
    while (lo < slices.length && slices[lo]!.t < win.from) applySlice(w, slices[lo++]!, -1);
    if (series.windowBreached(budget, w, slices, lo, hi)) return true;
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
 * sizing trial stop early (simulation/sizing/compare.ts). Pure. Its series may come as columns.
 */
export function computePrefixFails(
  budgets: readonly Budget[],
  run: JudgedInput,
  cache: HistogramCache = createHistogramCache(),
  since?: number,
): boolean {
  // With `since`, only the windows that end after it (those starting at `since` − window or later)
  // are read: the others lie wholly inside the prefix up to `since`, already read. A simulated
  // series has a record of every (scenario, step) in every interval, in time order, so every
  // budget's slices end where the prefix ends, and that prefix's windows are exactly those.
  const longest = Math.max(0, ...budgets.map((b) => b.windowSeconds ?? 0));
  const series = seriesFrom(run, cache, since === undefined ? undefined : since - longest);
  for (const budget of budgets) {
    if (run.meta.mode !== 'simulated' || !FAST_METRICS.has(budget.metric) || budget.unsupported) continue;
    if (budget.windowSeconds === null) continue;
    const slices = series.slices(budget);
    if (slices.length === 0) continue;
    const windows = slidingWindows(slices, budget.windowSeconds);
    // A prefix shorter than one window gets one partial window: no window of the whole run.
    if (windows.shorterThanRun) continue;
    if (anyWindowBreached(budget, slices, windows.list, series)) return true;
  }
  return false;
}

/**
 * The gate's verdict on a run, per budget and overall, without its readings (no window's quantile
 * solved, no worst window, no reasons): what the sizing search and the 2×2 read of a chosen
 * configuration's full run. The same verdicts as `evaluateBudgets` (reports/budgets/evaluate.ts):
 * a windowed budget of a simulated run fails at its first breached window, is inconclusive when the
 * whole run has no reading or no window has enough samples, else passes (inconclusive when the run
 * is invalid or did not complete); each window judged as {@link computeAnyBudgetFails} judges it.
 * Whole-run budgets and budgets it does not cover are evaluated by the gate. Pure. A series kept as
 * columns is read as its records.
 */
export function computeGateVerdicts(
  budgets: readonly Budget[],
  judged: JudgedInput,
  cache: HistogramCache = createHistogramCache(),
  reading?: RunReading,
): SizingVerdict {
  const run = withRecords(judged);
  const windows = reading ?? readWindows(run, cache);
  const results = budgets.map((budget) => ({
    verdict: budgetVerdict(budget, run, windows, cache),
    budget: { name: budget.name },
  }));
  const counts: Record<Verdict, number> = { pass: 0, fail: 0, inconclusive: 0 };
  for (const r of results) counts[r.verdict]++;
  const verdict: Verdict =
    counts.fail > 0 ? 'fail' : counts.inconclusive > 0 || results.length === 0 ? 'inconclusive' : 'pass';
  return { verdict, counts, results };
}

/** One budget's verdict as `evaluateBudget` gives it (see {@link computeGateVerdicts}). */
function budgetVerdict(budget: Budget, run: RunInput, reading: RunReading, cache: HistogramCache): Verdict {
  if (
    run.meta.mode !== 'simulated' ||
    !FAST_METRICS.has(budget.metric) ||
    budget.unsupported ||
    budget.windowSeconds === null
  )
    return evaluateBudget(budget, run, cache).verdict;
  const slices = reading.slicesOf(budget);
  if (slices.length === 0) return 'inconclusive';
  const whole = createWindowState();
  for (const sl of slices) applySlice(whole, sl, 1);
  if (!hasReading(budget, whole)) return 'inconclusive';
  const windows = reading.windows(budget);
  let evaluated = 0;
  for (let i = 0; i < windows.list.length; i++) {
    const j = windows.judgement(i);
    if (j === 'breached') return 'fail';
    if (j === 'holds') evaluated++;
  }
  if (evaluated === 0) return 'inconclusive';
  // A run that is invalid or did not play its whole plan cannot pass (evaluate.ts `applyValidity`).
  const end = run.meta.endReason;
  return run.meta.valid && (end === undefined || end === 'completed') ? 'pass' : 'inconclusive';
}

/**
 * The sizing search's judge (simulation/sizing/compare.ts) for `budgets`: the gate's own verdict and
 * these breach minutes, so `compare` judges a simulated configuration exactly as `peakday gate` would;
 * `fails` is the gate's "fail" verdict alone, stopping at the first breach (the search's trials).
 */
export function budgetsJudge(budgets: readonly Budget[]): BudgetsJudge {
  // A full run's windows are judged once for its verdict and its breach minutes (RunReading): by
  // its records, for the same start, warm-up and time scale.
  const readings = new WeakMap<readonly SeriesRecord[], { key: string; reading: RunReading }>();
  const readingOf = (run: JudgedInput): RunReading | undefined => {
    if (run.records.length === 0) return undefined;
    const key = `${run.meta.mode}|${run.meta.eventStart}|${run.meta.timeScale}`;
    const hit = readings.get(run.records);
    if (hit && hit.key === key) return hit.reading;
    const reading = readWindows(run);
    readings.set(run.records, { key, reading });
    return reading;
  };
  return {
    evaluate: (run) => computeGateVerdicts(budgets, run, undefined, readingOf(run)),
    breachMinutes: (run) => {
      const reading = readingOf(run);
      return (
        reading ? computeBreachMinutes(budgets, run, undefined, reading) : computeBreachMinutes(budgets, run)
      ).total;
    },
    fails: (run, since) => computeAnyBudgetFails(budgets, run, createHistogramCache(), since),
    failsEarly: (run, since) => computePrefixFails(budgets, run, createHistogramCache(), since),
  };
}
