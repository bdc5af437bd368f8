/**
 * A timeline without the data a finding needs gives "unknown, because ...", never a zero: no phantom
 * scale-out lag from an absent request metric, no recommendation from an unknown capacity.
 */
import { describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../../core/run-format.ts';
import { computeCapacity } from './capacity.ts';
import { computeRecommendations, unsizedServices } from './recommendations.ts';
import { computeScaleOuts, unknownScaleOutFindings } from './scale-out-lag.ts';
import { computeServiceSeries } from './service-series.ts';

/** A service's timeline at 60-s periods: tasks and requests per period (null = no metric). */
function timeline(service: string, running: number[], requests: (number | null)[]): TimelineRecord[] {
  return running.map((r, i) => ({
    t: i * 60,
    period: 60,
    service,
    desired: r,
    running: r,
    pending: 0,
    cpu: 67.5,
    memory: 30,
    requests: requests[i] ?? null,
    requestsPerTarget: null,
    responseTimeMs: null,
    http5xx: null,
    source: 'cloudwatch',
    provenance: 'measured',
  }));
}

describe('unknown is never zero', () => {
  it('a service with no request metric has no traffic step, and its lag is unknown with the reason', () => {
    const [s] = computeServiceSeries(timeline('cart', [2, 2, 2, 2, 4, 5, 5, 5], Array(8).fill(null)), 1);
    const outs = computeScaleOuts(s!, []);
    expect(outs).toEqual([]);
    const f = unknownScaleOutFindings([s!], [outs], () => 'measured');
    expect(f).toHaveLength(1);
    expect(f[0]?.title).toBe('cart: scale-out lag unknown (tasks 2 → 5)');
    expect(f[0]?.evidence[0]).toMatch(/neither a load balancer target group nor Service Connect/);
    expect(f[0]?.value).toBeUndefined();
  });

  it('measured zero traffic is not a step either (0 ≥ 1.5 × 0 is no rise)', () => {
    const [s] = computeServiceSeries(timeline('cart', [2, 2, 2, 3, 3, 3], [0, 0, 0, 0, 0, 0]), 1);
    expect(computeScaleOuts(s!, [])).toEqual([]);
  });

  it('a real step is still measured: 600 → 6,000 requests a minute, tasks 2 → 4 two periods later', () => {
    const [s] = computeServiceSeries(
      timeline('catalog', [2, 2, 2, 2, 2, 3, 4, 4], [600, 600, 600, 600, 6000, 6000, 6000, 6000]),
      1,
    );
    const [o] = computeScaleOuts(s!, []);
    expect(o).toMatchObject({ stepAt: 240, tasksBefore: 2, tasksAfter: 4, lagSeconds: 120 });
    expect(unknownScaleOutFindings([s!], [[o!]], () => 'measured')).toEqual([]);
  });

  it('no recommendation from an unknown capacity: the peak task count is not a minimum', () => {
    const series = computeServiceSeries(timeline('cart', [2, 2, 2, 2], Array(4).fill(null)), 1);
    const caps = series.map((s) => computeCapacity(s, null));
    expect(caps[0]?.rpsPerTask).toBeNull();
    expect(computeRecommendations(series, caps, [[]])).toEqual([]);
    expect(unsizedServices(series, caps)[0]).toMatch(
      /cart: no recommendation: its capacity per task is unknown \(no per-service request metric\)/,
    );
  });
});
