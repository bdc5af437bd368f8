/**
 * Latency histograms as the budgets module sums them: each decoded HDR histogram becomes a sparse
 * list of (bucket index, count) on one reference bucket layout (1 µs lowest, 3 significant digits,
 * the engine's layout), and windows keep dense running counts over that layout. Adding or removing
 * one interval then costs its few non-empty buckets instead of a walk over the whole counts array
 * (tens of thousands of buckets), which made sliding windows over long runs slow. Reads mirror
 * hdr-histogram-js: percentiles return the highest equivalent value of the bucket that reaches the
 * count, the mean uses median equivalent values.
 */
import { inflateSync } from 'node:zlib';
import * as hdr from 'hdr-histogram-js';

/** The non-empty buckets of one histogram, on the reference layout. */
export interface SparseHistogram {
  idx: Int32Array;
  count: Float64Array;
  total: number;
}

/** Running counts over the reference layout; `counts[k]` is bucket `offset + k`. */
export interface DenseCounts {
  counts: Float64Array;
  total: number;
  offset: number;
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
  const n = h.totalCount > 0 ? Math.min(h.countsArrayLength, h.countsArrayIndex(h.maxValue) + 1) : 0;
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

const V2_COMPRESSED = 0x1c849304;
const V2_PLAIN = 0x1c849303;

/**
 * Decodes an encoded histogram (HdrHistogram V2 compressed base64, as hdr-histogram-js writes it)
 * straight to its sparse form: base64, zlib inflate, then the ZigZag LEB128 counts with zero runs.
 * Histograms on another bucket layout go through hdr-histogram-js and are re-bucketed. Decoding
 * this way skips allocating and walking a full counts array per interval, the cost that dominated
 * gating long runs.
 */
export function decodeSparse(encoded: string): SparseHistogram {
  const outer = Buffer.from(encoded, 'base64');
  if (outer.length < 8 || (outer.readInt32BE(0) & ~0xf0) !== V2_COMPRESSED) return slowDecode(encoded);
  const raw = inflateSync(outer.subarray(8, 8 + outer.readInt32BE(4)));
  if (raw.length < 40 || (raw.readInt32BE(0) & ~0xf0) !== V2_PLAIN) return slowDecode(encoded);
  const payloadLength = raw.readInt32BE(4);
  const digits = raw.readInt32BE(12);
  const lowest = Number(raw.readBigInt64BE(16));
  if (digits !== ref.numberOfSignificantValueDigits || lowest !== 1) return slowDecode(encoded);
  const idx: number[] = [];
  const count: number[] = [];
  let total = 0;
  let pos = 40;
  const end = Math.min(raw.length, 40 + payloadLength);
  let dst = 0;
  while (pos < end) {
    // LEB128, up to 9 bytes (the 9th carries 8 bits), then ZigZag.
    let v = 0;
    let mul = 1;
    for (let b = 0; b < 9; b++) {
      const byte = raw[pos++] as number;
      if (b === 8) {
        v += byte * mul;
        break;
      }
      v += (byte & 0x7f) * mul;
      mul *= 128;
      if ((byte & 0x80) === 0) break;
    }
    const n = v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    if (n < 0) dst += -n;
    else {
      if (n > 0) {
        idx.push(dst);
        count.push(n);
        total += n;
      }
      dst++;
    }
  }
  return { idx: Int32Array.from(idx), count: Float64Array.from(count), total };
}

function slowDecode(encoded: string): SparseHistogram {
  return toSparse(hdr.decodeFromCompressedBase64(encoded, 32, false));
}

/** Merges sparse histograms (each sorted by bucket) exactly into one, each bucket once, sorted. */
export function concatSparse(list: readonly SparseHistogram[]): SparseHistogram {
  if (list.length === 0) return { idx: new Int32Array(0), count: new Float64Array(0), total: 0 };
  let acc = list[0] as SparseHistogram;
  for (let k = 1; k < list.length; k++) acc = mergeTwo(acc, list[k] as SparseHistogram);
  return acc;
}

function mergeTwo(a: SparseHistogram, b: SparseHistogram): SparseHistogram {
  const idx = new Int32Array(a.idx.length + b.idx.length);
  const count = new Float64Array(idx.length);
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < a.idx.length || j < b.idx.length) {
    const ai = i < a.idx.length ? (a.idx[i] as number) : Number.POSITIVE_INFINITY;
    const bj = j < b.idx.length ? (b.idx[j] as number) : Number.POSITIVE_INFINITY;
    if (ai === bj) {
      idx[o] = ai;
      count[o++] = (a.count[i++] as number) + (b.count[j++] as number);
    } else if (ai < bj) {
      idx[o] = ai;
      count[o++] = a.count[i++] as number;
    } else {
      idx[o] = bj;
      count[o++] = b.count[j++] as number;
    }
  }
  return { idx: idx.subarray(0, o), count: count.subarray(0, o), total: a.total + b.total };
}

/** Empty running counts. */
export function createDense(): DenseCounts {
  return { counts: new Float64Array(1024), total: 0, offset: 0 };
}

/** Adds (sign 1) or removes (sign -1) a sparse histogram. */
export function addSparse(d: DenseCounts, s: SparseHistogram, sign: 1 | -1): void {
  const off = d.offset;
  let max = 0;
  for (let k = 0; k < s.idx.length; k++) max = Math.max(max, (s.idx[k] as number) - off);
  if (max >= d.counts.length) {
    const grown = new Float64Array(Math.max(max + 1, d.counts.length * 2));
    grown.set(d.counts);
    d.counts = grown;
  }
  const c = d.counts;
  for (let k = 0; k < s.idx.length; k++) {
    const i = (s.idx[k] as number) - off;
    c[i] = (c[i] as number) + sign * (s.count[k] as number);
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
    if (acc >= target) return ref.highestEquivalentValue(ref.valueFromIndex(i + d.offset));
  }
  return maxValue(d);
}

/** The highest recorded value (µs, highest equivalent value of the top bucket). */
export function maxValue(d: DenseCounts): number {
  for (let i = d.counts.length - 1; i >= 0; i--) {
    if ((d.counts[i] as number) > 0) return ref.highestEquivalentValue(ref.valueFromIndex(i + d.offset));
  }
  return 0;
}

/** The lowest recorded value (µs, lowest equivalent value of the bottom bucket). */
export function minValue(d: DenseCounts): number {
  for (let i = 0; i < d.counts.length; i++) {
    if ((d.counts[i] as number) > 0) return ref.lowestEquivalentValue(ref.valueFromIndex(i + d.offset));
  }
  return 0;
}

/** The mean (µs) from median equivalent values, as hdr-histogram-js computes it. */
export function meanValue(d: DenseCounts): number {
  if (d.total <= 0) return 0;
  let sum = 0;
  for (let i = 0; i < d.counts.length; i++) {
    const c = d.counts[i] as number;
    if (c > 0) sum += ref.medianEquivalentValue(ref.valueFromIndex(i + d.offset)) * c;
  }
  return sum / d.total;
}
