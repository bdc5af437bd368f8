/**
 * The queueing approximations the simulator uses for latency, in one place so they are documented
 * and tested (docs/simulation.md "Latency model").
 *
 * A deployable with `tasks` healthy tasks of `slots` virtual CPUs each is an M/M/c queue per task
 * (the load balancer spreads evenly) whose length changes over time (`transientQueueStep`, the
 * pointwise stationary fluid flow approximation): it builds while the load is high, settles at the
 * steady-state M/M/c length below capacity and grows as a fluid backlog above it:
 * - service time S = demand × slowdown (a 0.25-vCPU task runs its one virtual CPU at quarter speed
 *   once its CPU quota is spent, as the local replica's capacity emulator does:
 *   reference-stack/capacity/emulator.ts);
 * - waiting, by Little's law on the queue: (requests in system − busy servers) ÷ throughput; the
 *   part up to Sakasegawa's steady-state M/M/c wait `mmcWait` at the step's utilisation is random
 *   (an exponential tail), the rest is a backlog every request of the step waits behind (a floor).
 * A request's latency is modelled as a shifted exponential: a deterministic part (half the service
 * time, the floor no request beats) plus an exponential tail with the rest of the mean. Its
 * percentiles are closed-form, and mixtures of such components (periods, steps) are solved exactly
 * by bisection on their summed CDFs.
 */

/** Mean waiting time (same unit as `serviceTime`) in an M/M/c queue at utilisation `rho`. */
export function mmcWait(serviceTime: number, servers: number, rho: number): number {
  if (!(rho > 0) || servers <= 0) return 0;
  const r = Math.min(rho, 0.98);
  return (serviceTime * r ** (Math.sqrt(2 * (servers + 1)) - 1)) / (servers * (1 - r));
}

/**
 * The ca² of superposed arrival streams (Whitt's QNA, 1983): their request-weighted mean ca² toward 1
 * (Poisson) the more streams and the lighter the load, `w·meanCa2 + (1 − w)` with
 * `w = 1/(1 + 4(1 − ρ)²(ν − 1))`, ν the effective number of streams (1 / Σ share²).
 */
export function superposedCa2(meanCa2: number, nu: number, rho: number): number {
  const w = 1 / (1 + 4 * (1 - Math.min(1, rho)) ** 2 * Math.max(0, nu - 1));
  return w * meanCa2 + (1 - w);
}

/** A latency distribution: `shift + Exp(mean = tail)`, in ms. */
export interface ShiftedExp {
  shift: number;
  tail: number;
}

/** The p-quantile (0 < p < 1) of a shifted exponential. */
export function shiftedExpQuantile(d: ShiftedExp, p: number): number {
  return d.shift + (d.tail > 0 ? -d.tail * Math.log(1 - p) : 0);
}

/** Mean of a shifted exponential. */
export function shiftedExpMean(d: ShiftedExp): number {
  return d.shift + d.tail;
}

/** Weighted mixture of shifted exponentials. */
export interface MixtureComponent extends ShiftedExp {
  weight: number;
}

/**
 * A mixture packed into typed arrays for repeated quantiles: a run's summary solves five quantiles
 * over every interval's component (hundreds of thousands at event scale), so the CDF walks flat
 * arrays instead of objects. Same bisection, same tolerance as `mixtureQuantile`.
 */
export interface PackedMixture {
  /** The p-quantile (0 < p < 1). */
  quantile(p: number): number;
  /** Total weight (the request count). */
  total: number;
}

/** Packs components (those with positive weight) for `PackedMixture.quantile`. */
export function packMixture(components: readonly MixtureComponent[]): PackedMixture {
  let n = 0;
  for (const c of components) if (c.weight > 0) n++;
  const shift = new Float64Array(n);
  const tail = new Float64Array(n);
  const weight = new Float64Array(n);
  let total = 0;
  let i = 0;
  for (const c of components) {
    if (c.weight <= 0) continue;
    shift[i] = c.shift;
    tail[i] = c.tail;
    weight[i] = c.weight;
    total += c.weight;
    i++;
  }
  return { total, quantile: (p) => packedQuantile(shift, tail, weight, n, total, p) };
}

/**
 * The p-quantile (0 < p < 1) of the mixture of the first `n` components in flat arrays (positive
 * weights summing to `total`): {@link packMixture}'s, also for callers that keep their components in
 * arrays of their own (a series interval's: simulate-series.ts, no allocation).
 */
export function packedQuantile(
  shift: Float64Array,
  tail: Float64Array,
  weight: Float64Array,
  n: number,
  total: number,
  p: number,
): number {
  if (n === 0) return 0;
  // One component (a series interval): closed form, no bisection.
  if (n === 1) return shiftedExpQuantile({ shift: shift[0] as number, tail: tail[0] as number }, p);
  let hi = 0;
  const q = Math.min(1 - 1e-12, 1 - (1 - p) / 1e6);
  for (let j = 0; j < n; j++)
    hi = Math.max(hi, shiftedExpQuantile({ shift: shift[j] as number, tail: tail[j] as number }, q));
  // Safeguarded Newton on the CDF (its density comes from the same exponentials), inside a
  // bracket [lo, hi] with cdf(lo) < p ≤ cdf(hi); a step that leaves the bracket bisects. Near the
  // root, the next point is set just past the Newton estimate so that the bracket closes from the
  // other side too. Same answer as bisection (the bracket's upper end, within 0.01 ms) in a
  // handful of passes over the components instead of about twenty.
  let lo = 0;
  let x = hi / 2;
  for (let k = 0; k < 100 && hi - lo > 0.01; k++) {
    let F = 0;
    let f = 0;
    for (let j = 0; j < n; j++) {
      const sj = shift[j] as number;
      if (x < sj) continue;
      const t = tail[j] as number;
      const w = weight[j] as number;
      if (t > 0) {
        const e = Math.exp(-(x - sj) / t);
        F += w * (1 - e);
        f += (w * e) / t;
      } else F += w;
    }
    F /= total;
    f /= total;
    if (F < p) lo = x;
    else hi = x;
    let next = f > 0 ? x + (p - F) / f : Number.NaN;
    if (Math.abs(next - x) < 0.004) next += F < p ? 0.004 : -0.004;
    x = next > lo && next < hi ? next : (lo + hi) / 2;
  }
  return hi;
}

