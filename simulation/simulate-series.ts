/**
 * The end of a series interval (60 s for events up to 6 h, coarser beyond; `seriesResolution`): one
 * iteration record per scenario and one step record per (scenario, step), in the run directory's
 * series format, and the interval's latency components kept for the run's exact percentiles. Reads
 * and updates the SimState it is given (simulation/simulate-state.ts).
 */
import { emptyPercentiles, percentilesOfParts, round2 } from './client-latency.ts';
import type { MixtureComponent } from './queueing.ts';
import { SeriesColumns } from './series-columns.ts';
import type { Flat, SimState } from './simulate-state.ts';

/** A run's series as columns, when its options ask for them (`seriesColumns`; created at its first interval). */
const columnsByRun = new WeakMap<SimState, SeriesColumns>();

/** The run's series columns (`SimulateOptions.seriesColumns`), or undefined when it keeps records. */
export function seriesColumnsOf(st: SimState): SeriesColumns | undefined {
  if (st.options.seriesColumns !== true) return undefined;
  let c = columnsByRun.get(st);
  if (!c) {
    // Sized for the whole run at once (growing them copied a 48-h trial's columns five times).
    const { nSteps, dtE, resolution } = st.inputs;
    c = new SeriesColumns(
      st.plan.scenarios.map((ps) => ({ channel: ps.channel, journey: ps.journey, step: null })),
      st.flats.map((f) => ({ channel: f.d.channel, journey: f.d.journey, step: f.d.step })),
      Math.ceil((nSteps * dtE) / resolution) + 1,
    );
    columnsByRun.set(st, c);
  }
  return c;
}

/**
 * One interval's latency components (at most four: served, served after a wait, rejected, edge
 * hits) in flat arrays, reused from interval to interval: the percentiles of every (scenario, step)
 * of every interval read them without allocating (client-latency.ts `percentilesOfParts`).
 */
const parts = { shift: new Float64Array(4), tail: new Float64Array(4), weight: new Float64Array(4) };
const pctScratch = emptyPercentiles();

/** Sets component `n` of `parts`; returns the count. */
function part(n: number, shift: number, tail: number, weight: number): number {
  parts.shift[n] = shift;
  parts.tail[n] = tail;
  parts.weight[n] = weight;
  return n + 1;
}

/** Closes the series interval ending at event time `end`. */
export function flushBucket(st: SimState, end: number): void {
  const cols = seriesColumnsOf(st);
  if (cols) {
    const { k, t0 } = st.inputs;
    cols.beginInterval(st.bucketStart, (st.bucketStart - t0) / k, (end - st.bucketStart) / k);
  }
  flushIterations(st, end, cols);
  for (let j = 0; j < st.flats.length; j++) flushStep(st, st.flats[j]!, end, cols, j);
  st.bucketStart = end;
}

/**
 * One iteration record per scenario: planned, started, completed, dropped, failed (into `cols`,
 * the interval just begun there, when the run keeps its series as columns).
 */
export function flushIterations(st: SimState, end: number, cols?: SeriesColumns): void {
  const { k, t0 } = st.inputs;
  const dtB = (end - st.bucketStart) / k;
  for (let s = 0; s < st.plan.scenarios.length; s++) {
    const ps = st.plan.scenarios[s]!;
    const ib = st.iterBuckets[s]!;
    const started = ib.started;
    const failedIt = ib.failSum;
    const dropped = st.droppedInBucket[s]!;
    if (cols)
      cols.setIteration(
        cols.intervals - 1,
        s,
        round2(started + dropped),
        round2(started),
        round2(started - failedIt),
        round2(dropped),
        round2(failedIt),
      );
    else
      st.series.push({
        t: st.bucketStart,
        wall: (st.bucketStart - t0) / k,
        dt: dtB,
        channel: ps.channel,
        journey: ps.journey,
        step: null,
        planned: round2(started + dropped),
        started: round2(started),
        completed: round2(started - failedIt),
        dropped: round2(dropped),
        failedIterations: round2(failedIt),
      });
    st.totals.iterations += started;
    st.totals.dropped += dropped;
    st.droppedInBucket[s] = 0;
    st.totals.failedIterations += failedIt;
    ib.started = 0;
    ib.failSum = 0;
  }
}

