/**
 * The end of a series interval (60 s for events up to 6 h, coarser beyond; `seriesResolution`): one
 * iteration record per scenario and one step record per (scenario, step), in the run directory's
 * series format, and the interval's latency components kept for the run's exact percentiles. Reads
 * and updates the SimState it is given (simulation/simulate-state.ts).
 */
import { emptyPercentiles, percentilesOf, round2 } from './client-latency.ts';
import type { MixtureComponent } from './queueing.ts';
import type { Flat, SimState } from './simulate-state.ts';

/** Closes the series interval ending at event time `end`. */
export function flushBucket(st: SimState, end: number): void {
  flushIterations(st, end);
  for (const f of st.flats) flushStep(st, f, end);
  st.bucketStart = end;
}

/** One iteration record per scenario: planned, started, completed, dropped, failed. */
export function flushIterations(st: SimState, end: number): void {
  const { k, t0 } = st.inputs;
  const dtB = (end - st.bucketStart) / k;
  for (let s = 0; s < st.plan.scenarios.length; s++) {
    const ps = st.plan.scenarios[s]!;
    const ib = st.iterBuckets[s]!;
    const started = ib.started;
    const failedIt = ib.failSum;
    const dropped = st.droppedInBucket[s]!;
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
 * its components moment-matched (served requests) plus the rejected ones that returned at once.
 */
export function flushStep(st: SimState, f: Flat, end: number): void {
  const { k, t0, timeoutMs } = st.inputs;
  const b = f.bucket;
  const req = b.requests;
  const comps: MixtureComponent[] = [];
  if (b.served > 0) comps.push({ shift: b.wShift / b.served, tail: b.wTail / b.served, weight: b.served });
  // Those that waited at some visit (simulation/path-latency.ts `pathLatencySplit`): their own component.
  if (b.servedWaited > 0)
    comps.push({
      shift: b.wShiftWaited / b.servedWaited,
      tail: b.wTailWaited / b.servedWaited,
      weight: b.servedWaited,
    });
  if (b.rejected > 0) comps.push({ shift: b.wRejected / b.rejected, tail: 0, weight: b.rejected });
  // A cached page's edge hits: answered at the edge, one network hop.
  if (b.hits > 0) comps.push({ shift: st.inputs.hopMs, tail: 0, weight: b.hits });
  // Kept only for what reads them: the summary's percentiles and the result's components.
  if (st.options.summaryLatency !== false) for (const c of comps) st.stepComponents.get(f)!.push(c);
  if (comps.length > 0 && st.options.latencyComponents !== false)
    st.intervalLatency.push({
      t: st.bucketStart,
      channel: f.d.channel,
      journey: f.d.journey,
      step: f.d.step,
      components: comps,
    });
  const pct = req > 0 ? percentilesOf(comps, timeoutMs) : emptyPercentiles();
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
    latencyEstimate: { p50: pct.p50, p90: pct.p90, p95: pct.p95, p99: pct.p99, max: pct.max, mean: pct.mean },
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