/** The p-quantile of a weighted mixture (exact for one component, else up to the bisection tolerance, 0.01 ms). */
export function mixtureQuantile(components: readonly MixtureComponent[], p: number): number {
  return packMixture(components).quantile(p);
}

/** The largest value a mixture is expected to show among `count` samples (its 1 − 1/count quantile). */
export function mixtureMax(components: readonly MixtureComponent[], count: number): number {
  if (count <= 1) return mixtureQuantile(components, 0.5);
  return mixtureQuantile(components, Math.min(1 - 1e-9, 1 - 1 / count));
}

/**
 * Requests in an M/M/c system at utilisation `rho` in steady state: c·ρ busy plus the Sakasegawa
 * queue length Lq = ρ^√(2(c+1)) / (1 − ρ) (exact for c = 1: ρ / (1 − ρ) in all).
 */
export function mmcInSystem(servers: number, rho: number): number {
  if (!(rho > 0)) return 0;
  if (servers <= 1) return rho / (1 - rho);
  return servers * rho + rho ** Math.sqrt(2 * (servers + 1)) / (1 - rho);
}

/**
 * Requests waiting (not in service) in an M/M/C queue at utilisation `rho` < 1, exactly (Erlang's C:
 * P(wait) = B / (1 − ρ(1 − B)) with B = Erlang's B(C, Cρ); Lq = P(wait)·ρ / (1 − ρ)).
 */
export function erlangCWaiting(servers: number, rho: number): number {
  if (!(rho > 0) || servers <= 0) return 0;
  if (rho >= 1) return Number.POSITIVE_INFINITY;
  const c = Math.max(1, Math.round(servers));
  const b = erlangB(c, c * rho);
  return ((b / (1 - rho * (1 - b))) * rho) / (1 - rho);
}

/** A finite-source queue's state at one arrival ratio (see {@link finiteSourceQueue}). */
export interface FiniteSourceState {
  /** Utilisation of the servers: E[min(k, C)] / C. */
  rho: number;
  /** Mean requests at the station (waiting and in service), and waiting only. */
  inSystem: number;
  waiting: number;
  /** dρ / d ln r (for Newton on the arrival ratio). */
  slope: number;
  /** The share of arrivals that find every server busy (they wait): arrival-weighted P(k ≥ C). */
  waitProb: number;
}

const fsScratch: FiniteSourceState = { rho: 0, inSystem: 0, waiting: 0, slope: 0, waitProb: 0 };

/** States a chain with an open stream is followed to at most (its terms shrink geometrically past N). */
const MAX_CHAIN_STATES = 20_000;

/**
 * The finite-source (machine-repairman) queue M/M/C//N, exactly: N sources, each with at most one
 * request outstanding, send one after an exponential think time of mean Z; C servers of mean service
 * time S; `r` = S/Z. A birth–death chain on the requests at the station k = 0..⌈N⌉: arrivals
 * (N − k)·r/S, departures min(k, C)/S, so p(k) ∝ p(k − 1)·(N − k + 1)·r / min(k, C) (a fractional
 * N gives the last state the fractional rate: continuous in N). Textbook checks (queueing.test.ts):
 * for C = 1, p(0) = 1 / Σ N!/(N − k)!·r^k and L = N − (1 − p(0))/r; as N grows at a fixed
 * utilisation it tends to M/M/C (Erlang's C).
 *
 * `open` (default 0) adds a Poisson stream that does not depend on the station, of `open` requests
 * per service time (its offered load in servers, below C): arrivals in state k are
 * open + (N − k)·r, a mixed open/closed chain that is M/M/C//N with none and M/M/C with no sources.
 * A load generator's replay has both: an iteration's first request is sent at its planned start
 * whatever the station holds, its later ones only after the previous answer came back.
 *
 * The terms are summed until they are negligible (the station's load decides how far the chain
 * reaches), rescaled before they overflow. Returns a shared scratch object (the hot path
 * allocates nothing): copy what you keep.
 */
