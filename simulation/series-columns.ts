/**
 * A simulated run's series held as columns instead of records (`SimulateOptions.seriesColumns`):
 * `compare`'s coarser sizing trials, never written or reported, are read only by the budgets'
 * judge (reports/rehearsal/compare-breaches.ts reads the columns as they are). A 48-hour trial's
 * 92,160 records were about 20 objects each (the record, its status, errors and latency estimate,
 * and a heap number for every fractional figure), kept until the trial ended: a seventh of a trial's
 * time went into building them, and more into the young generation's copying them as they survived.
 *
 * The layout is the series' own (simulate-series.ts `flushBucket`): every interval holds one
 * iteration record per scenario, then one step record per (scenario, step), in the plan's order;
 * record `i` of the run is slot `i mod (scenarios + steps)` of interval `⌊i / (scenarios + steps)⌋`.
 * {@link SeriesColumns.recordAt} builds the very record the series would hold there.
 */
import type { SeriesRecord } from '../core/run-format.ts';

/** What a record slot of every interval is: its tags, and whether it is an iteration record. */
export interface SeriesSlot {
  channel: string;
  journey: string;
  /** Null: the iteration record of a scenario. */
  step: string | null;
}

/** Figures of an iteration record, in this order per record. */
const ITERATION_FIELDS = 5;
/** Figures of a step record, in this order per record (see {@link SeriesColumns.setStep}). */
const STEP_FIELDS = 11;

/** A run's column buffers, given back (`SeriesColumns.release`) for the next run's on this thread. */
interface Buffers {
  t: Float64Array;
  wall: Float64Array;
  dt: Float64Array;
  iterations: Float64Array;
  steps: Float64Array;
}

/**
 * Buffers released on this thread (a module's state is per thread): a sizing search runs trial after
 * trial, each with 7 MB of columns at event scale, which new buffers got from the system zeroed and
 * faulted in page by page every time. A reused buffer holds the last run's figures: a run writes
 * every slot of an interval before anything reads it.
 */
const spare: Buffers[] = [];

/** The series as columns (see the module comment). Appended interval by interval. */
export class SeriesColumns {
  /** Intervals held. */
  intervals = 0;
  /** Per interval: its start (event s), its wall start and wall length (s). */
  t: Float64Array;
  wall: Float64Array;
  dt: Float64Array;
  /** Per interval × scenario: planned, started, completed, dropped, failedIterations. */
  iterations: Float64Array;
  /** Per interval × step: requests, failed, 2xx, 5xx, timeouts, p50, p90, p95, p99, max, mean. */
  steps: Float64Array;
  /** Records per interval. */
  readonly perInterval: number;

  constructor(
    /** The iteration records' slots (one per scenario, in order). */
    readonly scenarios: readonly SeriesSlot[],
    /** The step records' slots (one per (scenario, step), in order). */
    readonly stepSlots: readonly SeriesSlot[],
    capacity = 64,
  ) {
    this.perInterval = scenarios.length + stepSlots.length;
    const its = capacity * scenarios.length * ITERATION_FIELDS;
    const sts = capacity * stepSlots.length * STEP_FIELDS;
    // Spare buffers of exactly these sizes (the same plan's trials), else new ones.
    const at = spare.findIndex(
      (b) => b.t.length === capacity && b.iterations.length === its && b.steps.length === sts,
    );
    const b = at >= 0 ? spare.splice(at, 1)[0]! : undefined;
    this.t = b?.t ?? new Float64Array(capacity);
    this.wall = b?.wall ?? new Float64Array(capacity);
    this.dt = b?.dt ?? new Float64Array(capacity);
    this.iterations = b?.iterations ?? new Float64Array(its);
    this.steps = b?.steps ?? new Float64Array(sts);
  }

  /**
   * Gives the buffers back for the next run's columns on this thread (see `spare`): once the series
   * has been read for good. It then holds no interval (and reads as an empty series).
   */
  release(): void {
    if (this.t.length > 0 && spare.length < 4)
      spare.push({ t: this.t, wall: this.wall, dt: this.dt, iterations: this.iterations, steps: this.steps });
    this.intervals = 0;
    this.t = new Float64Array(0);
    this.wall = this.t;
    this.dt = this.t;
    this.iterations = this.t;
    this.steps = this.t;
  }