/**
 * One step record for a (scenario, step): requests, failures by kind, and the interval's latency,
 * its components moment-matched (served requests) plus the rejected ones that returned at once
 * (into `cols`, as step `slot` of the interval just begun there, when the run keeps its series as
 * columns).
 */
export function flushStep(st: SimState, f: Flat, end: number, cols?: SeriesColumns, slot = 0): void {
  const { k, t0, timeoutMs } = st.inputs;
  const b = f.bucket;
  const req = b.requests;
  const { shift, tail, weight } = parts;
  let n = 0;
  if (b.served > 0) n = part(n, b.wShift / b.served, b.wTail / b.served, b.served);
  // Those that waited at some visit (simulation/path-latency.ts `pathLatencySplit`): their own component.
  if (b.servedWaited > 0)
    n = part(n, b.wShiftWaited / b.servedWaited, b.wTailWaited / b.servedWaited, b.servedWaited);
  if (b.rejected > 0) n = part(n, b.wRejected / b.rejected, 0, b.rejected);
  // A cached page's edge hits: answered at the edge, one network hop.
  if (b.hits > 0) n = part(n, st.inputs.hopMs, 0, b.hits);
  // As objects only for what keeps them: the summary's percentiles and the result's components.
  const keepSummary = st.options.summaryLatency !== false;
  const keepIntervals = n > 0 && st.options.latencyComponents !== false;
  if (keepSummary || keepIntervals) {
    const comps: MixtureComponent[] = [];
    for (let j = 0; j < n; j++) comps.push({ shift: shift[j]!, tail: tail[j]!, weight: weight[j]! });
    if (keepSummary) for (const c of comps) st.stepComponents.get(f)!.push(c);
    if (keepIntervals)
      st.intervalLatency.push({
        t: st.bucketStart,
        channel: f.d.channel,
        journey: f.d.journey,
        step: f.d.step,
        components: comps,
      });
  }
  const pct =
    req > 0 ? percentilesOfParts(shift, tail, weight, n, timeoutMs, pctScratch) : emptyPercentiles();
  if (cols)
    cols.setStep(
      cols.intervals - 1,
      slot,
      round2(req),
      round2(b.failed),
      round2(req - b.failed),
      round2(b.failed - b.timeouts),
      round2(b.timeouts),
      pct,
    );
  else
    st.series.push({
      t: st.bucketStart,
      wall: (st.bucketStart - t0) / k,
      dt: (end - st.bucketStart) / k,
      channel: f.d.channel,
      journey: f.d.journey,
      step: f.d.step,
      requests: round2(req),
      failed: round2(b.failed),
      status: { '2xx': round2(req - b.failed), '3xx': 0, '4xx': 0, '5xx': round2(b.failed - b.timeouts) },
      errors: { timeout: round2(b.timeouts), refused: 0, reset: 0, check: 0, other: 0 },
      latencyEstimate: {
        p50: pct.p50,
        p90: pct.p90,
        p95: pct.p95,
        p99: pct.p99,
        max: pct.max,
        mean: pct.mean,
      },
    });
  st.totals.requests += req;
  st.totals.failed += b.failed;
  st.totals.timeouts += b.timeouts;
  b.requests = 0;
  b.failed = 0;
  b.wShift = 0;
  b.wTail = 0;
  b.served = 0;
  b.servedWaited = 0;
  b.wShiftWaited = 0;
  b.wTailWaited = 0;
  b.timeouts = 0;
  b.rejected = 0;
  b.wRejected = 0;
  b.hits = 0;
}