export function finiteSourceQueue(
  servers: number,
  population: number,
  r: number,
  open = 0,
): FiniteSourceState {
  const c = Math.max(1, servers);
  const n = Math.max(0, population);
  const a = Math.max(0, open);
  const top = a > 0 ? Math.ceil(n) + MAX_CHAIN_STATES : Math.ceil(n);
  let p = 1;
  let s0 = 1;
  let s1 = 0;
  let sm = 0;
  // g(k) = d ln p(k) / d ln r = Σ_{j ≤ k} (sources' births at j) / (births at j): k without an open part.
  let g = 0;
  let sg = 0;
  let smg = 0;
  // Arrivals seen in each state (births there × p(k)), all and those finding every server busy.
  let arr = a + n * r;
  let arrWait = c <= 0 ? arr : 0;
  for (let k = 1; k <= top; k++) {
    const closed = Math.max(0, n - (k - 1)) * r;
    const births = a + closed;
    if (!(births > 0)) break;
    const busy = Math.min(k, c);
    p *= births / busy;
    g += closed / births;
    s0 += p;
    s1 += k * p;
    sm += busy * p;
    sg += g * p;
    smg += busy * g * p;
    const out = (a + Math.max(0, n - k) * r) * p;
    arr += out;
    if (k >= c) arrWait += out;
    // Past the servers the terms only shrink once births < departures: stop when negligible.
    if (k > c && births < busy && p < 1e-15 * s0) break;
    if (p > 1e200) {
      p *= 1e-200;
      s0 *= 1e-200;
      s1 *= 1e-200;
      sm *= 1e-200;
      sg *= 1e-200;
      smg *= 1e-200;
      arr *= 1e-200;
      arrWait *= 1e-200;
    }
  }
  const mean = s1 / s0;
  const busyMean = sm / s0;
  fsScratch.rho = busyMean / c;
  fsScratch.inSystem = mean;
  fsScratch.waiting = Math.max(0, mean - busyMean);
  // d E[busy] / d ln r = Cov(busy, g).
  fsScratch.slope = (smg / s0 - busyMean * (sg / s0)) / c;
  fsScratch.waitProb = arr > 0 ? arrWait / arr : 0;
  return fsScratch;
}

/**
 * Requests waiting in a finite-source queue M/M/C//N ({@link finiteSourceQueue}) at utilisation
 * `rho`: the think time is solved so the servers are that busy (Newton on ln r, safeguarded by
 * bisection). Bounded by ⌈N⌉ − C as ρ → 1, where the open M/M/C
 * queue grows without bound: a station fed by N sources that each wait for their answer never
 * holds more than N requests, and the more it holds the fewer arrive. Zero when ⌈N⌉ ≤ C (no
 * request ever waits).
 *
 * `openShare` (default 0): the share of the station's arrivals that come as an open stream (a load
 * generator's first requests of its iterations, sent whatever the station holds); the sources
 * bring the rest. With an open part the queue is no longer bounded by N, and it is the open
 * M/M/C's (Erlang's C) when every arrival is open.
 */
export function finiteSourceWaiting(servers: number, population: number, rho: number, openShare = 0): number {
  return finiteSourceAt(servers, population, rho, openShare).waiting;
}

/** Erlang's C: the share of arrivals that wait in M/M/C at utilisation ρ < 1. */
export function erlangCProb(servers: number, rho: number): number {
  if (!(rho > 0) || servers <= 0) return 0;
  if (rho >= 1) return 1;
  const c = Math.max(1, Math.round(servers));
  const b = erlangB(c, c * rho);
  return b / (1 - rho * (1 - b));
}

const fsFixed: FiniteSourceState = { rho: 0, inSystem: 0, waiting: 0, slope: 0, waitProb: 0 };

/** `fixed`'s fields set (the closed-form cases of {@link finiteSourceAt}). */
function fixedState(rho: number, waiting: number, waitProb: number): FiniteSourceState {
  fsFixed.rho = rho;
  fsFixed.inSystem = waiting;
  fsFixed.waiting = waiting;
  fsFixed.slope = 0;
  fsFixed.waitProb = waitProb;
  return fsFixed;
}

/**
 * {@link finiteSourceWaiting}'s whole state at utilisation ρ: the requests waiting and the share of
 * arrivals that wait (`waitProb`, arrival-weighted: in a finite-source queue arrivals see fewer at
 * the station than the time average). Returns a shared scratch object: copy what you keep.
 */
export function finiteSourceAt(
  servers: number,
  population: number,
  rho: number,
  openShare = 0,
): FiniteSourceState {
  const c = Math.max(1, servers);
  const n = Math.max(0, population);
  const phi = Math.min(1, Math.max(0, openShare));
  // The chain's states reach ⌈N⌉ (a fractional N's last source arrives at its fractional rate).
  const top = Math.ceil(n);
  if (!(rho > 0)) return fixedState(0, 0, 0);
  if (phi >= 1) return fixedState(rho, erlangCWaiting(c, rho), erlangCProb(c, rho));
  // The open stream's offered load (in servers): its share of the throughput C·ρ.
  const a = phi * c * rho;
  if (a === 0) {
    // No more sources than servers: nobody waits.
    if (top <= c) return fixedState(rho, 0, 0);
    // Saturated (r → ∞): every source at the station.
    if (rho >= 1 - 1e-12) return fixedState(rho, top - c, 1);
  } else if (rho >= 1 - 1e-12) return fixedState(rho, Number.POSITIVE_INFINITY, 1);
  // Start from the open model's arrivals: N·r ≈ C·ρ(1 − φ) / (N − C·ρ).
  let u = Math.min(60, Math.max(-60, Math.log(((1 - phi) * c * rho) / Math.max(1e-9, n - c * rho))));
  let lo = -60;
  let hi = 60;
  let state = finiteSourceQueue(c, n, Math.exp(u), a);
  for (let k = 0; k < 100; k++) {
    const f = state.rho - rho;
    if (Math.abs(f) < 1e-11) break;
    if (f < 0) lo = u;
    else hi = u;
    let next = state.slope > 0 ? u - f / state.slope : Number.NaN;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - u) < 1e-13) break;
    u = next;
    state = finiteSourceQueue(c, n, Math.exp(u), a);
  }
  return state;
}

