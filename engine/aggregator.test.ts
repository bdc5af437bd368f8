import { describe, expect, it } from 'vitest';
import { Aggregator } from './aggregator.ts';
import { decodeHistogram } from './histogram.ts';

const scenarios = [
  { channel: 'web', journey: 'browse', steps: ['list', 'product'] },
  { channel: 'app', journey: 'checkout', steps: ['pay'] },
];

describe('the per-second aggregator', () => {
  it('emits every scenario’s iteration record, and step records only for steps that had requests', () => {
    const a = new Aggregator(scenarios);
    const web = a.scenarios[0]!;
    web.planned = 3;
    web.started = 2;
    web.dropped = 1;
    // 200 ok; 503 failed; 429 failed and rate-limited; refused (no status); a failed check on a 200.
    a.request(0, 0, 200, null, false, true, false, 2_000, 1_000);
    a.request(0, 0, 503, null, false, true, true, 9_000, 8_000);
    a.request(0, 0, 429, null, false, true, true, 3_000, 2_500);
    a.request(0, 0, 0, 'refused', false, false, true, 500, 400);
    a.request(0, 0, 200, null, true, true, true, 4_000, 3_000);
    const { records, pending } = a.flushDeferred(60, 1, 1);
    expect(records.map((r) => [r.channel, r.journey, r.step])).toEqual([
      ['web', 'browse', null],
      ['web', 'browse', 'list'],
      ['app', 'checkout', null],
    ]);
    expect(records[0]).toMatchObject({ t: 60, wall: 1, dt: 1, planned: 3, started: 2, dropped: 1 });
    expect(records[1]).toMatchObject({
      requests: 5,
      failed: 4,
      status: { '2xx': 2, '3xx': 0, '4xx': 1, '5xx': 1 },
      rateLimited: 1,
      errors: { refused: 1, check: 1, timeout: 0, reset: 0, other: 0 },
      checks: { passed: 3, failed: 1 },
    });
    // The histograms are encoded later (completeRecord), a few records at a time.
    expect(records[1]!.latency).toBeUndefined();
    expect(pending).toHaveLength(1);
    a.completeRecord(pending[0]!);
    const h = decodeHistogram(records[1]!.latency as string);
    expect(h.totalCount).toBe(5);
    expect(h.maxValue).toBeGreaterThanOrEqual(9_000 * 0.999);
    expect(decodeHistogram(records[1]!.latencySend as string).maxValue).toBeLessThan(8_100);
  });

  it('resets each second and keeps exact whole-run totals, recycling histograms without their old values', () => {
    const a = new Aggregator(scenarios);
    a.request(1, 0, 200, null, false, false, false, 1_000, 900);
    a.request(1, 0, 200, null, false, false, false, 50_000, 49_000);
    for (const p of a.flushDeferred(0, 0, 1).pending) a.completeRecord(p);
    a.request(1, 0, 500, null, false, false, true, 2_000, 1_900);
    const second = a.flushDeferred(1, 1, 1);
    for (const p of second.pending) a.completeRecord(p);
    const pay = second.records.find((r) => r.step === 'pay')!;
    expect(pay).toMatchObject({ requests: 1, failed: 1, status: { '5xx': 1, '2xx': 0 } });
    // The recycled histogram holds only this second's request, not the 50-ms one before it.
    const h = decodeHistogram(pay.latency as string);
    expect(h.totalCount).toBe(1);
    expect(h.maxValue).toBeLessThan(2_100);
    const tot = a.scenarios[1]!.totals;
    expect([tot.requests, tot.failed, tot.status['2xx'], tot.status['5xx']]).toEqual([3, 1, 2, 1]);
    expect(tot.latency.totalCount).toBe(3);
    // A second with no requests emits the iteration record only.
    expect(a.flushDeferred(2, 2, 1).records.map((r) => r.step)).toEqual([null, null]);
  });

  it('counts a request not sent (an empty template value) as failed, of its own kind, with no latency', () => {
    const a = new Aggregator(scenarios);
    a.unsent(0, 1);
    const { records, pending } = a.flushDeferred(0, 0, 1);
    const product = records.find((r) => r.step === 'product')!;
    expect(product).toMatchObject({ requests: 1, failed: 1, errors: { emptyValue: 1 } });
    a.completeRecord(pending[0]!);
    expect(decodeHistogram(product.latency as string).totalCount).toBe(0);
  });
});
