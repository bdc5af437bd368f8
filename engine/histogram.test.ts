import hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import {
  addHistogram,
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  type LatencyHistogram,
} from './histogram.ts';

function filled(seed: number, n: number, maxUs: number): LatencyHistogram {
  const rng = createRng(seed);
  const h = createLatencyHistogram();
  for (let i = 0; i < n; i++) h.recordValue(1 + Math.floor(rng.next() ** 3 * maxUs));
  return h;
}

const sameCounts = (a: LatencyHistogram, b: LatencyHistogram) => {
  expect(a.totalCount).toBe(b.totalCount);
  expect(a.maxValue).toBe(b.maxValue);
  expect(a.minNonZeroValue).toBe(b.minNonZeroValue);
  for (const p of [0, 50, 90, 95, 99, 99.9, 100])
    expect(a.getValueAtPercentile(p)).toBe(b.getValueAtPercentile(p));
  expect(hdr.encodeIntoCompressedBase64(a)).toBe(hdr.encodeIntoCompressedBase64(b));
};

describe('encodeHistogram', () => {
  it('writes exactly the bytes hdr-histogram-js writes, for empty, small, wide and resized histograms', () => {
    const huge = createLatencyHistogram();
    huge.recordValue(7_200_000_000);
    for (const h of [
      createLatencyHistogram(),
      filled(1, 1, 10),
      filled(2, 20_000, 5_000),
      filled(3, 5_000, 60_000_000),
      huge,
    ]) {
      expect(encodeHistogram(h)).toBe(hdr.encodeIntoCompressedBase64(h));
      const back = decodeHistogram(encodeHistogram(h));
      expect(back.totalCount).toBe(h.totalCount);
      expect(back.getValueAtPercentile(99)).toBe(h.getValueAtPercentile(99));
    }
  });
});

describe('addHistogram', () => {
  it('merges exactly as the library does, into empty and into filled histograms', () => {
    for (const [seed, maxUs] of [
      [1, 2_000],
      [2, 900_000],
      [3, 60_000_000],
    ] as const) {
      const from = filled(seed, 5_000, maxUs);
      const fast = filled(seed + 10, 3_000, 50_000);
      const slow = filled(seed + 10, 3_000, 50_000);
      addHistogram(fast, from);
      slow.add(from);
      sameCounts(fast, slow);
      const empty = createLatencyHistogram();
      addHistogram(empty, from);
      sameCounts(empty, from);
    }
  });

  it('merges a decoded histogram, an empty one, and grows past the tracked range like the library', () => {
    const from = decodeHistogram(encodeHistogram(filled(7, 1_000, 5_000)));
    const fast = filled(8, 100, 1_000);
    const slow = filled(8, 100, 1_000);
    addHistogram(fast, from);
    slow.add(from);
    sameCounts(fast, slow);
    addHistogram(fast, createLatencyHistogram());
    sameCounts(fast, slow);
    // Beyond an hour (the tracked range) the histogram auto-resizes: the fallback path.
    const huge = createLatencyHistogram();
    huge.recordValue(7_200_000_000);
    const a = filled(9, 100, 1_000);
    const b = filled(9, 100, 1_000);
    addHistogram(a, huge);
    b.add(huge);
    sameCounts(a, b);
  });
});

describe('createLatencyHistogram', () => {
  it('indexes every value as the library does, on its fast path and off it, and records the same', () => {
    const ours = createLatencyHistogram() as unknown as { countsArrayIndex(v: number): number };
    const plain = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: 3,
      autoResize: true,
    });
    const lib = plain as unknown as { countsArrayIndex(v: number): number };
    // The fast path must be in use, or this test checks nothing.
    expect(ours.countsArrayIndex).not.toBe(lib.countsArrayIndex);
    const values: number[] = [];
    for (let v = 0; v <= 10_000; v++) values.push(v);
    for (let k = 1; k <= 33; k++) values.push(2 ** k - 1, 2 ** k, 2 ** k + 1);
    const rng = createRng(19);
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(rng.next() * 2 ** 31));
    values.push(2 ** 31 - 1, 2 ** 31, 5_000_000_000, 1.5, 1023.7, 3_600_000_000);
    for (const v of values) expect(ours.countsArrayIndex(v), `value ${v}`).toBe(lib.countsArrayIndex(v));
    // Recorded through the fast path, resizing past the tracked range included, the counts are the library's.
    const a = createLatencyHistogram();
    for (const v of values)
      if (v >= 1) {
        a.recordValue(v);
        plain.recordValue(v);
      }
    sameCounts(a, plain);
  });
});