/**
 * One emulated task's queue in steady state, as a function of its utilisation ρ (the share of its
 * CPU capacity the load takes: arrivals ÷ `mu`, the task's throughput with every slot busy at its
 * vCPU share). `cs2` is the squared coefficient of variation of the requests' CPU demand over the
 * mix, `ca2` that of the arrivals' spacing (1: Poisson; evenly spaced arrivals wait less). Two
 * kinds of task, as the local replicas emulate them (reference-stack/capacity/emulator.ts):
 *
 * - whole vCPUs (`vcpu` ≥ 1): `c` slots serving at full speed, a G/G/c queue: Sakasegawa's M/M/c
 *   wait (`mmcWait`) scaled by (ca² + cs²)/2 (Kingman, Allen–Cunneen; Pollaczek–Khinchine exactly
 *   for c = 1 and Poisson arrivals);
 * - a fractional task (0.25 or 0.5 vCPU): one slot under a CFS quota, a token bucket of
 *   `burstCpuMs` (vCPU × 100 ms) refilled at vCPU CPU-ms per ms. A request runs at full speed while
 *   the bucket holds tokens and at vCPU speed once it is empty: with a full bucket it takes its
 *   demand d plus (d − burst)/vCPU for the part beyond the burst (`overBurstMs`: that part's mean
 *   over the mix), with an empty one d/vCPU. The bucket is empty when the work offered to a server
 *   of the quota's speed exceeds the burst: for a G/G/1 workload at ρ, P(W > B) ≈
 *   ρ·exp(−2(1 − ρ)·B / (S·(ca² + cs²))) (the workload's exponential tail, exact in heavy traffic
 *   for Poisson arrivals; S = d/vCPU and B = burst/vCPU in time). The mean service time is the
 *   mixture of the two; the wait is the quota-speed wait while the bucket is empty and the
 *   full-speed one (at the utilisation those service times give) while it is not, weighted by
 *   P(empty): throttling and queueing come together, in the same busy stretches.
 *
 * Checked against the emulator itself (queueing.test.ts: Poisson arrivals into
 * `createCapacityEmulator` on a hand-driven clock): the mean latency within 20% from ρ = 0.2 to 0.9.
 *
 * With a finite `population` (a replay of a load generator: its iterations in flight, each with at
 * most one request outstanding) the queue is a finite-source one: the open model's wait times the
 * share M/M/C//N waits of M/M/C at the same utilisation (`finiteSourceWaiting` over
 * `erlangCWaiting`), so it never holds more than the population and the more it holds the fewer
 * arrive. Near saturation that is the difference between tens of requests waiting and a few: two
 * 1-vCPU tasks at 99.5% with 14 iterations in flight hold 7.8 requests (the live flash-sale monolith
 * held 7.7), the open M/M/2 about 200. An iteration's first requests are not drawn from that
 * population (the generator sends them at their planned start whatever the pool holds): with
 * `openShare` they are an open stream into the same chain (`finiteSourceWaiting`'s mixed
 * open/closed queue), so a pool whose arrivals are mostly first requests waits nearly as the open
 * model does (until session 9 every arrival counted as a source's: on prime-day's doors-open
 * monolith, 4 tasks at 50% with 7 iterations in flight, that cut M/M/4's wait to about a quarter).
 * Since session 18 a replay passes `ca2Long` as well (its arrivals' spread over the long run, every
 * request as regular as its iteration's start): the pool then waits as the open queue of that spread,
 * bounded by the finite-source wait at max(ρ, 0.98) (`wait`).
 * (Until 2026-12-02 a fractional task was an M/M/1 server of the quota's speed at every load: at
 * ρ = 0.6, 3–4 times the latency the emulator gives; the live replicas showed the same.)
 */
export interface TaskQueue {
  /** CPU-ms a request needs at full speed (mean over the mix). */
  demandMs: number;
  /** Mean time (ms) a request holds a slot at utilisation ρ. */
  serviceTime(rho: number): number;
  /** Requests in service (busy slots) at ρ. */
  inService(rho: number): number;
  /** Mean wait (ms) in steady state at ρ. */
  wait(rho: number): number;
  /** Requests in the task (waiting and in service) in steady state at ρ: increasing in ρ on [0, 1). */
  inSystem(rho: number): number;
  /**
   * The mean wait (ms) of a request that waits, if the pool's slots were one queue: the open model's
   * S·(ca² + cs²)/2 / (C(1 − ρ)) (M/M/C: exactly S/(C(1 − ρ)) given a wait), ρ capped at 0.98.
   */
  pooledWaitGiven(rho: number): number;
  /** The mean rest of one hold a request arriving in it waits for: E[S²]/2E[S] = S(1 + cs²)/2 (ms). */
  holdResidual(rho: number): number;
}

/** The steady-state queue of one task (see {@link TaskQueue}). `mu`: requests/s with every slot busy. */
export function taskQueue(
  t: {
    vcpu: number;
    mu: number;
    cs2: number;
    /** Squared coefficient of variation of the arrivals' spacing: 1 for Poisson (the default), 0 for evenly spaced. */
    ca2?: number;
    /**
     * With a finite `population`: the arrivals' ca² over the long run, every request as regular as
     * its iteration's start (a load generator's later requests are its starts delayed by a bounded
     * time). Below saturation the queue waits as the open queue of that spread, at most as the
     * finite source's saturated queue (see {@link TaskQueue}'s "wait"); absent, the finite-source
     * share of the open model's wait at every load, as before session 18.
     */
    ca2Long?: number;
    burstCpuMs?: number;
    overBurstMs?: number;
    /**
     * Tasks behind one balancer that sends each request to the task with the fewest outstanding
     * requests (ALB's "least outstanding requests", as the local balancers do): they wait as one
     * queue of all their slots, not each its own (default 1).
     */
    pool?: number;
    /**
     * Requests that can be at the pool at once: the requests in flight that may come to it (a load
     * generator's iterations in flight, each with at most one request outstanding). Finite, the
     * queue is a finite-source one (see {@link TaskQueueModel}); absent or infinite, the open model.
     */
    population?: number;
    /**
     * With a finite `population`: the share of the pool's arrivals that come whatever it holds (a load
     * generator's first request of an iteration, sent at its planned start); the population's sources
     * bring the rest (default 0: all of them).
     */
    openShare?: number;
  },
  reuse?: TaskQueue,
): TaskQueue {
  // The simulator asks for one per service at every step: the last one, set up again (no allocation).
  return reuse instanceof TaskQueueModel ? reuse.configure(t) : new TaskQueueModel(t);
}

