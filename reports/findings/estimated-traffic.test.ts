import { describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../../core/run-format.ts';
import { estimateTrafficFromLoad, loadRateOnPeriods } from './estimated-traffic.ts';
import { computeServiceSeries } from './service-series.ts';

const rec = (service: string, t: number, requests: number | null): TimelineRecord => ({
  t,
  period: 60,
  service,
  desired: 2,
  running: 2,
  pending: 0,
  cpu: 40,
  memory: 30,
  requests,
  requestsPerTarget: null,
  responseTimeMs: null,
  http5xx: null,
  source: 'cloudwatch',
  provenance: 'measured',
});

/** A load run of 1-s intervals from event 0 to 120 s: 4 req/s, then 8 req/s from 60 s. */
const load = {
  times: Array.from({ length: 120 }, (_, i) => i),
  intervalSeconds: 1,
  rps: Array.from({ length: 120 }, (_, i) => (i < 60 ? 4 : 8)),
};

describe('traffic estimated from the load run', () => {
  it('averages the load over each period and leaves periods the run did not cover unknown, not zero', () => {
    expect(loadRateOnPeriods(load, [-60, 0, 60, 120], 60)).toEqual([null, 4, 8, null]);
    expect(loadRateOnPeriods(load, [30], 60)).toEqual([6]);
  });

  it('fills only services with no request metric, at the load rate × their share, and says so', () => {
    const series = computeServiceSeries(
      [0, 60, 120].flatMap((t) => [rec('cart', t, null), rec('catalog', t, 600)]),
      1,
    );
    const [cart, catalog] = estimateTrafficFromLoad(series, load, { cart: 0.5 });
    expect(cart?.rps).toEqual([2, 4, null]);
    expect(cart?.rpsPerTask).toEqual([1, 2, null]);
    expect(cart?.rpsEstimate?.shareSource).toBe('assumptions.trafficShare.cart = 0.5 (user-set)');
    expect(catalog?.rps).toEqual([10, 10, 10]);
    expect(catalog?.rpsEstimate).toBeUndefined();
  });

  it('estimates nothing for a metrics window with no load run', () => {
    const series = computeServiceSeries([rec('cart', 0, null)], 1);
    const [cart] = estimateTrafficFromLoad(series, { times: [], intervalSeconds: 1, rps: [] });
    expect(cart?.rps).toEqual([null]);
    expect(cart?.rpsEstimate).toBeUndefined();
  });
});
