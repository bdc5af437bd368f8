import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/rng.ts';
import {
  addSparse,
  concatSparse,
  createDense,
  decodeSparse,
  maxValue,
  meanValue,
  minValue,
  toSparse,
  valueAtPercentile,
} from './sparse-histogram.ts';

/** A histogram as the engine builds it, with seeded values spread over µs to minutes. */
function randomHistogram(
  seed: number,
  opts: { highest?: number; digits?: 1 | 2 | 3 | 4 | 5; lowest?: number } = {},
) {
  const rng = createRng(seed);
  const h = hdr.build({
    lowestDiscernibleValue: opts.lowest ?? 1,
    highestTrackableValue: opts.highest ?? 3_600_000_000,
    numberOfSignificantValueDigits: opts.digits ?? 3,
    autoResize: true,
  });
  const n = 1 + rng.int(400);
  for (let i = 0; i < n; i++)
    h.recordValueWithCount(Math.max(1, Math.round(Math.exp(rng.next() * 19))), 1 + rng.int(3));
  if (seed % 5 === 0) h.recordValueWithCount(2 ** 40, 7); // a huge count and value: 64-bit varints
  return h;
}

describe('sparse histograms', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])(
    'decodes the V2 format exactly like hdr-histogram-js (seed %d)',
    (seed) => {
      const h = randomHistogram(seed);
      const encoded = hdr.encodeIntoCompressedBase64(h);
      expect(decodeSparse(encoded)).toEqual(toSparse(hdr.decodeFromCompressedBase64(encoded, 32, false)));
    },
  );

  it('re-buckets histograms written with another layout', () => {
    const h = randomHistogram(11, { digits: 2, lowest: 1000 });
    const s = decodeSparse(hdr.encodeIntoCompressedBase64(h));
    expect(s.total).toBe(h.totalCount);
  });

  it('reads percentiles, max, min and mean as hdr-histogram-js does after merging', () => {
    const hs = [1, 2, 3, 4].map((s) => randomHistogram(s));
    const merged = hdr.build({
      lowestDiscernibleValue: 1,
      numberOfSignificantValueDigits: 3,
      autoResize: true,
    });
    for (const h of hs) merged.add(h);
    const d = createDense();
    addSparse(d, concatSparse(hs.map((h) => decodeSparse(hdr.encodeIntoCompressedBase64(h)))), 1);
    for (const p of [1, 50, 90, 95, 99, 99.9])
      expect(valueAtPercentile(d, p)).toBe(merged.getValueAtPercentile(p));
    expect(maxValue(d)).toBe(merged.getValueAtPercentile(100));
    expect(minValue(d)).toBe(merged.minNonZeroValue);
    expect(meanValue(d)).toBeCloseTo(merged.mean, 6);
  });

  it('removes exactly what it added', () => {
    const a = decodeSparse(hdr.encodeIntoCompressedBase64(randomHistogram(21)));
    const b = decodeSparse(hdr.encodeIntoCompressedBase64(randomHistogram(22)));
    const d = createDense();
    addSparse(d, a, 1);
    const p99 = valueAtPercentile(d, 99);
    addSparse(d, b, 1);
    addSparse(d, b, -1);
    expect(valueAtPercentile(d, 99)).toBe(p99);
    expect(d.total).toBe(a.total);
  });
});