/**
 * {@link taskQueue}'s model as a class: the simulator builds one per service per step, so its
 * methods live on the prototype (no closures per instance) and the constants are computed once.
 */
class TaskQueueModel implements TaskQueue {
  demandMs = 0;
  private fractional = false;
  private mu = 0;
  private variability = 0;
  /** Kingman's factor with the long-run ca² (`ca2Long`); NaN without one. */
  private longVariability = Number.NaN;
  private cs2 = 0;
  private servers = 0;
  /** Sakasegawa's exponent √(2(c+1)) − 1 for the pooled servers. */
  private power = 0;
  private full = 0;
  private slow = 0;
  /** −2·B/(d·max(0.05, ca² + cs²)): P(empty) = ρ·exp(k·(1 − ρ)). */
  private emptyRate = 0;
  private vcpu = 0;
  /** Requests that can be at the pool at once (Infinity: an open population). */
  private population = Number.POSITIVE_INFINITY;
  /** The share of arrivals that do not come from the population (an open stream). */
  private openShare = 0;
  /**
   * The last ρ `empty` was asked for and its answer: a fractional task's queue asks for P(empty) at
   * the same ρ two or three times in a row (its service time, its wait).
   */
  private emptyAt = Number.NaN;
  private emptyValue = 0;

  constructor(t: Parameters<typeof taskQueue>[0]) {
    this.configure(t);
  }

  /** Sets the model up for `t` (see {@link taskQueue}); returns it. */
  configure(t: Parameters<typeof taskQueue>[0]): this {
    this.emptyAt = Number.NaN;
    this.shareAt = Number.NaN;
    this.openShare = Math.min(1, Math.max(0, t.openShare ?? 0));
    this.population =
      t.population !== undefined && t.population >= 0 ? t.population : Number.POSITIVE_INFINITY;
    const cs2 = Math.max(0, t.cs2);
    const ca2 = Math.max(0, t.ca2 ?? 1);
    const pool = Math.max(1, Math.floor(t.pool ?? 1));
    // Kingman / Allen–Cunneen: the M/M/c wait scaled by (ca² + cs²)/2 (exact for M/G/1: ca² = 1).
    this.variability = (ca2 + cs2) / 2;
    this.longVariability = t.ca2Long === undefined ? Number.NaN : (Math.max(0, t.ca2Long) + cs2) / 2;
    this.cs2 = cs2;
    this.mu = t.mu;
    this.vcpu = t.vcpu;
    this.fractional = t.vcpu < 1 && t.mu > 0;
    if (!this.fractional) {
      const c = Math.max(1, Math.floor(t.vcpu));
      // Service time of one slot: c slots together serve mu requests/s.
      this.demandMs = t.mu > 0 ? (1000 * c) / t.mu : 0;
      this.servers = c * pool;
      this.full = this.demandMs;
      this.slow = this.demandMs;
      this.emptyRate = 0;
    } else {
      const v = t.vcpu;
      this.demandMs = (1000 * v) / t.mu;
      const burst = t.burstCpuMs ?? 100 * v;
      this.full = this.demandMs + (t.overBurstMs ?? Math.max(0, this.demandMs - burst)) / v;
      this.slow = Math.max(this.full, this.demandMs / v);
      this.emptyRate = (-2 * (burst / this.demandMs)) / Math.max(0.05, ca2 + cs2);
      // The wait behind `pool` such servers (M/G/1 for one: Pollaczek–Khinchine with Kingman's factor).
      this.servers = pool;
    }
    this.power = Math.sqrt(2 * (this.servers + 1)) - 1;
    return this;
  }

  /** Sakasegawa's M/M/c wait for the pooled servers × Kingman's factor (as `mmcWait`, ρ capped at 0.98). */
  private pooledWait(serviceTime: number, rho: number, variability = this.variability): number {
    if (!(rho > 0)) return 0;
    const r = Math.min(rho, 0.98);
    // r^power as exp(power · ln r): the same value within an ulp or two, about 40% less CPU than
    // Math.pow with a fractional exponent (the simulator asks for it several times per service per step).
    return ((serviceTime * Math.exp(this.power * Math.log(r))) / (this.servers * (1 - r))) * variability;
  }

  private empty(rho: number): number {
    if (!this.fractional) return 0;
    if (rho === this.emptyAt) return this.emptyValue;
    const r = Math.min(1, Math.max(0, rho));
    const value = r * Math.exp(this.emptyRate * (1 - r));
    this.emptyAt = rho;
    this.emptyValue = value;
    return value;
  }

  serviceTime(rho: number): number {
    return this.full + (this.slow - this.full) * this.empty(rho);
  }

  inService(rho: number): number {
    if (!this.fractional) return Math.max(1, Math.floor(this.vcpu)) * rho;
    return Math.min(1, (rho * this.mu * this.serviceTime(rho)) / 1000);
  }

