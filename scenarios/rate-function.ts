/**
 * Piecewise-linear functions of event time: the one representation every rate in peakday uses.
 * A profile's shape compiles to one (scenarios/compile.ts); the engine turns one into arrival
 * times by inverting its cumulative exactly (`arrivalTimes`); the k6 exporter, the simulator and
 * the plot read the same breakpoints. Everything here is pure and allocation-light.
 *
 * A function is `{times, values}`: strictly increasing breakpoints and the value at each; between
 * breakpoints the value is linear, outside them it is held at the end values.
 */
import type { Rng } from '../core/rng.ts';

/** A piecewise-linear function: linear between strictly increasing `times`, constant outside. */
export interface PiecewiseLinear {
  times: number[];
  values: number[];
}

/** Two breakpoints closer than this (event seconds) are the same breakpoint. */
export const TIME_EPSILON = 1e-6;

/** Index i of the segment [times[i], times[i+1]] containing t (clamped to the valid range). */
function segmentIndex(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length - 1;
  if (hi <= 0 || t <= (times[0] as number)) return 0;
  if (t >= (times[hi] as number)) return hi - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) <= t) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The value at `t` (linear between breakpoints, held outside them). Where two breakpoints share a
 * time (a step), `side` picks the value after it (`'right'`, the default) or the limit from the left
 * (`'left'`), so a caller looking for a peak can read both sides of a step.
 */
export function evaluate(f: PiecewiseLinear, t: number, side: 'left' | 'right' = 'right'): number {
  const { times, values } = f;
  const n = times.length;
  if (n === 0) return 0;
  if (side === 'left') return leftLimit(f, t);
  if (t <= (times[0] as number)) return values[0] as number;
  if (t >= (times[n - 1] as number)) return values[n - 1] as number;
  const i = segmentIndex(times, t);
  const t0 = times[i] as number;
  const t1 = times[i + 1] as number;
  const v0 = values[i] as number;
  const v1 = values[i + 1] as number;
  return t1 === t0 ? v1 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
}

/** The limit of `f` from the left at `t`: the first of several breakpoints at `t`, else `evaluate`. */
function leftLimit(f: PiecewiseLinear, t: number): number {
  const { times, values } = f;
  const n = times.length;
  if (t <= (times[0] as number)) return values[0] as number;
  if (t > (times[n - 1] as number)) return values[n - 1] as number;
  // First index with times[i] >= t.
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  const t1 = times[lo] as number;
  if (t1 === t) return values[lo] as number;
  const t0 = times[lo - 1] as number;
  const v0 = values[lo - 1] as number;
  const v1 = values[lo] as number;
  return v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
}

/** Exact integral of `f` over [a, b] (a ≤ b), held constant outside its breakpoints. */
export function integrate(f: PiecewiseLinear, a: number, b: number): number {
  if (b <= a || f.times.length === 0) return 0;
  const { times } = f;
  let total = 0;
  let prevT = a;
  let prevV = evaluate(f, a);
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number;
    if (t <= a) continue;
    if (t >= b) break;
    const v = f.values[i] as number;
    total += ((prevV + v) / 2) * (t - prevT);
    prevT = t;
    prevV = v;
  }
  const vb = evaluate(f, b);
  total += ((prevV + vb) / 2) * (b - prevT);
  return total;
}

/** The largest value of `f` over [a, b] (attained at a breakpoint or an end). */
export function maxOver(f: PiecewiseLinear, a: number, b: number): number {
  let m = Math.max(evaluate(f, a), evaluate(f, b));
  for (let i = 0; i < f.times.length; i++) {
    const t = f.times[i] as number;
    if (t > a && t < b) m = Math.max(m, f.values[i] as number);
  }
  return m;
}

/** Sorted union of breakpoint lists, merging times within TIME_EPSILON. */
export function unionTimes(lists: readonly (readonly number[])[]): number[] {
  const all: number[] = [];
  for (const l of lists) for (const t of l) all.push(t);
  all.sort((x, y) => x - y);
  const out: number[] = [];
  for (const t of all) {
    if (out.length === 0 || t - (out[out.length - 1] as number) > TIME_EPSILON) out.push(t);
  }
  return out;
}

