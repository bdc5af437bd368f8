/**
 * Turns a run's series records into what one budget needs: one `Slice` per record interval (event
 * time `t`), holding the latency histograms of every tag set in the budget's scope (sparse, see
 * sparse-histogram.ts) and the summed counters. Windows are then built by adding and subtracting
 * slices (`WindowState`), so a sliding window over a long run costs one add and one subtract of the
 * non-empty buckets per step, never a re-merge; sums are exact.
 */
import type { SeriesRecord } from '../../core/run-format.ts';
import type { Budget, BudgetMetric, BudgetScope } from './budget.ts';
import {
  addSparse,
  concatSparse,
  createDense,
  type DenseCounts,
  decodeSparse,
  type SparseHistogram,
} from './sparse-histogram.ts';

/** A simulated interval's latency estimate (ms) and how many requests it stands for. */
export interface WeightedEstimate {
  estimate: NonNullable<SeriesRecord['latencyEstimate']>;
  weight: number;
}

/** Everything in one record interval, within one budget's scope. */
export interface Slice {
  /** Event time at the start (s). */
  t: number;
  /** Event seconds the interval covers (dt x time scale). */
  span: number;
  wall: number;
  hist: SparseHistogram | null;
  estimates: WeightedEstimate[];
  requests: number;
  failed: number;
  planned: number;
  dropped: number;
  checksPassed: number;
  checksFailed: number;
}

/** Whether a metric reads step records (requests), iteration records (`step: null`) or both. */
export const metricRecordKind = {
  latency: 'steps',
  latency_send: 'steps',
  error_rate: 'steps',
  // k6 checks without a step tag are counted on iteration records: a check budget reads both.
  check_pass_rate: 'all',
  dropped_rate: 'iterations',
  dropped_count: 'iterations',
  k6_metric: 'steps',
  timeline: 'steps',
  unsupported: 'steps',
} as const satisfies Record<BudgetMetric, 'steps' | 'iterations' | 'all'>;

/** Decodes each distinct encoded histogram once, however many budgets read it. */
export interface HistogramCache {
  decode(encoded: string): SparseHistogram;
}

/** A cache for one evaluation (histograms of one run). */
export function createHistogramCache(): HistogramCache {
  const cache = new Map<string, SparseHistogram>();
  return {
    decode(encoded) {
      let h = cache.get(encoded);
      if (!h) {
        h = decodeSparse(encoded);
        cache.set(encoded, h);
      }
      return h;
    },
  };
}

/** Whether a record belongs to the scope (every given tag matches). */
export function inScope(
  r: Pick<SeriesRecord, 'channel' | 'journey' | 'step' | 'scenario' | 'group'>,
  scope: BudgetScope,
): boolean {
  return (
    (scope.channel === undefined || r.channel === scope.channel) &&
    (scope.journey === undefined || r.journey === scope.journey) &&
    (scope.step === undefined || r.step === scope.step) &&
    (scope.scenario === undefined || r.scenario === scope.scenario) &&
    (scope.group === undefined || r.group === scope.group)
  );
}

/**
 * Groups the records a budget reads into slices by event time, skipping records before
 * `fromT` (the end of the warm-up). Slices come back sorted by `t`.
 */
export function buildSlices(
  budget: Pick<Budget, 'metric' | 'scope'>,
  records: readonly SeriesRecord[],
  opts: { timeScale: number; fromT: number; cache: HistogramCache },
): Slice[] {
  const kind = metricRecordKind[budget.metric];
  const field =
    budget.metric === 'latency' ? 'latency' : budget.metric === 'latency_send' ? 'latencySend' : null;
  const byT = new Map<number, Slice>();
  const hists = new Map<Slice, SparseHistogram[]>();
  for (const r of records) {
    if (kind !== 'all' && (kind === 'steps') !== (r.step !== null)) continue;
    if (r.t < opts.fromT || !inScope(r, budget.scope)) continue;
    let s = byT.get(r.t);
    if (!s) {
      s = {
        t: r.t,
        span: r.dt * opts.timeScale,
        wall: r.wall,
        hist: null,
        estimates: [],
        requests: 0,
        failed: 0,
        planned: 0,
        dropped: 0,
        checksPassed: 0,
        checksFailed: 0,
      };
      byT.set(r.t, s);
    }
    s.span = Math.max(s.span, r.dt * opts.timeScale);
    s.requests += r.requests ?? 0;
    s.failed += r.failed ?? 0;
    s.planned += r.planned ?? (r.started ?? 0) + (r.dropped ?? 0);
    s.dropped += r.dropped ?? 0;
    s.checksPassed += r.checks?.passed ?? 0;
    s.checksFailed += r.checks?.failed ?? 0;
    const encoded = field ? r[field] : undefined;
    if (encoded) {
      const list = hists.get(s) ?? [];
      list.push(opts.cache.decode(encoded));
      hists.set(s, list);
    } else if (field && r.latencyEstimate) {
      s.estimates.push({ estimate: r.latencyEstimate, weight: r.requests ?? 1 });
    }
  }
  for (const [s, list] of hists) s.hist = concatSparse(list);
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

/** The running sum of the slices in a window. */
export interface WindowState {
  hist: DenseCounts | null;
  estimates: WeightedEstimate[][];
  requests: number;
  failed: number;
  planned: number;
  dropped: number;
  checksPassed: number;
  checksFailed: number;
  slices: number;
}

/** An empty window. */
export function createWindowState(): WindowState {
  return {
    hist: null,
    estimates: [],
    requests: 0,
    failed: 0,
    planned: 0,
    dropped: 0,
    checksPassed: 0,
    checksFailed: 0,
    slices: 0,
  };
}

/** Adds a slice to the window (sign 1) or takes it out (sign -1); histograms merge exactly. */
export function applySlice(w: WindowState, s: Slice, sign: 1 | -1): void {
  w.requests += sign * s.requests;
  w.failed += sign * s.failed;
  w.planned += sign * s.planned;
  w.dropped += sign * s.dropped;
  w.checksPassed += sign * s.checksPassed;
  w.checksFailed += sign * s.checksFailed;
  w.slices += sign;
  if (s.hist) {
    w.hist ??= createDense();
    addSparse(w.hist, s.hist, sign);
  }
  if (s.estimates.length > 0) {
    if (sign === 1) w.estimates.push(s.estimates);
    else {
      const i = w.estimates.indexOf(s.estimates);
      if (i >= 0) w.estimates.splice(i, 1);
    }
  }
}