  /**
   * The mean wait at ρ. A finite population with a long-run ca² (a replay's load generator): the
   * open queue with the arrivals as regular as their iterations' starts, never more than the
   * finite-source queue waits at saturation (its wait at max(ρ, 0.98)). In a discrete-event load
   * generator (bench/finite-source-queue.ts) the wait below saturation hardly depends on the think
   * time or the iterations in flight, as the open queue's; the finite source bounds it only when
   * the load reaches the servers' capacity (product-drop's saturated minutes), where the chain
   * alone was right and the open queue waits half as long again. Both parts grow with ρ, so the minimum
   * does (`transientStep` needs it). Session 18, docs/simulation.md.
   */
  wait(rho: number): number {
    if (this.bounded()) return this.boundedWait(rho);
    const open = this.openWait(rho);
    return this.population < Number.POSITIVE_INFINITY && open > 0 ? open * this.finiteShare(rho) : open;
  }

  /** A finite population with a long-run ca²: {@link wait}'s regular queue bounded by the saturated one. */
  private bounded(): boolean {
    return this.population < Number.POSITIVE_INFINITY && !Number.isNaN(this.longVariability);
  }

  /** The bounded wait at ρ: the regular open queue's, or the saturated chain's when that is less. */
  private boundedWait(rho: number): number {
    return Math.min(this.openWait(rho, this.longVariability), this.saturatedWait(rho));
  }

  /** The finite-source chain's wait at max(ρ, 0.98): the bound of {@link boundedWait}. */
  private saturatedWait(rho: number): number {
    const at = Math.max(rho, 0.98);
    return this.openWait(at) * this.finiteShare(at);
  }

  /** The open model's wait: every arrival independent of the queue (an infinite population). */
  private openWait(rho: number, variability = this.variability): number {
    if (!this.fractional) return this.pooledWait(this.demandMs, rho, variability);
    const pe = this.empty(rho);
    const s = this.full + (this.slow - this.full) * pe;
    const busy = Math.min(1, (rho * this.mu * s) / 1000);
    return (
      pe * this.pooledWait(this.slow, rho, variability) + (1 - pe) * this.pooledWait(s, busy, variability)
    );
  }

  /**
   * A finite population's share of the open model's wait: the requests waiting in M/M/C//N over
   * those in M/M/C (Erlang's C) at the servers' utilisation u, applied to the open model's own wait
   * (its arrival and service spread, a spent quota's slowdown stay). Above ρ = 0.98, where the open
   * model stops growing (`pooledWait` caps ρ there), the M/M/C reference stays where it was while the
   * finite queue keeps growing to its bound N − C; never above 1 (the open model's cap is the
   * limit of both). Exact for whole vCPUs with Poisson think times and exponential service. The
   * queue it gives grows with ρ, as `transientStep` needs: for whole vCPUs never less, for a
   * fractional task whose requests outlast its burst at most about 1% less here and there
   * (queueing.test.ts).
   */
  private finiteShare(rho: number): number {
    // At the load ρ (for whole vCPUs the servers' utilisation; for a fractional task the load over
    // its full-speed capacity, which the open model's wait grows with).
    if (rho === this.shareAt) return this.shareValue;
    const u = Math.min(1, rho);
    const state = finiteSourceAt(this.servers, this.population, u, this.openShare);
    const finite = state.waiting;
    this.shareAt = rho;
    this.probShareValue = 0;
    if (!(finite > 0)) {
      this.shareValue = 0;
      return 0;
    }
    // The reference stops where the open model stops growing (ρ = 0.98): a reference growing on
    // past it would make the queue shrink as the load grows.
    const open = erlangCWaiting(this.servers, Math.min(u, 0.98));
    this.shareValue = open > 0 ? Math.min(1, finite / open) : 1;
    // The same for the share of arrivals that wait (Erlang's C against the chain's, arrivals' view).
    const openProb = erlangCProb(this.servers, Math.min(u, 0.98));
    this.probShareValue = openProb > 0 ? Math.min(1, state.waitProb / openProb) : 1;
    return this.shareValue;
  }

  /** {@link finiteShare}'s last answer and ρ, and the share of waiting arrivals beside it. */
  private shareAt = Number.NaN;
  private shareValue = 0;
  private probShareValue = 0;

  inSystem(rho: number): number {
    return rho > 0 ? this.inService(rho) + (rho * this.mu * this.wait(rho)) / 1000 : 0;
  }

  pooledWaitGiven(rho: number): number {
    // As the wait: the regular open queue's (with its Kingman factor) or the saturated chain's.
    if (this.bounded())
      return this.openWait(rho, this.longVariability) <= this.saturatedWait(rho)
        ? this.openGiven(rho, this.longVariability)
        : this.finiteGiven(Math.max(rho, 0.98));
    if (!(this.population < Number.POSITIVE_INFINITY)) return this.openGiven(rho, this.variability);
    return this.finiteGiven(rho);
  }

  /** The open model's wait given a wait: S·V / (C(1 − ρ)), ρ capped at 0.98. */
  private openGiven(rho: number, variability: number): number {
    const r = Math.min(Math.max(0, rho), 0.98);
    return (this.serviceTime(rho) * variability) / (this.servers * (1 - r));
  }

  /**
   * A finite source cuts how many wait AND how long (a waiting request has at most N − C ahead of
   * it): the open model's wait given a wait at ρ times the finite queue's wait's share of the open
   * model's, over its waiting arrivals' share of Erlang's C.
   */
  private finiteGiven(rho: number): number {
    const open = this.openGiven(rho, this.variability);
    const share = this.finiteShare(rho);
    const probShare = this.probShareValue;
    return share > 0 && probShare > 0 ? (open * share) / probShare : open;
  }

  holdResidual(rho: number): number {
    return (this.serviceTime(rho) * (1 + this.cs2)) / 2;
  }
}

/** A visit's random wait as two kinds of request: those that wait (how many, how long) and those that do not. */
export interface WaitShape {
  /** The share of requests that wait at all. */
  prob: number;
  /** The mean wait (ms) of those that do (exponential): the unconditional mean is prob × given. */
  given: number;
}

