import { describe, expect, it } from 'vitest';
import { createStoreCapacity, readUnits, writeUnits } from './capacity.ts';

describe('store capacity model', () => {
  it('throttles one partition key beyond its write units per second and counts a hot-partition throttle', () => {
    const c = createStoreCapacity({ localScale: 0.01 }); // 10 write units/s per key
    const results = Array.from({ length: 12 }, () => c.charge('stock', 'SKU-000001', 'write', 1, 1000, 0));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results[11]).toEqual({ ok: false, reason: 'partition', limit: 10 });
    const s = c.takeStats().stock;
    expect(s?.hotPartitionThrottles).toBe(2);
    expect(s?.hottestKey).toBe('SKU-000001');
  });

  it('other keys are unaffected by a hot key', () => {
    const c = createStoreCapacity({ localScale: 0.01 });
    for (let i = 0; i < 20; i++) c.charge('stock', 'hot', 'write', 1, 1000, 0);
    expect(c.charge('stock', 'cold', 'write', 1, 1000, 0).ok).toBe(true);
  });

  it('a new second resets the per-key budget', () => {
    const c = createStoreCapacity({ localScale: 0.01 });
    for (let i = 0; i < 10; i++) c.charge('stock', 'k', 'write', 1, 1000, 0);
    expect(c.charge('stock', 'k', 'write', 1, 1999, 0).ok).toBe(false);
    expect(c.charge('stock', 'k', 'write', 1, 2000, 1).ok).toBe(true);
  });

  it('throttles a table beyond double its previous peak, then adapts once the peak is old enough', () => {
    const c = createStoreCapacity({
      localScale: 1,
      initialPeakWriteUnits: 5,
      partitionWriteUnitsPerSec: 1e9,
      peakAdaptEventSeconds: 60,
    });
    let ok = 0;
    for (let i = 0; i < 15; i++) if (c.charge('orders', `k${i}`, 'write', 1, 0, 0).ok) ok++;
    expect(ok).toBe(10);
    // A later second at the same event minute: the peak of 10 is not "previous" yet.
    for (let i = 0; i < 10; i++) c.charge('orders', `k${i}`, 'write', 1, 1000, 30);
    // 61 event seconds after the first second, its peak (10) is the previous peak: 20 allowed.
    let later = 0;
    for (let i = 0; i < 25; i++) if (c.charge('orders', `x${i}`, 'write', 1, 5000, 61).ok) later++;
    expect(later).toBe(20);
  });

  it('each replica enforces its share of the limits', () => {
    const c = createStoreCapacity({ localScale: 0.01 }, 2);
    const ok = Array.from({ length: 10 }, () => c.charge('stock', 'k', 'write', 1, 0, 0)).filter((r) => r.ok);
    expect(ok).toHaveLength(5);
  });

  it.each([
    [1, 1, 1],
    [4096, 1, 4],
    [4097, 2, 5],
  ])('an item of %s bytes costs %s read units and %s write units', (bytes, r, w) => {
    expect(readUnits(bytes)).toBe(r);
    expect(writeUnits(bytes)).toBe(w);
  });
});
