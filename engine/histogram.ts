/**
 * Latency histograms: HDR histograms of microseconds (hdr-histogram-js), never arrays of samples,
 * so memory stays flat however long a run is and any two histograms merge exactly (`add`).
 * The run directory stores them as `encodeIntoCompressedBase64` strings (core/run-format.ts).
 */
import { deflateSync } from 'node:zlib';
import hdr from 'hdr-histogram-js';
import type { Percentiles } from '../core/run-format.ts';

/** A latency histogram (µs). */
export type LatencyHistogram = hdr.Histogram;

/** Highest latency tracked exactly: one hour in µs; longer values auto-resize. */
const HIGHEST_US = 3_600_000_000;

/** A fresh histogram with 3 significant digits (0.1% precision), the precision every figure rests on. */
export function createLatencyHistogram(): LatencyHistogram {
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
  const t = h as unknown as IndexFields;
  if (t.unitMagnitude === 0 && typeof t.subBucketHalfCountMagnitude === 'number')
    t.countsArrayIndex = fastCountsArrayIndex;
  return h;
}

/** The fields of hdr-histogram-js's histograms its bucket index is computed from. */
interface IndexFields {
  unitMagnitude: number;
  subBucketHalfCountMagnitude: number;
  countsArrayIndex(value: number): number;
}

/** The library's own `countsArrayIndex` (from the prototype), for what the fast path does not cover. */
const libraryCountsArrayIndex = (hdr.JsHistogram.prototype as unknown as IndexFields).countsArrayIndex;

/**
 * The counts-array index of `value`, the library's arithmetic on integers: its version takes a
 * `Math.log2` and two `Math.pow` per recorded value (0.5 µs of the engine's ~18 µs per request in
 * the open model, which records four values per request: a `perf` profile of 2026-12-03), where
 * for a whole number of µs below 2^31 (35 minutes) the bucket is the position of the highest set
 * bit and the sub-bucket a shift. Anything else (fractions, longer values) takes the library's
 * path. engine/histogram.test.ts checks both give the same index over the whole range.
 */
function fastCountsArrayIndex(this: IndexFields, value: number): number {
  if (value >= 0 && value < 2147483648 && (value | 0) === value) {
    const half = this.subBucketHalfCountMagnitude;
    const b = 31 - Math.clz32(value) - half;
    const bucket = b > 0 ? b : 0;
    return ((bucket + 1) << half) + (value >>> bucket) - (1 << half);
  }
  return libraryCountsArrayIndex.call(this, value);
}

/**
 * Encodes a histogram for the run directory: byte for byte what hdr-histogram-js's
 * `encodeIntoCompressedBase64` writes (HdrHistogram's V2 compressed encoding, readable by every
 * HdrHistogram implementation), at about half its cost (22–47 µs against 24–101 µs for latencies
 * of milliseconds): the typed counts read directly, the scratch buffer reused, native base64.
 * Every step's two histograms are encoded every second, on the event loop the scheduler runs on.
 */
export function encodeHistogram(h: LatencyHistogram): string {
  const t = h as unknown as TypedCounts & {
    numberOfSignificantValueDigits: number;
    lowestDiscernibleValue: number;
    highestTrackableValue: number;
  };
  const counts = t._counts;
  if (!counts) return hdr.encodeIntoCompressedBase64(h);
  const limit = t.countsArrayIndex(h.maxValue) + 1;
  // Worst case 9 bytes a word (V2's ZigZag LEB128-64b9B), plus the 40-byte header.
  if (scratch.length < 40 + 9 * limit) scratch = Buffer.alloc(2 * (40 + 9 * limit));
  const b = scratch;
  const int64 = (at: number, v: number) => {
    b.writeUInt32BE(Math.floor(v / 2 ** 32) >>> 0, at);
    b.writeUInt32BE(v >>> 0, at + 4);
  };
  b.writeUInt32BE(V2_COOKIE, 0);
  b.writeUInt32BE(1, 8); // what hdr-histogram-js writes as normalizingIndexOffset (decoders skip it)
  b.writeUInt32BE(t.numberOfSignificantValueDigits, 12);
  int64(16, t.lowestDiscernibleValue);
  int64(24, t.highestTrackableValue);
  int64(32, 1); // integerToDoubleValueConversionRatio, as hdr-histogram-js writes it
  let p = 40;
  let i = 0;
  while (i < limit) {
    const count = counts[i++] as number;
    let zeros = 0;
    if (count === 0) {
      zeros = 1;
      while (i < limit && counts[i] === 0) {
        zeros++;
        i++;
      }
    }
    // ZigZag: a count c ≥ 0 is 2c; a run of z > 1 zeros is written as -z, i.e. 2z - 1.
    let v = zeros > 1 ? 2 * zeros - 1 : 2 * count;
    for (let k = 0; k < 8 && v >= 0x80; k++) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
  }
  b.writeUInt32BE(p - 40, 4);
  const compressed = deflateSync(b.subarray(0, p));
  const out = Buffer.allocUnsafe(8 + compressed.length);
  out.writeUInt32BE(V2_COMPRESSED_COOKIE, 0);
  out.writeUInt32BE(compressed.length, 4);
  compressed.copy(out, 8);
  return out.toString('base64');
}