const shapeScratch: WaitShape = { prob: 0, given: 0 };

/**
 * How a pool's random wait falls on its requests (docs/simulation.md, session 10): M/G/c's wait is
 * zero for most requests and long for the few that find every slot busy, which one exponential of
 * the mean cannot carry (at the same mean its p95 is several times the exponential's).
 *
 * - `wait`: the model's mean random wait (the open or finite-source queue's, as `TaskQueue.wait`, or
 *   less while the queue builds); `pooledGiven`: the wait of a request that waits if the slots were one
 *   queue (`pooledWaitGiven`), so P(wait) = wait / pooledGiven (M/M/C: Erlang's C, Sakasegawa's
 *   ρ^(√(2(C+1))−1); scaled down with the queue's finite source or its building).
 * - `tasks` > 1 behind a least-outstanding-requests balancer (the local balancers, ALB's algorithm of
 *   that name): a request that waits is queued at ONE replica, behind its hold, not for the first of
 *   all the slots to free, so it waits max(pooledGiven, `holdResidual`) (E[S²]/2E[S]; by
 *   bench/balancer-queue.ts at 4 tasks and 50%: 18.8 ms given a wait against 11.6 in one queue, the
 *   mix's residual 22). About as many wait either way (14.8% and 14.5% there).
 * - `offCpu` (requests outstanding at the pool while off its CPU: a card authorization, a gateway's
 *   downstream calls): the balancer counts them, so a replica whose CPU is free looks busy when one of
 *   them sits on it (probability 1 − ρ), and a request goes to a busy replica beside it. Modelled as
 *   that much more apparent load: P(wait) × (ρ'/ρ)^(√(2(C+1))−2), ρ' = ρ + offCpu·(1 − ρ)/C (Sakasegawa's
 *   P(wait) at ρ' times the share ρ/ρ' of apparently busy replicas that are busy). Against
 *   bench/balancer-queue.ts (4 tasks; 0.69 and 1.57 outstanding off CPU at 56 req/s): 14.8 → 19.6 and
 *   24.2% wait there, this gives 15.8 → 22.3 and 30.8% from Erlang's C.
 * With one task (or `tasks` ≤ 1) the balancer has no choice: one queue, as before.
 * Returns a shared scratch object (the hot path allocates nothing): copy what you keep.
 */
export function waitShape(
  wait: number,
  pooledGiven: number,
  holdResidual: number,
  servers: number,
  tasks: number,
  rho: number,
  offCpu = 0,
): WaitShape {
  if (!(wait > 0) || !(pooledGiven > 0)) {
    shapeScratch.prob = 0;
    shapeScratch.given = 0;
    return shapeScratch;
  }
  let prob = Math.min(1, wait / pooledGiven);
  let given = Math.max(wait, pooledGiven);
  if (tasks > 1) {
    given = Math.max(given, holdResidual);
    const r = Math.min(0.98, Math.max(0, rho));
    const c = Math.max(1, servers);
    if (offCpu > 0 && r > 0) {
      const apparent = Math.min(0.98, r + (offCpu * (1 - r)) / c);
      prob = Math.min(1, prob * (apparent / r) ** (Math.sqrt(2 * (c + 1)) - 2));
    }
  }
  shapeScratch.prob = prob;
  shapeScratch.given = given;
  return shapeScratch;
}

/**
 * One step of a task's queue whose load changes over time (see `transientQueueStep`), for any
 * steady-state relation `inSystem(ρ)` increasing on [0, 1) (a {@link TaskQueue}'s): backward Euler,
 * x' + dt·μ·ρ(x') = x + dt·λ solved for ρ. The left side is increasing in ρ, so the root is
 * bracketed; secant steps from `rho0` (the last step's ρ: the load changes little from one step
 * to the next) inside the bracket, a bisection whenever a step would leave it, to 1e-9 in ρ — a
 * handful of evaluations where plain bisection took 34, at every step of every service. With
 * `out.slope` (the slope of `inSystem` the last step ended with, which this step writes back) the
 * first secant step takes it instead of one more evaluation for a difference quotient: the load and
 * the queue change little from one step to the next, so neither does the slope.
 */
export function transientStep(
  x: number,
  lambda: number,
  mu: number,
  inSystem: (rho: number) => number,
  dt: number,
  rho0 = 0.5,
  /**
   * Where to write the answer (the simulator's scratch: no allocation per step); default a new
   * object. Its `slope`, when set and positive, is the first step's slope of `inSystem`; on return
   * the slope the solve ended with (NaN if it took none).
   */
  out: { x: number; rho: number; slope?: number } = { x: 0, rho: 0 },
): { x: number; rho: number; slope?: number } {
  const hint = out.slope;
  out.slope = Number.NaN;
  const rhs = x + dt * lambda;
  if (!(rhs > 0)) return answer(out, 0, 0);
  if (!(mu > 0)) return answer(out, rhs, 0);
  const a = dt * mu;
  let lo = 0;
  let hi = 1;
  let r = Math.min(1 - 1e-9, Math.max(1e-9, rho0));
  // The first slope the last step's, or by a small difference; the next ones through the last two
  // points (secant).
  let prevR = Number.NaN;
  let prevV = Number.NaN;
  if (!(hint !== undefined && hint > 0)) {
    prevR = Math.min(1 - 1e-12, r + Math.max(1e-9, Math.min(1e-6, (1 - r) / 4)));
    prevV = inSystem(prevR) + a * prevR - rhs;
  }
  let slope = Number.NaN;
  for (let k = 0; k < 60 && hi - lo > 1e-9; k++) {
    const v = inSystem(r) + a * r - rhs;
    // The root itself (a secant step can land on it exactly): the step next would stay there, on
    // the bracket's edge, and the bisection would creep up to it (about 30 more evaluations).
    if (v === 0) break;
    if (v < 0) lo = r;
    else hi = r;
    const d = Number.isNaN(prevR) ? (hint as number) + a : (v - prevV) / (r - prevR);
    if (d > 0) slope = d - a;
    let next = d > 0 ? r - v / d : Number.NaN;
    // Out of the bracket: its middle, but for a step past ρ = 1 while 1 bounds it, where the top of
    // the range is tried first (an overloaded queue's root: the bisection took some 25 evaluations
    // to creep up to it).
    if (!(next > lo && next < hi)) next = hi === 1 && next >= 1 ? 1 - 1e-9 : (lo + hi) / 2;
    prevR = r;
    prevV = v;
    if (Math.abs(next - r) < 1e-10) {
      r = next;
      break;
    }
    r = next;
  }
  const rho = Math.min(1, Math.max(0, r));
  answer(out, Math.max(0, rhs - a * rho), rho);
  out.slope = slope;
  return out;
}

