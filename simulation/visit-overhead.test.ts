import { describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../core/run-format.ts';
import { leafServices, MIN_PERIODS, measureVisitOverhead } from './visit-overhead.ts';

/** One period of one service: `rt` at its balancer, `hold` its mean emulated hold, at `cpu` %. */
const rec = (service: string, t: number, rt: number, hold: number, cpu = 10, addedMs = 0): TimelineRecord =>
  ({
    t,
    period: 60,
    service,
    desired: 2,
    running: 2,
    pending: 0,
    cpu,
    memory: 10,
    requests: 10,
    requestsPerTarget: 5,
    responseTimeMs: rt,
    http5xx: 0,
    source: 'local',
    provenance: 'measured',
    emulation: { holds: 10, stretched: 0, emulatedMs: hold * 10, addedMs },
  }) as TimelineRecord;

describe('the live stack’s overhead of one visit', () => {
  it('takes the leaves of headless, and none of the monolith', () => {
    expect(leafServices('headless').sort()).toEqual([
      'cart',
      'catalog',
      'inventory',
      'orders',
      'pricing',
      'search',
    ]);
    expect(leafServices('monolith')).toEqual([]);
  });

  it('is the median of the quiet leaf periods’ response time over their holds, nothing else', () => {
    const timeline: TimelineRecord[] = [];
    for (let i = 0; i < MIN_PERIODS; i++) {
      // Quiet leaves: 3 ms over their holds, and 5 ms in every fourth period.
      timeline.push(rec(i % 2 ? 'catalog' : 'inventory', i * 60, 10 + (i % 4 === 0 ? 5 : 3), 10));
      // Left out: a composite (its calls are in its time), a busy leaf (a queue), a stretched hold.
      timeline.push(rec('gateway', i * 60, 80, 20));
      timeline.push(rec('cart', i * 60, 400, 12, 95));
      timeline.push(rec('pricing', i * 60, 60, 20, 10, 30));
    }
    expect(measureVisitOverhead(timeline, 'headless')).toEqual({
      ms: 3,
      periods: MIN_PERIODS,
      services: ['catalog', 'inventory'],
    });
  });

  it('measures nothing from too few quiet periods, or from the monolith', () => {
    const few = Array.from({ length: MIN_PERIODS - 1 }, (_, i) => rec('catalog', i * 60, 13, 10));
    expect(measureVisitOverhead(few, 'headless')).toBeNull();
    const mono = Array.from({ length: 2 * MIN_PERIODS }, (_, i) => rec('monolith', i * 60, 40, 20));
    expect(measureVisitOverhead(mono, 'monolith')).toBeNull();
  });
});