/** HdrHistogram V2 encoding cookies, with the LSBit of the word-size nibble set (TLZE encoding). */
const V2_COOKIE = 0x1c849313;
const V2_COMPRESSED_COOKIE = 0x1c849314;
let scratch = Buffer.alloc(64 * 1024);

/** Decodes a histogram written by `encodeHistogram` (or by any HdrHistogram implementation). */
export function decodeHistogram(encoded: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** The parts of hdr-histogram-js's typed-array histograms `addHistogram` reads and updates. */
interface TypedCounts {
  _counts?: { [i: number]: number; length: number };
  countsArrayLength: number;
  subBucketCount: number;
  unitMagnitude: number;
  countsArrayIndex(value: number): number;
  setTotalCount(n: number): void;
  updatedMaxValue(v: number): void;
  updateMinNonZeroValue(v: number): void;
}

/**
 * `into.add(from)`, exactly, in a fraction of the time: the library walks all ~23,500 buckets of a
 * 1-hour, 3-digit histogram through a method call each (56 µs), this adds the typed count arrays
 * up to `from`'s highest recorded index (4 µs for latencies of milliseconds). The engine merges
 * every step's histograms into the run totals every second, so on a profile with a hundred tag
 * sets the difference is milliseconds of event-loop stall a second. Falls back to the library's
 * `add` whenever the layouts differ or `into` must grow.
 */
export function addHistogram(into: LatencyHistogram, from: LatencyHistogram): void {
  if (from.totalCount === 0) return;
  const a = into as unknown as TypedCounts;
  const b = from as unknown as TypedCounts;
  const ca = a._counts;
  const cb = b._counts;
  const last = b.countsArrayIndex(from.maxValue);
  if (
    !ca ||
    !cb ||
    a.subBucketCount !== b.subBucketCount ||
    a.unitMagnitude !== b.unitMagnitude ||
    last >= Math.min(a.countsArrayLength, ca.length)
  ) {
    into.add(from);
    return;
  }
  for (let i = 0; i <= last; i++) ca[i] = (ca[i] as number) + (cb[i] as number);
  a.setTotalCount(into.totalCount + from.totalCount);
  a.updatedMaxValue(Math.max(into.maxValue, from.maxValue));
  a.updateMinNonZeroValue(Math.min(into.minNonZeroValue, from.minNonZeroValue));
}

/** Merges encoded histograms exactly into a new histogram. */
export function mergeEncoded(encoded: Iterable<string>): LatencyHistogram {
  const out = createLatencyHistogram();
  for (const e of encoded) {
    addHistogram(out, decodeHistogram(e));
  }
  return out;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Percentiles of a µs histogram, in milliseconds (the unit of every summary). */
export function percentilesMs(h: LatencyHistogram): Percentiles {
  if (h.totalCount === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  return {
    count: h.totalCount,
    mean: round3(h.mean / 1000),
    p50: round3(h.getValueAtPercentile(50) / 1000),
    p90: round3(h.getValueAtPercentile(90) / 1000),
    p95: round3(h.getValueAtPercentile(95) / 1000),
    p99: round3(h.getValueAtPercentile(99) / 1000),
    // The top bucket's highest equivalent value, so a merged histogram reports what a direct one does.
    max: round3(h.getValueAtPercentile(100) / 1000),
  };
}