/** Splits every gap longer than `maxStep` so that products of linear pieces stay close to exact. */
export function refineTimes(times: readonly number[], maxStep: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number;
    out.push(t);
    const next = times[i + 1];
    if (next === undefined) break;
    const gap = next - t;
    if (gap > maxStep) {
      const n = Math.ceil(gap / maxStep);
      for (let k = 1; k < n; k++) out.push(t + (gap * k) / n);
    }
  }
  return out;
}

/** Samples `f` on `times`. */
export function sample(f: PiecewiseLinear, times: readonly number[]): number[] {
  return times.map((t) => evaluate(f, t));
}

/** Restricts `f` to [a, b], adding breakpoints at both ends. */
export function restrict(f: PiecewiseLinear, a: number, b: number): PiecewiseLinear {
  const times = unionTimes([[a, b], f.times.filter((t) => t > a && t < b)]);
  return { times, values: sample(f, times) };
}

/** Builds a function from points, checking that times increase. */
export function fromPoints(points: readonly (readonly [number, number])[]): PiecewiseLinear {
  const times: number[] = [];
  const values: number[] = [];
  for (const [t, v] of points) {
    if (times.length > 0 && t <= (times[times.length - 1] as number) + TIME_EPSILON) {
      // Same instant twice: keep the later value (a step), nudged by the epsilon.
      if (t < (times[times.length - 1] as number) - TIME_EPSILON) {
        throw new RangeError(`breakpoints must not go back in time (${t})`);
      }
      values[values.length - 1] = v;
      continue;
    }
    times.push(t);
    values.push(v);
  }
  return { times, values };
}

/** The constant function `v`. */
export function constant(v: number): PiecewiseLinear {
  return { times: [0], values: [v] };
}

/**
 * Wall-clock arrival offsets (seconds since the run started) for a rate function whose `times` are
 * event seconds and whose `values` are iterations per wall second. `even` places the k-th arrival
 * where the cumulative count reaches k − ½ (so a range with N expected iterations yields N, rounded);
 * `poisson` draws unit-mean exponential gaps in cumulative count (a non-homogeneous Poisson process,
 * by time-rescaling), using `rng`. Exact inversion of the piecewise-quadratic cumulative.
 */
export function* arrivalTimes(
  f: PiecewiseLinear,
  opts: { timeScale: number; eventStart: number; eventEnd: number; mode?: 'even' | 'poisson'; rng?: Rng },
): Generator<number> {
  const mode = opts.mode ?? 'even';
  if (mode === 'poisson' && !opts.rng) throw new RangeError('poisson arrivals need an rng');
  const g = restrict(f, opts.eventStart, opts.eventEnd);
  const ts = opts.timeScale;
  let target = mode === 'even' ? 0.5 : (opts.rng as Rng).exponential(1);
  let cumBefore = 0;
  for (let i = 0; i + 1 < g.times.length; i++) {
    const w0 = ((g.times[i] as number) - opts.eventStart) / ts;
    const w1 = ((g.times[i + 1] as number) - opts.eventStart) / ts;
    const r0 = Math.max(0, g.values[i] as number);
    const r1 = Math.max(0, g.values[i + 1] as number);
    const dw = w1 - w0;
    const segTotal = ((r0 + r1) / 2) * dw;
    while (target <= cumBefore + segTotal) {
      const y = target - cumBefore;
      // Solve r0 x + (r1 - r0)/(2 dw) x^2 = y for x in [0, dw].
      const a = (r1 - r0) / (2 * dw);
      let x: number;
      if (Math.abs(a) < 1e-12) x = r0 > 0 ? y / r0 : 0;
      else {
        const disc = Math.max(0, r0 * r0 + 4 * a * y);
        x = (2 * y) / (r0 + Math.sqrt(disc));
      }
      yield w0 + Math.min(Math.max(x, 0), dw);
      target += mode === 'even' ? 1 : (opts.rng as Rng).exponential(1);
    }
    cumBefore += segTotal;
  }
}
