/**
 * Latency histograms as the budgets module sums them: each decoded HDR histogram becomes a sparse
 * list of (bucket index, count) on one reference bucket layout (1 µs lowest, 3 significant digits,
 * the engine's layout), and windows keep dense running counts over that layout. Adding or removing
 * one interval then costs its few non-empty buckets instead of a walk over the whole counts array
 * (tens of thousands of buckets), which made sliding windows over long runs slow. Reads mirror
 * hdr-histogram-js: percentiles return the highest equivalent value of the bucket that reaches the
 * count, the mean uses median equivalent values.
 */
import * as hdr from 'hdr-histogram-js';

/** The non-empty buckets of one histogram, on the reference layout. */
export interface SparseHistogram {
  idx: Int32Array;
  count: Float64Array;
  total: number;
}

/** Running counts over the reference layout. */
export interface DenseCounts {
  counts: Float64Array;
  total: number;
}

const ref = hdr.build({
  lowestDiscernibleValue: 1,
  numberOfSignificantValueDigits: 3,
  autoResize: true,
}) as unknown as hdr.JsHistogram;

const sameLayout = (h: hdr.JsHistogram) =>
  h.numberOfSignificantValueDigits === ref.numberOfSignificantValueDigits &&
  (h as unknown as { unitMagnitude: number }).unitMagnitude ===
    (ref as unknown as { unitMagnitude: number }).unitMagnitude;

/** Converts a decoded histogram to its sparse form (one walk over its counts). */
export function toSparse(histogram: hdr.Histogram): SparseHistogram {
  const h = histogram as unknown as hdr.JsHistogram;
  const same = sameLayout(h);
  const idx: number[] = [];
  const count: number[] = [];
  let total = 0;
  const n = h.countsArrayLength;
  for (let i = 0; i < n; i++) {
    const c = h.getCountAtIndex(i);
    if (c > 0) {
      idx.push(same ? i : ref.countsArrayIndex(h.valueFromIndex(i)));
      count.push(c);
      total += c;
    }
  }
  return { idx: Int32Array.from(idx), count: Float64Array.from(count), total };
}

/** Decodes an encoded histogram (hdr-histogram-js compressed base64) to its sparse form. */
export function decodeSparse(encoded: string): SparseHistogram {
  return toSparse(hdr.decodeFromCompressedBase64(encoded, 32, false));
}

/** Concatenates sparse histograms (repeated buckets are fine: they are summed when added). */
export function concatSparse(list: readonly SparseHistogram[]): SparseHistogram {
  if (list.length === 1) return list[0] as SparseHistogram;
  const size = list.reduce((a, s) => a + s.idx.length, 0);
  const idx = new Int32Array(size);
  const count = new Float64Array(size);
  let o = 0;
  let total = 0;
  for (const s of list) {
    idx.set(s.idx, o);
    count.set(s.count, o);
    o += s.idx.length;
    total += s.total;
  }
  return { idx, count, total };
}

/** Empty running counts. */
export function createDense(): DenseCounts {
  return { counts: new Float64Array(1024), total: 0 };
}

/** Adds (sign 1) or removes (sign -1) a sparse histogram. */
export function addSparse(d: DenseCounts, s: SparseHistogram, sign: 1 | -1): void {
  let max = 0;
  for (let k = 0; k < s.idx.length; k++) max = Math.max(max, s.idx[k] as number);
  if (max >= d.counts.length) {
    const grown = new Float64Array(Math.max(max + 1, d.counts.length * 2));
    grown.set(d.counts);
    d.counts = grown;
  }
  for (let k = 0; k < s.idx.length; k++) {
    const i = s.idx[k] as number;
    d.counts[i] = (d.counts[i] as number) + sign * (s.count[k] as number);
  }
  d.total += sign * s.total;
}

/** The value (µs) at a percentile, as hdr-histogram-js `getValueAtPercentile` computes it. */
export function valueAtPercentile(d: DenseCounts, percentile: number): number {
  if (d.total <= 0) return 0;
  const fp = (Math.min(percentile, 100) / 100) * d.total;
  const target = Math.max(Math.ceil(fp - Math.abs(fp) * Number.EPSILON), 1);
  let acc = 0;
  const c = d.counts;
  for (let i = 0; i < c.length; i++) {
    acc += c[i] as number;
    if (acc >= target) return ref.highestEquivalentValue(ref.valueFromIndex(i));
  }
  return maxValue(d);
}

/** The highest recorded value (µs, highest equivalent value of the top bucket). */
export function maxValue(d: DenseCounts): number {
  for (let i = d.counts.length - 1; i >= 0; i--) {
    if ((d.counts[i] as number) > 0) return ref.highestEquivalentValue(ref.valueFromIndex(i));
  }
  return 0;
}

/** The lowest recorded value (µs, lowest equivalent value of the bottom bucket). */
export function minValue(d: DenseCounts): number {
  for (let i = 0; i < d.counts.length; i++) {
    if ((d.counts[i] as number) > 0) return ref.lowestEquivalentValue(ref.valueFromIndex(i));
  }
  return 0;
}

/** The mean (µs) from median equivalent values, as hdr-histogram-js computes it. */
export function meanValue(d: DenseCounts): number {
  if (d.total <= 0) return 0;
  let sum = 0;
  for (let i = 0; i < d.counts.length; i++) {
    const c = d.counts[i] as number;
    if (c > 0) sum += ref.medianEquivalentValue(ref.valueFromIndex(i)) * c;
  }
  return sum / d.total;
}
