/**
 * A request's latency along its path (simulation/call-path.ts) from each visit's latency, as the
 * shifted exponential (shift + Exp(tail)) the rest of the simulator records (docs/simulation.md
 * "Latency model"). Independent parts in series add their means and their variances; parallel legs
 * take the maximum of their distributions (fork-join: the expected maximum, not the maximum of the
 * means, so two equal legs cost more than one); the result is matched on its mean and variance:
 * tail = standard deviation, shift = mean − tail (never below the parts' own shifts in a series).
 * Pure.
 */

/** A latency as mean and variance (ms, ms²). */
export interface LatencyMoments {
  mean: number;
  variance: number;
}

/** The moments of shift + Exp(tail). */
export function momentsOf(shift: number, tail: number): LatencyMoments {
  return { mean: shift + tail, variance: tail * tail };
}

/** Back to a shifted exponential with the same mean and variance. */
export function shiftedExponentialOf(m: LatencyMoments): { shift: number; tail: number } {
  const tail = Math.sqrt(Math.max(0, m.variance));
  return { shift: Math.max(0, m.mean - tail), tail };
}

/**
 * The mean and variance of max(a + Exp(α), b + Exp(β)) for independent legs (closed form; a leg with
 * no tail is a constant). With a ≤ b: E[M] = b + β + P·α²/(α + β), P = e^(−(b−a)/α), and
 * E[M²] = b² + P(2bα + 2α²) + 2bβ + 2β² − P(2bγ + 2γ²), γ = αβ/(α + β).
 */
export function maxOfTwo(
  x: { shift: number; tail: number },
  y: { shift: number; tail: number },
): LatencyMoments {
  const [lo, hi] = x.shift <= y.shift ? [x, y] : [y, x];
  const a = lo.shift;
  const alpha = lo.tail;
  const b = hi.shift;
  const beta = hi.tail;
  const p = alpha > 0 ? Math.exp(-(b - a) / alpha) : 0;
  const gamma = alpha + beta > 0 ? (alpha * beta) / (alpha + beta) : 0;
  const mean = b + beta + p * (alpha - gamma);
  const second =
    b * b +
    p * (2 * b * alpha + 2 * alpha * alpha) +
    2 * b * beta +
    2 * beta * beta -
    p * (2 * b * gamma + 2 * gamma * gamma);
  return { mean, variance: Math.max(0, second - mean * mean) };
}

/** Parallel legs: the maximum, folded pairwise (each partial maximum matched as a shifted exponential). */
export function maxOf(legs: readonly LatencyMoments[]): LatencyMoments {
  let acc = legs[0] ?? { mean: 0, variance: 0 };
  for (let i = 1; i < legs.length; i++)
    acc = maxOfTwo(shiftedExponentialOf(acc), shiftedExponentialOf(legs[i] as LatencyMoments));
  return acc;
}

/** What a visit's latency depends on: its deployable's state this step (a SimService satisfies it). */
export interface VisitQueue {
  /** Mean wait in its queue (ms), the backlog included. */
  waitMs: number;
  /** The part of the wait every request of the step waits behind (a fluid backlog; ms). */
  backlogWaitMs: number;
  /** Wall ms per CPU-ms of service (1 at full speed; more on a spent CFS quota). */
  stepSlowdown: number;
}

/** A request's path with each visit bound to its deployable's state (built once per step of the plan). */
export type BoundPath =
  | { kind: 'visit'; at: VisitQueue; cpuMs: number }
  | { kind: 'external'; shift: number; tail: number }
  | { kind: 'series'; parts: BoundPath[] }
  | { kind: 'parallel'; parts: BoundPath[] };

/** The variance of the last {@link pathMean} call (a scratch slot: the hot path allocates nothing). */
let lastVariance = 0;

/**
 * The mean of a request's latency along its path this step; its variance is left in `lastVariance`.
 * A visit is its CPU-ms at full speed plus the backlog (its floor), a spent quota's slowdown and the
 * queue's random wait (exponential, independent of the other visits').
 */
function pathMean(p: BoundPath): number {
  switch (p.kind) {
    case 'visit': {
      const slow = Math.max(0, p.cpuMs * (p.at.stepSlowdown - 1));
      const random = Math.max(0, p.at.waitMs - p.at.backlogWaitMs);
      lastVariance = slow * slow + random * random;
      return p.cpuMs + p.at.backlogWaitMs + slow + random;
    }
    case 'external':
      lastVariance = p.tail * p.tail;
      return p.shift + p.tail;
    case 'series': {
      let mean = 0;
      let variance = 0;
      for (const q of p.parts) {
        mean += pathMean(q);
        variance += lastVariance;
      }
      lastVariance = variance;
      return mean;
    }
    case 'parallel': {
      let mean = pathMean(p.parts[0] as BoundPath);
      let variance = lastVariance;
      for (let i = 1; i < p.parts.length; i++) {
        const m = pathMean(p.parts[i] as BoundPath);
        const v = lastVariance;
        const a = Math.sqrt(variance);
        const b = Math.sqrt(v);
        const r = maxOfTwo({ shift: Math.max(0, mean - a), tail: a }, { shift: Math.max(0, m - b), tail: b });
        mean = r.mean;
        variance = r.variance;
      }
      lastVariance = variance;
      return mean;
    }
  }
}

/** The moments of a request's latency along its path this step (see `pathMean`). */
export function pathMoments(p: BoundPath): LatencyMoments {
  const mean = pathMean(p);
  return { mean, variance: lastVariance };
}

/** A request's latency along its path this step as shift + Exp(tail), matched on mean and variance. */
export function pathLatency(p: BoundPath, out: { shift: number; tail: number }): void {
  const mean = pathMean(p);
  const tail = Math.sqrt(Math.max(0, lastVariance));
  out.shift = Math.max(0, mean - tail);
  out.tail = tail;
}
