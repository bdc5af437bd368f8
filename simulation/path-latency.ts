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
  const mean = maxMean(x.shift, x.tail, y.shift, y.tail);
  return { mean, variance: lastVariance };
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
function pathMean(p: PathNode): number {
  const kind = p.kind;
  if (kind === VISIT) {
    const at = p.at as VisitQueue;
    const slow = Math.max(0, p.cpuMs * (at.stepSlowdown - 1));
    const random = Math.max(0, at.waitMs - at.backlogWaitMs);
    lastVariance = slow * slow + random * random;
    return p.cpuMs + at.backlogWaitMs + slow + random;
  }
  if (kind === EXTERNAL) {
    lastVariance = p.tail * p.tail;
    return p.shift + p.tail;
  }
  const parts = p.parts;
  if (kind === SERIES) {
    let mean = 0;
    let variance = 0;
    for (let i = 0; i < parts.length; i++) {
      mean += pathMean(parts[i] as PathNode);
      variance += lastVariance;
    }
    lastVariance = variance;
    return mean;
  }
  let mean = pathMean(parts[0] as PathNode);
  let variance = lastVariance;
  for (let i = 1; i < parts.length; i++) {
    const m = pathMean(parts[i] as PathNode);
    const a = Math.sqrt(variance);
    const b = Math.sqrt(lastVariance);
    mean = maxMean(Math.max(0, mean - a), a, Math.max(0, m - b), b);
    variance = lastVariance;
  }
  lastVariance = variance;
  return mean;
}

const VISIT = 0;
const EXTERNAL = 1;
const SERIES = 2;
const PARALLEL = 3;

/**
 * A bound path compiled for the hot path: every node of one shape (a numeric kind, the same
 * fields), so the evaluation's property reads stay monomorphic at every step of every (scenario, step).
 */
export class PathNode {
  constructor(
    readonly kind: number,
    readonly at: VisitQueue | null,
    readonly cpuMs: number,
    readonly shift: number,
    readonly tail: number,
    readonly parts: PathNode[],
  ) {}
}

/** Compiles a bound path once (simulate-state.ts, per (scenario, step)). */
export function compilePath(p: BoundPath): PathNode {
  switch (p.kind) {
    case 'visit':
      return new PathNode(VISIT, p.at, p.cpuMs, 0, 0, []);
    case 'external':
      return new PathNode(EXTERNAL, null, 0, p.shift, p.tail, []);
    case 'series':
      return new PathNode(SERIES, null, 0, 0, 0, p.parts.map(compilePath));
    case 'parallel':
      return new PathNode(PARALLEL, null, 0, 0, 0, p.parts.map(compilePath));
  }
}

/**
 * {@link maxOfTwo} without allocating (the hot path): returns the mean of max(a + Exp(α), b + Exp(β))
 * and leaves its variance in `lastVariance`.
 */
function maxMean(xShift: number, xTail: number, yShift: number, yTail: number): number {
  const swap = xShift > yShift;
  const a = swap ? yShift : xShift;
  const alpha = swap ? yTail : xTail;
  const b = swap ? xShift : yShift;
  const beta = swap ? xTail : yTail;
  const p = alpha > 0 ? Math.exp(-(b - a) / alpha) : 0;
  const gamma = alpha + beta > 0 ? (alpha * beta) / (alpha + beta) : 0;
  const mean = b + beta + p * (alpha - gamma);
  const second =
    b * b +
    p * (2 * b * alpha + 2 * alpha * alpha) +
    2 * b * beta +
    2 * beta * beta -
    p * (2 * b * gamma + 2 * gamma * gamma);
  lastVariance = Math.max(0, second - mean * mean);
  return mean;
}

/** The moments of a request's latency along its path this step (see `pathMean`). */
export function pathMoments(p: BoundPath | PathNode): LatencyMoments {
  const mean = pathMean(p instanceof PathNode ? p : compilePath(p));
  return { mean, variance: lastVariance };
}

/** A request's latency along its path this step as shift + Exp(tail), matched on mean and variance. */
export function pathLatency(p: PathNode, out: { shift: number; tail: number }): void {
  const mean = pathMean(p);
  const tail = Math.sqrt(Math.max(0, lastVariance));
  out.shift = Math.max(0, mean - tail);
  out.tail = tail;
}
