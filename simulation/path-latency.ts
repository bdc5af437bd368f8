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
  return { mean, variance: scratch[LAST_VARIANCE]! };
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
  /**
   * The share of its requests that wait at all (simulation/queueing.ts `waitShape`): the random part
   * of the wait, `waitMs − backlogWaitMs`, falls on them only (undefined: every request, as one
   * exponential of the mean).
   */
  waitProb?: number;
}

/** A request's path with each visit bound to its deployable's state (built once per step of the plan). */
export type BoundPath =
  | { kind: 'visit'; at: VisitQueue; cpuMs: number }
  | { kind: 'external'; shift: number; tail: number }
  | { kind: 'series'; parts: BoundPath[] }
  | { kind: 'parallel'; parts: BoundPath[] };

/**
 * The walks' scratch slots, in one typed array: the variance of the last {@link pathMean} (or
 * `maxMean`) call, and `pathBoth`'s scale and other outputs. A module-level `let` holding a double
 * is a context slot, and V8 (Node 20) boxes every double stored there in a new heap number: these
 * walks run for every path at every step (a sampling heap profile: about 0.25 of the 5 GB a 16-trial
 * sizing search at event scale allocated).
 */
const scratch = new Float64Array(5);
/** The variance of the last {@link pathMean} call. */
const LAST_VARIANCE = 0;
/** The scale of the random waits in `pathBoth`'s second component (1/P). */
const SCALE_WAITED = 1;
/** `pathBoth`'s other outputs: the first component's variance, the second's mean and variance. */
const VAR0 = 2;
const MEAN1 = 3;
const VAR1 = 4;

/**
 * The mean of a request's latency along its path this step; its variance is left in `scratch[LAST_VARIANCE]`.
 * A visit is its CPU-ms at full speed plus the backlog (its floor), a spent quota's slowdown and the
 * queue's random wait (exponential, independent of the other visits').
 */
function pathMean(p: PathNode): number {
  const kind = p.kind;
  if (kind === VISIT) {
    const at = p.at as VisitQueue;
    const slow = Math.max(0, p.cpuMs * (at.stepSlowdown - 1));
    const random = Math.max(0, at.waitMs - at.backlogWaitMs);
    scratch[LAST_VARIANCE] = slow * slow + random * random;
    return p.cpuMs + at.backlogWaitMs + slow + random;
  }
  if (kind === EXTERNAL) {
    scratch[LAST_VARIANCE] = p.tail * p.tail;
    return p.shift + p.tail;
  }
  const parts = p.parts;
  if (kind === SERIES) {
    let mean = 0;
    let variance = 0;
    for (let i = 0; i < parts.length; i++) {
      mean += pathMean(parts[i] as PathNode);
      variance += scratch[LAST_VARIANCE]!;
    }
    scratch[LAST_VARIANCE] = variance;
    return mean;
  }
  let mean = pathMean(parts[0] as PathNode);
  let variance = scratch[LAST_VARIANCE]!;
  for (let i = 1; i < parts.length; i++) {
    const m = pathMean(parts[i] as PathNode);
    const a = Math.sqrt(variance);
    const b = Math.sqrt(scratch[LAST_VARIANCE]!);
    mean = maxMean(Math.max(0, mean - a), a, Math.max(0, m - b), b);
    variance = scratch[LAST_VARIANCE]!;
  }
  scratch[LAST_VARIANCE] = variance;
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
  /** The deployables of every visit under this node, in a flat list (built at the first `pathLatencySplit`). */
  visits: VisitQueue[] | null = null;
  constructor(
    readonly kind: number,
    readonly at: VisitQueue | null,
    readonly cpuMs: number,
    readonly shift: number,
    readonly tail: number,
    readonly parts: PathNode[],
  ) {}
}

/**
 * A key that two paths share exactly when they are the same tree of the same visits (the same
 * deployables, `idOf` naming each, with the same CPU-ms) and external waits: their latency at a step
 * is then the same, computed once (simulate-step.ts `recordFlat`).
 */
export function pathKey(p: PathNode, idOf: (at: VisitQueue) => number): string {
  if (p.kind === VISIT) return `v${idOf(p.at as VisitQueue)}:${p.cpuMs}`;
  if (p.kind === EXTERNAL) return `e${p.shift}:${p.tail}`;
  return `${p.kind === SERIES ? 's' : 'p'}(${p.parts.map((q) => pathKey(q, idOf)).join(',')})`;
}

/** The deployables of the visits under a node, depth first. */
function visitsOf(p: PathNode, into: VisitQueue[] = []): VisitQueue[] {
  if (p.kind === VISIT) into.push(p.at as VisitQueue);
  else for (const q of p.parts) visitsOf(q, into);
  return into;
}

/**
 * {@link pathMean} for both components of `pathLatencySplit` in one walk: the first with no random
 * wait (returned, its variance in `scratch[VAR0]`), the second with each visit's random wait ×
 * `scratch[SCALE_WAITED]` (its mean and variance in `scratch[MEAN1]`, `scratch[VAR1]`).
 */
