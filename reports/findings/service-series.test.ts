import { describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../../core/run-format.ts';
import { computeServiceSeries } from './service-series.ts';

const rec = (service: string, t: number, cpu: number | null, requests = 600): TimelineRecord => ({
  t,
  period: 60,
  service,
  desired: 2,
  running: 2,
  pending: 0,
  cpu,
  memory: null,
  requests,
  requestsPerTarget: requests / 2,
  responseTimeMs: null,
  http5xx: null,
  source: 'simulator',
  provenance: 'simulated',
});

describe('computeServiceSeries', () => {
  it.each([
    ['fractions stay fractions', [0.2, 0.9], [0.2, 0.9]],
    ['a run in percent is read as percent, even a service under 1.5%', [40, 1.2], [0.4, 0.012]],
  ])('%s', (_n, cpus, expected) => {
    const s = computeServiceSeries([rec('a', 0, cpus[0]!), rec('b', 0, cpus[1]!)], 1);
    expect(s.map((x) => x.cpu[0])).toEqual(expected);
  });

  it('gives wall rates: a 60-s event period of a 60x rehearsal is one wall second', () => {
    const [s] = computeServiceSeries([rec('a', 0, 0.5, 600)], 60);
    expect(s?.rps[0]).toBe(600);
    expect(s?.rpsPerTask[0]).toBe(300);
  });
});