  /** Records held (as the series' length). */
  get length(): number {
    return this.intervals * this.perInterval;
  }

  /** Starts the next interval; returns its index. */
  beginInterval(t: number, wall: number, dt: number): number {
    const n = this.intervals;
    if (n === this.t.length) this.grow();
    this.t[n] = t;
    this.wall[n] = wall;
    this.dt[n] = dt;
    this.intervals = n + 1;
    return n;
  }

  /** An iteration record's figures (already rounded as the record holds them). */
  setIteration(
    interval: number,
    scenario: number,
    planned: number,
    started: number,
    completed: number,
    dropped: number,
    failedIterations: number,
  ): void {
    const at = (interval * this.scenarios.length + scenario) * ITERATION_FIELDS;
    const a = this.iterations;
    a[at] = planned;
    a[at + 1] = started;
    a[at + 2] = completed;
    a[at + 3] = dropped;
    a[at + 4] = failedIterations;
  }

  /** Where step record `step` of `interval` starts in {@link steps}. */
  stepAt(interval: number, step: number): number {
    return (interval * this.stepSlots.length + step) * STEP_FIELDS;
  }

  /** A step record's figures (already rounded as the record holds them). */
  setStep(
    interval: number,
    step: number,
    requests: number,
    failed: number,
    ok: number,
    rejected: number,
    timeouts: number,
    p: { p50: number; p90: number; p95: number; p99: number; max: number; mean: number },
  ): void {
    const at = this.stepAt(interval, step);
    const a = this.steps;
    a[at] = requests;
    a[at + 1] = failed;
    a[at + 2] = ok;
    a[at + 3] = rejected;
    a[at + 4] = timeouts;
    a[at + 5] = p.p50;
    a[at + 6] = p.p90;
    a[at + 7] = p.p95;
    a[at + 8] = p.p99;
    a[at + 9] = p.max;
    a[at + 10] = p.mean;
  }

  /** Record `i` of the series, as the series itself would hold it (the same keys, in the same order). */
  recordAt(i: number): SeriesRecord {
    const interval = Math.floor(i / this.perInterval);
    const slot = i - interval * this.perInterval;
    const t = this.t[interval]!;
    const wall = this.wall[interval]!;
    const dt = this.dt[interval]!;
    const ns = this.scenarios.length;
    if (slot < ns) {
      const tag = this.scenarios[slot]!;
      const a = this.iterations;
      const at = (interval * ns + slot) * ITERATION_FIELDS;
      return {
        t,
        wall,
        dt,
        channel: tag.channel,
        journey: tag.journey,
        step: null,
        planned: a[at]!,
        started: a[at + 1]!,
        completed: a[at + 2]!,
        dropped: a[at + 3]!,
        failedIterations: a[at + 4]!,
      };
    }
    const tag = this.stepSlots[slot - ns]!;
    const a = this.steps;
    const at = this.stepAt(interval, slot - ns);
    return {
      t,
      wall,
      dt,
      channel: tag.channel,
      journey: tag.journey,
      step: tag.step,
      requests: a[at]!,
      failed: a[at + 1]!,
      status: { '2xx': a[at + 2]!, '3xx': 0, '4xx': 0, '5xx': a[at + 3]! },
      errors: { timeout: a[at + 4]!, refused: 0, reset: 0, check: 0, other: 0 },
      latencyEstimate: {
        p50: a[at + 5]!,
        p90: a[at + 6]!,
        p95: a[at + 7]!,
        p99: a[at + 8]!,
        max: a[at + 9]!,
        mean: a[at + 10]!,
      },
    };
  }

  /** The records from `from` on (all of them by default), built ({@link recordAt}). */
  toRecords(from = 0): SeriesRecord[] {
    const out: SeriesRecord[] = [];
    for (let i = from; i < this.length; i++) out.push(this.recordAt(i));
    return out;
  }

  private grow(): void {
    const cap = Math.max(64, this.t.length * 2);
    const widen = (a: Float64Array, n: number) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.t = widen(this.t, cap);
    this.wall = widen(this.wall, cap);
    this.dt = widen(this.dt, cap);
    this.iterations = widen(this.iterations, cap * this.scenarios.length * ITERATION_FIELDS);
    this.steps = widen(this.steps, cap * this.stepSlots.length * STEP_FIELDS);
  }
}