function answer(out: { x: number; rho: number }, x: number, rho: number): { x: number; rho: number } {
  out.x = x;
  out.rho = rho;
  return out;
}

/**
 * One step of a queue whose load changes over time, by the pointwise stationary fluid flow
 * approximation (Tipper & Sundareshan 1990; Wang, Sivazlian 1992: "PSFFA"): the mean number of
 * requests in the system `x` follows dx/dt = λ − μ·ρ(x), where ρ(x) is the utilisation at which the
 * steady-state M/M/c queue holds x requests (`mmcInSystem`). It starts empty and takes time to
 * build, settles at the steady-state length when the load holds below capacity, and grows by
 * (λ − μ)·dt once the load exceeds it — the fluid backlog. The steady-state formula alone, applied
 * at each step, puts a queue of ρ/(1 − ρ) in place at once however short the busy spell; near
 * saturation (ρ = 0.98: 49 requests) that is seconds of wait a short rehearsal never builds.
 *
 * Per server group (one task): `x` requests in the system, arrivals `lambda` and full-speed service
 * rate `mu` (requests per second of the whole task, all `servers` busy), a step of `dt` seconds.
 * Implicit (backward) Euler, stable for any dt: solves x' + dt·μ·ρ(x') = x + dt·λ for ρ(x') and
 * returns the new x' and ρ' (the step's utilisation; dt·μ·ρ' requests were served).
 */
export function transientQueueStep(
  x: number,
  lambda: number,
  mu: number,
  servers: number,
  dt: number,
): { x: number; rho: number } {
  const rhs = x + dt * lambda;
  if (!(rhs > 0)) return { x: 0, rho: 0 };
  if (!(mu > 0)) return { x: rhs, rho: 0 };
  const a = dt * mu;
  if (servers <= 1) {
    // x' = ρ/(1 − ρ) ⇒ ρ = x'/(1 + x'); x' + a·x'/(1 + x') = rhs ⇒ x'² + (1 + a − rhs)·x' − rhs = 0.
    const b = 1 + a - rhs;
    const xn = (-b + Math.sqrt(b * b + 4 * rhs)) / 2;
    return { x: xn, rho: xn / (1 + xn) };
  }
  // mmcInSystem(ρ) + a·ρ is increasing in ρ on [0, 1): bisection.
  let lo = 0;
  let hi = 1;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (mmcInSystem(servers, mid) + a * mid < rhs) lo = mid;
    else hi = mid;
  }
  const rho = (lo + hi) / 2;
  return { x: Math.max(0, rhs - a * rho), rho };
}

/**
 * Erlang's loss formula B(c, A): the share of arrivals that find all `c` places taken when `A`
 * (offered load, mean places busy without a limit) arrives as a Poisson stream; insensitive to the
 * holding-time distribution. Non-integer c interpolates linearly between ⌊c⌋ and ⌈c⌉ (Hayward's
 * approximation below divides c by the peakedness). Recursion B(n) = A·B(n−1) / (n + A·B(n−1)).
 */
export function erlangB(c: number, a: number): number {
  if (!(a > 0)) return 0;
  if (!(c > 0)) return 1;
  const n = Math.floor(c);
  let b = 1;
  for (let k = 1; k <= n; k++) b = (a * b) / (k + a * b);
  if (c === n) return b;
  const next = (a * b) / (n + 1 + a * b);
  return b + (c - n) * (next - b);
}

/**
 * Share of arrivals a load generator's concurrency cap drops: a loss system with `cap` places
 * (iterations in flight; the engine drops an arrival when the cap is reached) offered `offered`
 * iterations in flight on average. Poisson arrivals: Erlang's B. Evenly spaced arrivals are
 * smoother: Hayward's approximation B(cap/z, offered/z) with the peakedness z of the in-flight
 * count, z = 1 − ∫S(t)² dt / E[H] for holding times H with survival S (1 for Poisson arrivals), here
 * from a normal approximation of H: z ≈ CV(H)/√π (exponential holding times: 0.56, exact 0.5;
 * constant ones: 0). Overloaded, both tend to 1 − cap/offered, what a fluid model gives.
 */
export function concurrencyCapLoss(
  cap: number,
  offered: number,
  holding: { mean: number; sd: number },
  arrivals: 'even' | 'poisson',
): number {
  if (!(offered > 0)) return 0;
  const z =
    arrivals === 'poisson'
      ? 1
      : Math.min(
          1,
          Math.max(0.02, holding.mean > 0 ? holding.sd / (Math.sqrt(Math.PI) * holding.mean) : 0.02),
        );
  return erlangB(cap / z, offered / z);
}
