import { describe, expect, it } from 'vitest';
import type { SeriesRecord } from '../../core/run-format.ts';
import { createLatencyHistogram, encodeHistogram } from '../../engine/histogram.ts';
import { createLoadAggregator } from './load-series.ts';

/** An encoded histogram of `n` requests each taking `ms`. */
function hist(n: number, ms: number): string {
  const h = createLatencyHistogram();
  for (let i = 0; i < n; i++) h.recordValue(ms * 1000);
  return encodeHistogram(h);
}

const step = (t: number, channel: string, requests: number, failed: number, extra: Partial<SeriesRecord>) =>
  ({
    t,
    wall: t / 60,
    dt: 2,
    channel,
    journey: 'browse',
    step: 'list',
    requests,
    failed,
    ...extra,
  }) as SeriesRecord;

describe('load over event time', () => {
  it('turns live records into per-channel rates per wall second and exact merged percentiles', () => {
    const agg = createLoadAggregator(60);
    // Out of order on purpose: intervals are sorted by event time. Two records share web's t=120.
    agg.add(step(120, 'web', 10, 1, { latency: hist(10, 100) }));
    agg.add(step(0, 'web', 20, 0, { latency: hist(20, 10) }));
    agg.add(step(120, 'web', 10, 0, { latency: hist(10, 300) }));
    agg.add(step(0, 'app', 4, 4, { latency: hist(4, 50) }));
    const load = agg.finish();
    expect(load.times).toEqual([0, 120]);
    expect([load.wallSeconds, load.intervalSeconds]).toEqual([2, 120]);
    const web = load.channels.web!;
    expect(web.rps).toEqual([10, 10]);
    expect(web.failedRps).toEqual([0, 0.5]);
    expect(web.requestCount).toEqual([20, 20]);
    expect(web.latencySamples).toEqual([20, 20]);
    // t=120 merges both histograms exactly: half at 100 ms, half at 300 ms.
    expect(web.p50Ms[1]).toBeCloseTo(100, 0);
    expect(web.p95Ms[1]).toBeCloseTo(300, 0);
    // A channel with no request in an interval has no latency there, and counts zero.
    const app = load.channels.app!;
    expect(app.p95Ms).toEqual([expect.closeTo(50, 0), null]);
    expect(app.requestCount).toEqual([4, 0]);
    expect(load.all.totals).toMatchObject({ requests: 44, failed: 5 });
    expect(load.latencyProvenance).toBe('measured');
    expect(load.latencyKind).toBe('intended-start');
  });

  it('combines simulated estimates request-weighted and labels them estimates', () => {
    const est = (p95: number) => ({ p50: p95 / 2, p90: p95 * 0.9, p95, p99: p95 * 1.2, max: p95 * 2 });
    const agg = createLoadAggregator(1);
    agg.add({ ...step(0, 'web', 30, 0, { latencyEstimate: est(100) }), dt: 60, wall: 0 });
    agg.add({ ...step(0, 'web', 10, 0, { latencyEstimate: est(500) }), dt: 60, wall: 0 });
    const load = agg.finish();
    expect(load.channels.web!.p95Ms[0]).toBeCloseTo((30 * 100 + 10 * 500) / 40, 6);
    expect(load.channels.web!.latencySamples).toEqual([40]);
    expect(load.latencyProvenance).toBe('simulated');
    expect(load.latencyKind).toBe('estimate');
  });

  it('counts completed checkouts as orders per channel and failed ones as lost', () => {
    const agg = createLoadAggregator(1);
    const iter = (channel: string, completed: number, failedIterations: number): SeriesRecord => ({
      t: 0,
      wall: 0,
      dt: 1,
      channel,
      journey: 'checkout',
      step: null,
      started: completed,
      completed,
      failedIterations,
    });
    agg.add(iter('web', 5, 1));
    agg.add(iter('app', 3, 0));
    agg.add({ ...iter('web', 7, 0), journey: 'browse' });
    const load = agg.finish();
    expect(load.orders).toEqual([7]);
    expect(load.ordersByChannel).toEqual({ web: [4], app: [3] });
    expect(load.failedCheckouts).toBe(1);
    expect(load.journeys.checkout).toEqual({ started: 8, completed: 8, failed: 1, dropped: 0 });
  });
});
