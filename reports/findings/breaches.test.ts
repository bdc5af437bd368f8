import { describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../../core/run-format.ts';
import { attributeWindow, type Bottleneck, bottleneckFindings, computeBottlenecks } from './breaches.ts';
import { computeCapacity } from './capacity.ts';
import { computeServiceSeries } from './service-series.ts';

const svc = (name: string, start: number, end: number, severity: number): Bottleneck => ({
  kind: 'service',
  name,
  window: { start, end },
  severity,
});
const store = (table: string, start: number, end: number): Bottleneck => ({
  kind: 'store',
  name: 'catalog',
  table,
  window: { start, end },
  severity: 100,
});
const H = 3600;

describe('attributeWindow', () => {
  it.each([
    [
      'a 48-h breach goes to the service short for most of it, not an hour of throttling',
      { start: 0, end: 48 * H },
      [store('catalog', 0, H), svc('gateway', 0, 20 * H, 12.8), svc('gateway', 24 * H, 44 * H, 6)],
      'gateway short of capacity (peak utilisation 1280%) in 83% of the window',
    ],
    [
      'on equal cover a throttling store comes first',
      { start: 600, end: 720 },
      [svc('cart', 600, 720, 1.5), store('stock', 600, 720)],
      'throttling in table stock (via catalog)',
    ],
    [
      'on equal cover between services the more overloaded one',
      { start: 600, end: 720 },
      [svc('cart', 600, 720, 1.5), svc('pricing', 600, 720, 2.5)],
      'pricing short of capacity (peak utilisation 250%)',
    ],
    ['nothing overlapping: not explained', { start: 600, end: 720 }, [svc('cart', 0, 600, 3)], null],
  ])('%s', (_name, window, bottlenecks, expected) => {
    expect(attributeWindow(window, bottlenecks)).toBe(expected);
  });
});

describe('hot partitions from DynamoDB ThrottledRequests', () => {
  /** cart's timeline as collect writes it from CloudWatch: carts busiest, sessions throttled at 2-3 min. */
  const records: TimelineRecord[] = [0, 1, 2, 3, 4].map((m) => ({
    t: m * 60,
    period: 60,
    service: 'cart',
    desired: 2,
    running: 2,
    pending: 0,
    cpu: 40,
    memory: 30,
    requests: null,
    requestsPerTarget: null,
    responseTimeMs: null,
    http5xx: null,
    source: 'cloudwatch',
    provenance: 'measured',
    store: { table: 'carts', readUnits: 300, writeUnits: 240, throttles: 0 },
    stores: [
      { table: 'carts', readUnits: 300, writeUnits: 240, throttles: 0 },
      {
        table: 'sessions',
        readUnits: 12,
        writeUnits: 0,
        throttles: m >= 2 && m < 4 ? 5 : 0,
        ...(m >= 2 && m < 4 ? { throttledRequests: 43, throttledOperations: { Query: 40, PutItem: 3 } } : {}),
      },
    ],
  }));

  it('finds a throttled table that is not the service’s busiest, counted in throttled requests by operation', () => {
    const series = computeServiceSeries(records, 1);
    const caps = series.map((s) => computeCapacity(s, null));
    const hot = bottleneckFindings(computeBottlenecks(series, caps), () => 'measured').filter(
      (f) => f.kind === 'hot-partition',
    );
    expect(hot.map((f) => [f.id, f.value, f.window])).toEqual([
      ['hot-partition/sessions@120', 86, { start: 120, end: 240 }],
    ]);
    expect(hot[0]?.title).toBe('sessions throttled 86 requests over 2.0 min');
    expect(hot[0]?.evidence[0]).toBe(
      'DynamoDB ThrottledRequests of sessions from event 120s to 240s: Query 80 requests, PutItem 6 requests (10 throttle events); a table that throttles below its capacity is the hot-partition signal',
    );
  });

  it('without ThrottledRequests, throttle events still make the finding (the local stack, Read/WriteThrottleEvents)', () => {
    const events = records.map((r) => ({
      ...r,
      stores: r.stores?.map(({ throttledRequests: _r, throttledOperations: _o, ...x }) => x),
    }));
    const series = computeServiceSeries(events, 1);
    const hot = computeBottlenecks(
      series,
      series.map((s) => computeCapacity(s, null)),
    ).filter((b) => b.kind === 'store');
    expect(hot).toMatchObject([{ table: 'sessions', severity: 10, throttleEvents: 10 }]);
    expect(hot[0]).not.toHaveProperty('throttledRequests');
  });
});