function pathBoth(p: PathNode): number {
  const kind = p.kind;
  if (kind === VISIT) {
    const at = p.at as VisitQueue;
    const slow = Math.max(0, p.cpuMs * (at.stepSlowdown - 1));
    const random = Math.max(0, at.waitMs - at.backlogWaitMs) * scratch[SCALE_WAITED]!;
    const base = p.cpuMs + at.backlogWaitMs + slow;
    scratch[VAR0] = slow * slow;
    scratch[MEAN1] = base + random;
    scratch[VAR1] = scratch[VAR0]! + random * random;
    return base;
  }
  if (kind === EXTERNAL) {
    const v = p.tail * p.tail;
    scratch[VAR0] = v;
    scratch[VAR1] = v;
    scratch[MEAN1] = p.shift + p.tail;
    return scratch[MEAN1]!;
  }
  const parts = p.parts;
  let m0 = pathBoth(parts[0] as PathNode);
  let v0 = scratch[VAR0]!;
  let m1 = scratch[MEAN1]!;
  let v1 = scratch[VAR1]!;
  if (kind === SERIES) {
    for (let i = 1; i < parts.length; i++) {
      m0 += pathBoth(parts[i] as PathNode);
      v0 += scratch[VAR0]!;
      m1 += scratch[MEAN1]!;
      v1 += scratch[VAR1]!;
    }
  } else {
    for (let i = 1; i < parts.length; i++) {
      const n0 = pathBoth(parts[i] as PathNode);
      const w0 = scratch[VAR0]!;
      const n1 = scratch[MEAN1]!;
      const w1 = scratch[VAR1]!;
      const a0 = Math.sqrt(v0);
      const b0 = Math.sqrt(w0);
      m0 = maxMean(Math.max(0, m0 - a0), a0, Math.max(0, n0 - b0), b0);
      v0 = scratch[LAST_VARIANCE]!;
      const a1 = Math.sqrt(v1);
      const b1 = Math.sqrt(w1);
      m1 = maxMean(Math.max(0, m1 - a1), a1, Math.max(0, n1 - b1), b1);
      v1 = scratch[LAST_VARIANCE]!;
    }
  }
  scratch[VAR0] = v0;
  scratch[MEAN1] = m1;
  scratch[VAR1] = v1;
  return m0;
}

/**
 * The visit a path enters by when something follows it (a series starting with a visit): its
 * deployable's balancer counts the request outstanding for the rest of the path. Null otherwise.
 */
export function entryVisit(p: PathNode): PathNode | null {
  if (p.kind !== SERIES || p.parts.length < 2) return null;
  const first = p.parts[0] as PathNode;
  return first.kind === VISIT ? first : null;
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
 * and leaves its variance in `scratch[LAST_VARIANCE]`.
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
  scratch[LAST_VARIANCE] = Math.max(0, second - mean * mean);
  return mean;
}

/** The moments of a request's latency along its path this step (see `pathMean`). */
export function pathMoments(p: BoundPath | PathNode): LatencyMoments {
  const mean = pathMean(p instanceof PathNode ? p : compilePath(p));
  return { mean, variance: scratch[LAST_VARIANCE]! };
}

/** A request's latency along its path this step as shift + Exp(tail), matched on mean and variance. */
export function pathLatency(p: PathNode, out: { shift: number; tail: number }): void {
  const mean = pathMean(p);
  const tail = Math.sqrt(Math.max(0, scratch[LAST_VARIANCE]!));
  out.shift = Math.max(0, mean - tail);
  out.tail = tail;
}

/**
 * Below this chance that a request waited anywhere, or above one minus it, a path is one component:
 * one exponential of the mean as before (`pathLatency`), the other kind being under 0.1% of its
 * requests (at event scale most steps are there: every visit waits at a saturated pool, or none at a
 * large idle one; one walk and one component instead of two keeps the simulator's speed).
 */
const FOLD_CHANCE = 1e-3;

/**
 * A request's latency along its path this step as two shifted exponentials (docs/simulation.md,
 * session 10): the requests that waited at no visit (`none`: their CPU, backlog and spent quota
 * only) and those that waited at one or more (`waited`), with the chance P of the latter returned.
 * A visit's random wait falls only on the share `waitProb` of its requests (a whole path: P = 1 −
 * Π(1 − waitProb)); in `waited` each visit's mean random wait is its mean over P (the mean of the
 * whole is kept: (1 − P)·none + P·waited = the one-component mean), so a path of one visit gets
 * exactly its wait given a wait. Each component is matched on its mean and variance as `pathLatency`.
 * When P is below 0.1% or above 99.9% (or a visit has no `waitProb`: it always waits) the path is one
 * component, `pathLatency`'s, returned in both with P = 0 (all of the step's requests in `none`).
 */
export function pathLatencySplit(
  p: PathNode,
  none: { shift: number; tail: number },
  waited: { shift: number; tail: number },
): number {
  p.visits ??= visitsOf(p);
  const visits = p.visits;
  let noWaitChance = 1;
  for (let i = 0; i < visits.length; i++) {
    const q = (visits[i] as VisitQueue).waitProb;
    noWaitChance *= q === undefined ? 0 : 1 - q;
  }
  const chance = 1 - noWaitChance;
  if (chance < FOLD_CHANCE || chance > 1 - FOLD_CHANCE) {
    pathLatency(p, none);
    waited.shift = none.shift;
    waited.tail = none.tail;
    return 0;
  }
  scratch[SCALE_WAITED] = 1 / chance;
  const mean = pathBoth(p);
  let tail = Math.sqrt(Math.max(0, scratch[VAR0]!));
  none.shift = Math.max(0, mean - tail);
  none.tail = tail;
  tail = Math.sqrt(Math.max(0, scratch[VAR1]!));
  waited.shift = Math.max(0, scratch[MEAN1]! - tail);
  waited.tail = tail;
  return chance;
}
