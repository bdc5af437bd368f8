/**
 * One simulation step (default one event-second), in the order docs/simulation.md gives: task
 * counts, demand (with the load generator's concurrency cap when replaying a live run), stores
 * (hot partitions and table ceilings), deployables (capacity, backlog, rejection, waiting) and the
 * client's view of each (scenario, step): latency components, timeouts and failures. Every part
 * reads and updates the SimState it is given (simulation/simulate-state.ts).
 */
import type { ServiceName } from '../reference-stack/topology.ts';
import { timeoutFraction, truncatedMean } from './client-latency.ts';
import { computeOriginShares, type EdgeStep, type KeyspaceIndex, keyspaceIndexOf } from './edge-cache.ts';
import { selfThrottleShare } from './local-store.ts';
import { entryVisit, pathKey, pathLatencySplit } from './path-latency.ts';
import {
  concurrencyCapLoss,
  superposedCa2,
  type TaskQueue,
  taskQueue,
  transientStep,
  waitShape,
} from './queueing.ts';
import {
  EDGE_FIELDS,
  type Flat,
  type SimService,
  type SimState,
  type StoreAccumulator,
  storeAccumulator,
} from './simulate-state.ts';

/**
 * Wall seconds over which the latency that offsets an iteration's later steps is smoothed (an
 * exponential moving average). _Assumption, fitted_: chosen on the 2026-12-02 quiet-host rehearsals
 * (docs/simulation.md "Validation against a live run"): 1 s put flash-sale headless run 1's replayed
 * p95 at +18%, 2 s at +21%, 5 s at +34%; a time constant of each step's own think time (0.03–1 s at
 * 30x) let the offsets oscillate and the replay reach the timeout. About one of flash-sale's think
 * times at 30x.
 */
export const OFFSET_SMOOTHING_WALL_S = 1;

/** Which service holds each table in each topology (for the timeline's store columns). */
const TABLE_OWNER: Record<string, ServiceName> = {
  catalog: 'catalog',
  inventory: 'inventory',
  carts: 'cart',
  orders: 'orders',
  pricing: 'pricing',
  stores: 'inventory',
};

/** Plays step `i` (event time t0 + i·step) of the simulation. */
export function runStep(st: SimState, i: number): void {
  const t = st.inputs.t0 + i * st.inputs.dtE;
  const mid = t + st.inputs.dtE / 2;
  countTasks(st, t);
  offerDemand(st, mid);
  throttleStores(st);
  serveDeployables(st);
  recordClientView(st);
  countIterations(st);
}

/** 1. Task counts (recomputed only when a task changes state); the step's accumulators reset. */
export function countTasks(st: SimState, t: number): void {
  const { dtE } = st.inputs;
  for (const s of st.svcList) {
    if (t >= s.nextChange) {
      if (s.counter.tasks !== s.state.tasks) s.counter.reset(s.state.tasks, t);
      s.counts = s.counter.countsAt(s.state.desired, t);
      s.nextChange = s.counter.nextChange();
    }
    s.work = 0;
    s.work2 = 0;
    s.workOver = 0;
    s.arrCa2 = 0;
    s.arrSq = 0;
    s.longCa2 = 0;
    s.longSq = 0;
    s.scenarioAt = -1;
    s.scenarioReqs = 0;
    s.reqs = 0;
    s.vcpuSeconds += (s.counts.running + s.counts.pending) * s.size.vcpu * dtE;
  }
  for (const tb of st.tables.values()) {
    tb.stepRead = 0;
    tb.stepWrite = 0;
    tb.stepHotRead = 0;
    tb.stepHotWrite = 0;
  }
}

/**
 * 2. Demand at the step's midpoint: requests per (scenario, step), the CPU they charge each
 * deployable (those an upstream deployable rejected last step never reach it) and the store units.
 * When the load generator's concurrency cap is modelled, iterations beyond it are dropped.
 */
export function offerDemand(st: SimState, mid: number): void {
  const { dtW } = st.inputs;
  const { plan, flats, reqOf, admit } = st;
  reqOf.fill(0);
  if (st.clientCapped) {
    for (let s = 0; s < plan.scenarios.length; s++) {
      const j = st.firstFlat[s]!;
      if (j < 0) continue;
      const startRate = flats[j]!.rate(mid);
      const holding = st.thinkWall[s]! + st.latencyWall[s]!;
      const inFlight = startRate * holding;
      const sd = Math.sqrt(st.thinkVarWall[s]! + st.latencyVarWall[s]!);
      const loss = concurrencyCapLoss(
        plan.scenarios[s]!.maxConcurrency,
        inFlight,
        { mean: holding, sd },
        plan.arrivals,
      );
      admit[s] = 1 - loss;
      st.droppedInBucket[s]! += startRate * dtW * (1 - admit[s]!);
      // The iterations the cap lets in stay in flight for their holding time: the population each
      // deployable's queue is drawn from (serveDeployables). Followed over time as an infinite-server
      // queue, dN/dt = admitted starts − N / holding (backward Euler), so iterations started before
      // a fall in the start rate are still in flight after it.
      const pop = populationsOf(st).inFlight;
      pop[s] = holding > 0 ? (pop[s]! + dtW * startRate * admit[s]!) / (1 + dtW / holding) : 0;
    }
  }
  // A step starts after its think times AND the latency of the steps before it in its iteration
  // (the engine sends it when the previous answer came back): under a backlog of seconds, later
  // steps arrive event-minutes later than the think times alone say. The last step's mean latencies
  // stand for the iteration's (wall ms → event s).
  // A growing offset holds requests back and a shrinking one releases them: the rate is scaled by
  // (1 − d offset/dt), so every planned request is still sent once, and while a backlog builds the
  // later steps arrive slower than planned (the iterations in flight grow instead), as live. The
  // latency behind the offset is smoothed over OFFSET_SMOOTHING_WALL_S: fed back raw, bursts and
  // lulls alternated.
  let before = 0;
  const alpha = Math.min(1, dtW / OFFSET_SMOOTHING_WALL_S);
  for (let j = 0; j < flats.length; j++) {
    const f = flats[j]!;
    if (f.first) before = 0;
    const offset = f.d.offset + (before * st.inputs.k) / 1000;
    st.offsetRate[j] = Math.min(3, Math.max(0, 1 - (offset - st.startOffset[j]!) / st.inputs.dtE));
    st.startOffset[j] = offset;
    st.smoothLatencyMs[j] = st.smoothLatencyMs[j]! + alpha * (st.flatLatencyMs[j]! - st.smoothLatencyMs[j]!);
    before += st.smoothLatencyMs[j]!;
  }
  const edge = edgeOriginShares(st, mid);
  const toOrigin = edge?.shares;
  // A replay's iterations' first requests reach each deployable whatever it holds (an open stream);
  // the later ones come from the iterations in flight (serveDeployables).
  const pops = st.clientCapped ? populationsOf(st) : undefined;
  pops?.open.fill(0);
  const even = plan.arrivals === 'even';
  let prevCa2 = 1;
  let prevOffset = -1;
  for (let j = 0; j < flats.length; j++) {
    const f = flats[j]!;
    // A cached page's plan rate was read for the edge just now (the same cursor, the same time).
    const planned = edge?.steps[j] ? edge.planned[j]! : f.rate(mid - st.startOffset[j]!);
    const rate = planned * st.offsetRate[j]! * admit[f.scenario]!;
    if (rate <= 0) continue;
    reqOf[j] = rate * dtW;
    // A cached page's hits stay at the edge: only its misses reach the deployables and the stores.
    st.originShare[j] = toOrigin ? toOrigin[j]! : 1;
    const req = rate * dtW * st.originShare[j]!;
    if (st.keepsTimeline) countAtEdge(st, f, rate * dtW, req);
    // How regular this stream's arrivals are: an iteration's first request with evenly spaced
    // arrivals comes like clockwork (ca² = 0); a request after a think time, or Poisson arrivals, as
    // a Poisson stream (ca² = 1); a request sent the moment the previous answer came back (no think
    // time) leaves as that answer left its deployable: QNA's departure spread
    // ρ²·cs² + (1 − ρ²)·ca²(previous step) (Whitt 1983), regular when the deployable is busy.
    let ca2 = even && f.first ? 0 : 1;
    if (!f.first && f.d.offset === prevOffset) {
      const entry = f.svc[0];
      const r2 = entry ? Math.min(1, entry.lastRho) ** 2 : 0;
      ca2 = r2 * (entry?.lastCs2 ?? 1) + (1 - r2) * prevCa2;
    }
    prevCa2 = ca2;
    prevOffset = f.d.offset;
    // Requests a deployable rejected (last step's rate) never reach the ones behind it, and those
    // waiting in its queue reach them only when it serves them (its last step's `passOn`): a
    // saturated gateway passes its product views to the catalog at its own pace, not the client's.
    // (Until 2026-12-03 session 14 every deployable of a path saw the client's rate: in product-
    // drop's surge the replay's catalog got 112 requests a minute while the live one, behind a
    // saturated gateway, got 80, and scaled out where the live one never did.)
    // Each hold at a deployable is one of its requests (an add-to-cart is two at the cart), as its
    // balancer counts them: its queue's arrivals, mean demand and spread are per hold. (Until
    // 2026-12-03 session 11 a step's holds there were one request of their summed CPU-ms: the cart's
    // two holds of 13 and 21 ms one 34-ms request beyond its 25-ms burst, a spent quota's slowdown
    // the live cart never had; docs/simulation.md.)
    let pass = 1;
    for (let q = 0; q < f.svc.length; q++) {
      const s = f.svc[q]!;
      const n = req * pass * f.visits[q]!;
      s.arrCa2 += n * ca2;
      s.arrSq += n * n;
      // A replay's (the only queue that reads it): over the long run a later step is its iteration's
      // start delayed by a bounded time, as regular as the starts and one stream with them (the
      // scenario's steps come one after another).
      if (pops) {
        s.longCa2 += n * (even ? 0 : 1);
        if (s.scenarioAt !== f.scenario) {
          s.longSq += s.scenarioReqs * s.scenarioReqs;
          s.scenarioReqs = 0;
          s.scenarioAt = f.scenario;
        }
        s.scenarioReqs += n;
      }
      s.work += req * pass * f.cpu[q]!;
      s.work2 += req * pass * f.cpu2[q]!;
      s.workOver += req * pass * f.over[q]!;
      s.pOffered += req * f.cpu[q]!;
      s.reqs += n;
      if (pops && f.first) pops.open[pops.index.get(s)!]! += n;
      pass *= (1 - s.rejectFrac) * s.passOn;
    }
    // Its events reach their consumers once it got through (simulation/events.ts): a Poisson stream
    // of holds there, requests at their balancer in headless, in-process work in the monolith.
    for (let e = 0; e < f.events.length; e++) {
      const ev = f.events[e]!;
      const s = ev.at;
      const n = req * pass * ev.holds;
      if (ev.counted) {
        s.reqs += n;
        s.arrCa2 += n;
        s.arrSq += n * n;
        if (pops) {
          s.longCa2 += n;
          s.longSq += n * n;
        }
      }
      s.work += n * ev.cpuMs;
      s.work2 += n * ev.cpuMs * ev.cpuMs;
      s.pOffered += req * ev.holds * ev.cpuMs;
    }
    for (const u of f.tables) {
      if (u.hot) {
        u.tb.stepHotRead += req * u.r;
        u.tb.stepHotWrite += req * u.w;
      } else {
        u.tb.stepRead += req * u.r;
        u.tb.stepWrite += req * u.w;
      }
    }
  }
}

/**
 * The edge's counts for the period (its timeline record, simulate-period.ts): every request passes
 * the edge; a cached page's are hits or misses (its origin share), the rest are passed to the origin.
 */
function countAtEdge(st: SimState, f: Flat, all: number, toOrigin: number): void {
  const e = st.edgePeriod;
  const at = f.route * EDGE_FIELDS;
  e[at]! += all;
  e[at + 4]! += all * (f.d.responseBytes ?? 0);
  if (f.d.edge) {
    e[at + 1]! += all - toOrigin;
    e[at + 2]! += toOrigin;
  } else e[at + 3]! += all;
}

/** A run's edge steps, and the step's scratch (allocated once per run). */
interface EdgeScratch {
  steps: (EdgeStep | null)[];
  any: boolean;
  keyspaces: KeyspaceIndex;
  /** Each cached page's plan rate at this step (`Flat.rate`), read once for the edge and the demand. */
  planned: Float64Array;
  /** Each flat's rate in requests per event second at the edge (0: not a cached page). */
  rates: Float64Array;
  shares: Float64Array;
}

const edgeCache = new WeakMap<SimState, EdgeScratch>();

/**
 * The edge cache (simulation/edge-cache.ts): per flat, the share of its requests that misses the
 * edge and reaches the origin at this step's rates; undefined when no step is a cached page.
 */
function edgeOriginShares(st: SimState, mid: number): EdgeScratch | undefined {
  let e = edgeCache.get(st);
  if (!e) {
    const steps = st.flats.map((f) => f.d.edge);
    e = {
      steps,
      any: steps.some((x) => x !== null),
      keyspaces: keyspaceIndexOf(steps),
      planned: new Float64Array(steps.length),
      rates: new Float64Array(steps.length),
      shares: new Float64Array(steps.length),
    };
    edgeCache.set(st, e);
  }
  if (!e.any) return undefined;
  for (let j = 0; j < st.flats.length; j++) {
    if (!e.steps[j]) continue;
    const f = st.flats[j]!;
    e.planned[j] = f.rate(mid - st.startOffset[j]!);
    // Requests per EVENT second: the edge's TTLs are event seconds.
    e.rates[j] = (e.planned[j]! * st.admit[f.scenario]!) / st.inputs.k;
  }
  computeOriginShares(e.steps, e.rates, e.shares, e.keyspaces);
  return e;
}

/**
 * Per service, the scenarios that visit it (null: one has no think time); per scenario, the
 * iterations in flight; per service, this step's requests that are an iteration's first.
 */
interface Populations {
  members: (number[] | null)[];
  inFlight: Float64Array;
  open: Float64Array;
  index: Map<SimService, number>;
}

const populationCache = new WeakMap<SimState, Populations>();

/**
 * Per service (in `svcList` order), the scenarios whose steps visit it, and per scenario the
 * iterations in flight this step (set by `offerDemand` when the load generator's cap is modelled).
 */
function populationsOf(st: SimState): Populations {
  let e = populationCache.get(st);
  if (!e) {
    const members = st.svcList.map((svc) => {
      const set = new Set<number>();
      for (const f of st.flats) if (f.svc.includes(svc)) set.add(f.scenario);
      const list = [...set].sort((a, b) => a - b);
      // Iterations without think time are no thinking sources: their requests come as the
      // iterations arrive (an open stream), so such a deployable keeps the open model.
      return list.some((s) => !(st.thinkWall[s]! > 0)) ? null : list;
    });
    const n = st.plan.scenarios.length;
    e = {
      members,
      inFlight: new Float64Array(n),
      open: new Float64Array(st.svcList.length),
      index: new Map(st.svcList.map((svc, i) => [svc, i])),
    };
    populationCache.set(st, e);
  }
  return e;
}

/**
 * The requests that can be at a deployable at once in a replay of a load generator's run: its
 * iterations in flight (each has at most one request outstanding at any one deployable) of the
 * scenarios that visit it; undefined (an open population) when the generator is not modelled, or
 * when a scenario that visits it has no think time.
 */
function populationAt(st: SimState, index: number): number | undefined {
  if (!st.clientCapped) return undefined;
  const { members, inFlight } = populationsOf(st);
  const list = members[index];
  if (!list) return undefined;
  let n = 0;
  for (const s of list) n += inFlight[s]!;
  return n;
}

/** 3. Stores: the share each hot partition and each table's ceiling throttles this step. */
export function throttleStores(st: SimState): void {
  const { dtW, hotKeys, limits } = st.inputs;
  for (const tb of st.tables.values()) {
    const hotKeyRead = tb.stepHotRead / hotKeys / dtW;
    const hotKeyWrite = tb.stepHotWrite / hotKeys / dtW;
    tb.hotReadFrac = hotKeyRead > limits.partitionReadUnits ? 1 - limits.partitionReadUnits / hotKeyRead : 0;
    tb.hotWriteFrac =
      hotKeyWrite > limits.partitionWriteUnits ? 1 - limits.partitionWriteUnits / hotKeyWrite : 0;
    const readRate = (tb.stepRead + tb.stepHotRead * (1 - tb.hotReadFrac)) / dtW;
    const writeRate = (tb.stepWrite + tb.stepHotWrite * (1 - tb.hotWriteFrac)) / dtW;
    tb.readFrac = readRate > tb.readCeil ? 1 - tb.readCeil / readRate : 0;
    tb.writeFrac = writeRate > tb.writeCeil ? 1 - tb.writeCeil / writeRate : 0;
    tb.throttling = tb.hotReadFrac > 0 || tb.hotWriteFrac > 0 || tb.readFrac > 0 || tb.writeFrac > 0;
    const servedRead = readRate * (1 - tb.readFrac);
    const servedWrite = writeRate * (1 - tb.writeFrac);
    tb.minuteRead = Math.max(tb.minuteRead, servedRead);
    tb.minuteWrite = Math.max(tb.minuteWrite, servedWrite);
    tb.peakRead = Math.max(tb.peakRead, servedRead);
    tb.peakWrite = Math.max(tb.peakWrite, servedWrite);
  }
}

/**
 * 4. Deployables: each healthy task is a queue whose length follows the load over time
 * (simulation/queueing.ts `transientStep`) towards its steady state (`taskQueue`: M/G/c for whole
 * vCPUs, a CFS-quota token bucket for fractional ones): requests beyond the tasks' bounded queues
 * are rejected (503); the wait is the queue's length over its throughput (Little's law), its part up
 * to the steady-state wait random and the rest a backlog every request of the step waits behind.
 * Then the period's metrics.
 */
export function serveDeployables(st: SimState): void {
  const { dtW, overhead, queuePerVcpu } = st.inputs;
  // The share of a task's CPU its requests get (all of it on the local emulator: its overhead is
  // only reported).
  const usable = st.options.overheadTakesCapacity === false ? 1 : 1 - overhead;
  for (let si = 0; si < st.svcList.length; si++) {
    const s = st.svcList[si]!;
    const healthy = s.counts.healthy;
    const capRate = healthy * s.size.vcpu * 1000 * usable * s.efficiency;
    if (s.reqs > 0) {
      s.lastDemand = s.work / s.reqs;
      // The request mix's spread of CPU demand (squared coefficient of variation).
      s.lastCs2 = s.lastDemand > 0 ? Math.max(0, s.work2 / s.reqs / (s.lastDemand * s.lastDemand) - 1) : 0;
      s.lastOverBurst = s.workOver / s.reqs;
      // The superposed streams' ca² (Whitt's QNA), ν = 1 / Σ(share²) the effective number of streams.
      const nu = s.arrSq > 0 ? (s.reqs * s.reqs) / s.arrSq : 1;
      s.lastCa2 = superposedCa2(s.arrCa2 / s.reqs, nu, s.lastRho);
      // A replay's: the same over the long run, ν the effective number of scenarios, each regular.
      if (st.clientCapped) {
        const longSq = s.longSq + s.scenarioReqs * s.scenarioReqs;
        const nuLong = longSq > 0 ? (s.reqs * s.reqs) / longSq : 1;
        s.lastLongCa2 = superposedCa2(s.longCa2 / s.reqs, nuLong, s.lastRho);
      }
    }
    const meanDemand = s.lastDemand;
    let served = 0;
    let rho = 1;
    let wq = 0;
    let wb = 0;
    let waitProb = 0;
    // Wall ms a request holds a slot per CPU-ms of its demand (the quota's speed when nothing is known).
    let perCpuMs = s.slowdown;
    if (healthy > 0 && meanDemand > 0) {
      // Per task: requests/s arriving and served with every slot busy, and the requests in its system.
      const mu = capRate / healthy / meanDemand;
      // The mix's CPU beyond a fractional task's burst (vCPU × 100 ms), in the queue's CPU-ms.
      const overBurstMs = s.lastOverBurst / (usable * (s.efficiency || 1));
      // The balancer sends each request to the task with the fewest outstanding requests (the
      // local balancers do, as ALB's "least outstanding requests"): the healthy tasks wait as one pool.
      // The queue's inputs in one scratch object, set field by field (`taskQueue` reads them at once).
      const t = queueScratch;
      t.vcpu = s.size.vcpu;
      t.mu = mu;
      t.cs2 = s.lastCs2;
      t.ca2 = s.lastCa2;
      t.ca2Long = st.clientCapped ? s.lastLongCa2 : undefined;
      t.overBurstMs = overBurstMs;
      t.pool = healthy;
      // A replay's load generator: its iterations in flight bound the queue (a finite source).
      t.population = populationAt(st, si);
      // Of those, an iteration's first requests come whatever the pool holds.
      t.openShare = st.clientCapped ? populationsOf(st).open[si]! / s.reqs : 0;
      const q = taskQueue(t, s.queue ?? undefined);
      s.queue = q;
      s.inSystemAt ??= (r) => (s.queue as TaskQueue).inSystem(r);
      // The slope this service's last step ended with starts this one's solve (queueing.ts).
      stepScratch.slope = s.lastSlope;
      const step = transientStep(
        s.inSystem / healthy,
        s.reqs / dtW / healthy,
        mu,
        s.inSystemAt,
        dtW,
        s.lastRho,
        stepScratch,
      );
      s.lastSlope = step.slope ?? Number.NaN;
      // A task holds its slots' requests and its bounded queue (64 per vCPU, as the local replicas);
      // what would exceed them is rejected at once.
      const most = s.slots + queuePerVcpu * Math.max(1, s.size.vcpu);
      const rejected = step.x > most ? (step.x - most) * healthy : 0;
      const x = Math.min(step.x, most);
      const admitted = s.reqs - rejected;
      const finished = admitted - (x * healthy - s.inSystem);
      s.inSystem = x * healthy;
      s.rejectFrac = s.reqs > 0 ? Math.min(1, rejected / s.reqs) : 0;
      // At most 1: while its queue drains it passes on what arrives, and the calls of the backlog it
      // drains are not passed on (an undercount: 0.3-1.2% of each deployable's requests over
      // flash-sale's hour). A ratio above 1, taken over one step and applied to the next one's
      // arrivals, is not conserved when they change: session 14's first cut fed the drains' ratios into
      // the next surge, compounded them along the paths, and took flash-sale's every leaf to its
      // 10-task maximum (a bounded release of what was held back still reached 7).
      s.passOn = admitted > 1e-9 ? Math.min(1, Math.max(0, finished / admitted)) : 1;
      rho = step.rho;
      s.lastRho = rho;
      served = capRate * rho * dtW;
      // Little's law on the queue: the requests waiting over the task's throughput (ms).
      const throughput = mu * rho;
      wq = throughput > 0 ? (1000 * Math.max(0, x - q.inService(rho))) / throughput : 0;
      // Up to the steady-state wait at this utilisation it is the queue's randomness; beyond, a
      // backlog built while the load exceeded capacity, the same for every request of the step.
      const steady = q.wait(rho);
      wb = Math.max(0, wq - steady);
      // The random part falls on the requests that wait (queueing.ts `waitShape`): behind the least-
      // outstanding-requests balancer, one replica's hold, made likelier by the requests outstanding
      // there off its CPU (the last step's, counted by recordFlat).
      const offCpu = s.offCpuWork / (1000 * dtW);
      const shape = waitShape(
        Math.min(wq, steady),
        q.pooledWaitGiven(rho),
        q.holdResidual(rho),
        healthy * (s.size.vcpu < 1 ? 1 : Math.max(1, Math.floor(s.size.vcpu))),
        healthy,
        rho,
        offCpu,
      );
      waitProb = shape.prob;
      wq = wb + shape.prob * shape.given;
      // The slowdown a spent CFS quota gives (1 for whole vCPUs). The requests' own CPU-ms stay the
      // demand table's: a measured efficiency says how much other work (events, sweeps) a task does
      // besides, which the wait above counts through ρ.
      perCpuMs = q.serviceTime(rho) / q.demandMs;
    } else {
      s.rejectFrac = s.reqs > 0 ? 1 : 0;
      s.passOn = 1;
    }
    // A request's time in service: its CPU-ms there × this step's wall ms per CPU-ms (a fractional
    // task runs at full speed while its CFS quota lasts, at vCPU speed once it is spent: queueing.ts;
    // a queue with no request yet: the quota's speed, as before).
    s.stepSlowdown = perCpuMs;
    const serviceTime = meanDemand * perCpuMs;
    s.waitMs = wq;
    s.backlogWaitMs = wb;
    s.waitProb = waitProb;
    s.offCpuWork = 0;
    // Metric period accumulators: CPU over running tasks includes the task's own overhead.
    const runningCap = s.counts.running * s.size.vcpu * 1000 * dtW;
    s.pBusy += served / (s.efficiency || 1) + overhead * runningCap;
    s.pCap += runningCap;
    s.pReqs += s.reqs;
    s.pHealthySum += healthy;
    s.pSteps++;
    s.pRejected += s.reqs * s.rejectFrac;
    s.pLatencyW += s.reqs;
    s.pLatencySum += s.reqs * (serviceTime + s.waitMs);
  }
}

/** `taskQueue`'s inputs for the service being served (every field set before each call). */
const queueScratch: Parameters<typeof taskQueue>[0] = {
  vcpu: 1,
  mu: 0,
  cs2: 0,
  ca2: 1,
  ca2Long: undefined,
  overBurstMs: 0,
  pool: 1,
  population: undefined,
  openShare: 0,
};

/** `transientStep`'s answer for the service being served (read at once, before the next one's). */
const stepScratch: { x: number; rho: number; slope?: number } = { x: 0, rho: 0, slope: Number.NaN };

/** 5. The client's view of every (scenario, step): latency components, throttles, timeouts, failures. */
export function recordClientView(st: SimState): void {
  st.iterFail.fill(0);
  st.latencyWall.fill(0);
  st.latencyVarWall.fill(0);
  const memo = pathMemoOf(st);
  memo.step++;
  for (let j = 0; j < st.flats.length; j++) {
    const req = st.reqOf[j]!;
    if (req <= 0) continue;
    st.flatLatencyMs[j] = recordFlat(st, st.flats[j]!, req, st.originShare[j]!, memo, memo.group[j]!);
    if (st.keepsTimeline) countOriginLatency(st, st.flats[j]!, req, st.originShare[j]!, st.flatLatencyMs[j]!);
  }
}

/**
 * The edge's OriginLatency for the period (simulate-period.ts): the requests of a step that reached
 * the origin took, on average, the step's mean latency less its hits' share, which the edge answered in
 * one hop (`recordFlat`: mean = toOrigin × origin + (1 − toOrigin) × hop).
 */
function countOriginLatency(st: SimState, f: Flat, reqAll: number, toOrigin: number, meanMs: number): void {
  const origin = reqAll * toOrigin;
  if (origin <= 0) return;
  const originMs = Math.max(0, (meanMs - (1 - toOrigin) * st.inputs.hopMs) / toOrigin);
  st.edgePeriod[f.route * EDGE_FIELDS + 5]! += origin * originMs;
}

/** The share of a (scenario, step)'s requests the stores throttle, counted per table and owner. */
function throttleShare(st: SimState, f: Flat, req: number, ok0: number): number {
  let ok = ok0;
  for (const u of f.tables) {
    // Each owner's units and throttles per table are its timeline's (none kept without one).
    const e = st.keepsTimeline ? storeUnitsOf(st, u) : null;
    if (e) {
      e.readUnits += req * u.r;
      e.writeUnits += req * u.w;
    }
    // Nothing more to count where the table throttles no one this step (`throttleStores`).
    if (!u.tb.throttling) continue;
    const hotFrac = u.hot
      ? 1 - (1 - (u.r > 0 ? u.tb.hotReadFrac : 0)) * (1 - (u.w > 0 ? u.tb.hotWriteFrac : 0))
      : 0;
    const tableFrac = 1 - (1 - (u.r > 0 ? u.tb.readFrac : 0)) * (1 - (u.w > 0 ? u.tb.writeFrac : 0));
    // The partition throttles first; what passes it may still meet the table's ceiling.
    const hotThrottled = req * ok * hotFrac;
    const tableThrottled = req * ok * (1 - hotFrac) * tableFrac;
    u.tb.hotThrottled += hotThrottled;
    u.tb.throttled += tableThrottled;
    ok *= (1 - hotFrac) * (1 - tableFrac);
    if (e) e.throttles += hotThrottled + tableThrottled;
  }
  return ok;
}

/**
 * The table's owner's counts for this metric period (null: no owner deployed), resolved once per
 * flat (no lookups per step); zeroed and listed at the period's first count (its end clears the list).
 */
function storeUnitsOf(st: SimState, u: Flat['tables'][number]): StoreAccumulator | null {
  if (u.acc === undefined) {
    const owner = st.options.arch === 'monolith' ? 'monolith' : (TABLE_OWNER[u.tb.name] ?? 'gateway');
    const os = st.services.get(owner as ServiceName);
    u.acc = os ? storeAccumulator(os, u.tb.name) : null;
  }
  const e = u.acc;
  if (e && e.period !== st.periodStart) {
    e.readUnits = 0;
    e.writeUnits = 0;
    e.throttles = 0;
    e.period = st.periodStart;
    e.owner.pStore.set(u.tb.name, e);
  }
  return e;
}

/** Scratch for a path's latency, its requests that waited nowhere and those that did (no allocation). */
const along = { shift: 0, tail: 0 };
const alongWaited = { shift: 0, tail: 0 };

/**
 * A path's latency at this step, kept for the other (scenario, step)s that take the same path with
 * the same hops (path-latency.ts `pathKey`) and charge the same deployables the same CPU-ms:
 * prime-day's 48 steps take 21 paths, and a path's latency, its client view (the timeout's share,
 * the recorded mean: four exponentials), the share its deployables pass and its CPU time there are a
 * function of the deployables' state, which nothing changes between serveDeployables and the next
 * step. The same figures, computed once per step instead of once per (scenario, step).
 */
interface PathMemo {
  /** Per flat, its group (path and hops). */
  group: Int32Array;
  /** The step counter, and per group the step its values were computed at. */
  step: number;
  stamp: Float64Array;
  /** Per group, PATH_MEMO_FIELDS values (see `recordFlat`). */
  values: Float64Array;
}

const PATH_MEMO_FIELDS = 9;

const pathMemoCache = new WeakMap<SimState, PathMemo>();

function pathMemoOf(st: SimState): PathMemo {
  let m = pathMemoCache.get(st);
  if (!m) {
    const ids = new Map<unknown, number>();
    const idOf = (at: unknown) => {
      let id = ids.get(at);
      if (id === undefined) {
        id = ids.size;
        ids.set(at, id);
      }
      return id;
    };
    const groups = new Map<string, number>();
    const group = new Int32Array(st.flats.length);
    st.flats.forEach((f, j) => {
      const key = `${f.d.hops}|${pathKey(f.path, idOf)}|${f.svc.map(idOf).join(',')}:${f.cpu.join(',')}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = groups.size;
        groups.set(key, g);
      }
      group[j] = g;
    });
    m = {
      group,
      step: 0,
      stamp: new Float64Array(groups.size).fill(-1),
      values: new Float64Array(groups.size * PATH_MEMO_FIELDS),
    };
    pathMemoCache.set(st, m);
  }
  return m;
}

/**
 * A local replay's store (simulation/local-store.ts): the share of a request that writes one key
 * twice which the local store's per-replica partition limit throttles, counted on the key's table
 * for its owner; returns what passes.
 */
function localSelfThrottle(st: SimState, f: Flat, req: number, ok: number): number {
  const local = st.options.localStore;
  const w = f.d.keyWrites;
  const owner = f.keyOwner;
  if (!local || !w || !owner || ok <= 0) return ok;
  const n = Math.max(1, owner.counts.healthy);
  const limit = (local.partitionWriteUnitsPerSec * local.localScale) / n;
  // One process serves the whole request in the monolith; in headless each write is its own call
  // through the least-outstanding-requests balancer (any of the n replicas alike).
  const sameReplica = owner.name === 'monolith' ? 1 : 1 / n;
  const share = selfThrottleShare(w, limit, sameReplica);
  if (share <= 0) return ok;
  const throttled = req * ok * share;
  const tb = st.tables.get(w.table);
  if (tb) tb.throttled += throttled;
  let e = owner.pStore.get(w.table);
  if (!e) {
    e = { readUnits: 0, writeUnits: 0, throttles: 0 };
    owner.pStore.set(w.table, e);
  }
  e.throttles += throttled;
  return ok * (1 - share);
}

/**
 * One (scenario, step)'s requests this step, into its series bucket: the share `toOrigin` that
 * reaches the deployables (all of them but a cached page's edge hits) gets the path's latency; the
 * edge's hits are answered there, in one network hop (`hopMs`; assumption: the edge is as near as a
 * service-to-service hop, the client's own network is in neither).
 */
function recordFlat(
  st: SimState,
  f: Flat,
  reqAll: number,
  toOrigin: number,
  memo: PathMemo,
  group: number,
): number {
  const { hopMs, timeoutMs } = st.inputs;
  const req = reqAll * toOrigin;
  const hits = reqAll - req;
  // Its hops between deployables and the one into the first (the balancer's: an origin request pays
  // it as an edge hit pays the edge's).
  const netMs = (f.d.hops + 1) * hopMs;
  // Along the request's path (simulation/call-path.ts, path-latency.ts): each visit's own CPU-ms at
  // full speed and the fluid backlog every request of the step waits behind are its floor (the demand
  // table's cost of an operation is fixed: the live replicas' fastest answers take exactly it); a spent
  // CFS quota's slowdown and the M/G/c wait vary (exponential, independent from visit to visit). Visits
  // in series add their means and variances, parallel legs (the gateway's Promise.all) take their
  // maximum, an external wait (a checkout's card authorization) is one more part of the series; the
  // whole is a shifted exponential with that mean and variance. (Until 2026-12-03 every deployable's
  // wait was counted once and in series, and the variable parts added into one exponential tail: the
  // p95 of a step through four busy services was that of one service four times as slow.)
  // The requests that waited at no visit and those that waited somewhere are two components (their
  // chance `waitedShare`): a visit's wait is zero for most requests and long for the few that wait,
  // which one exponential of the mean cannot carry (docs/simulation.md, session 10).
  const v = memo.values;
  const at = group * PATH_MEMO_FIELDS;
  if (memo.stamp[group] !== memo.step) {
    memo.stamp[group] = memo.step;
    // The share its deployables do not reject and its CPU time there at this step's speed (the same
    // deployables and CPU-ms for the whole group: its key names them).
    let pass = 1;
    let cpuTime = 0;
    for (let q = 0; q < f.svc.length; q++) {
      const s = f.svc[q]!;
      pass *= 1 - s.rejectFrac;
      cpuTime += f.cpu[q]! * s.stepSlowdown;
    }
    v[at + 7] = pass;
    v[at + 8] = cpuTime;
    const share = pathLatencySplit(f.path, along, alongWaited);
    const s0 = along.shift + netMs;
    const s1 = alongWaited.shift + netMs;
    v[at] = share;
    v[at + 1] = s0;
    v[at + 2] = along.tail;
    v[at + 3] = s1;
    v[at + 4] = alongWaited.tail;
    // The client gives up at its timeout: what would take longer fails as a timeout.
    v[at + 5] =
      (1 - share) * timeoutFraction(s0, along.tail, timeoutMs) +
      share * timeoutFraction(s1, alongWaited.tail, timeoutMs);
    // The mean the client records for those served (timeouts at the timeout).
    v[at + 6] =
      (1 - share) * truncatedMean(s0, along.tail, timeoutMs) +
      share * truncatedMean(s1, alongWaited.tail, timeoutMs);
  }
  const waitedShare = v[at]!;
  const shift0 = v[at + 1]!;
  const tail0 = v[at + 2]!;
  const shift1 = v[at + 3]!;
  const tail1 = v[at + 4]!;
  const late = v[at + 5]!;
  const svcTime = v[at + 8]!;
  const ok = throttleShare(st, f, req, v[at + 7]!);
  // A local replay's store throttles a checkout's own second write (its commit, after the card
  // authorization): that request fails having taken the path's time, not at once.
  const inTime = localSelfThrottle(st, f, req * (1 - late), ok) * (1 - late);
  const fail = 1 - inTime;
  const b = f.bucket;
  b.requests += reqAll;
  b.failed += req * fail;
  const okW = req * ok * waitedShare;
  const ok0 = req * ok - okW;
  b.served += ok0;
  b.servedWaited += okW;
  b.timeouts += req * ok * late;
  b.wShift += ok0 * shift0;
  b.wTail += ok0 * tail0;
  b.wShiftWaited += okW * shift1;
  b.wTailWaited += okW * tail1;
  // Rejected and throttled requests return at once: the hops and half the service time.
  const fastShift = 0.5 * svcTime + netMs;
  b.rejected += req * (1 - ok);
  b.wRejected += req * (1 - ok) * fastShift;
  b.hits += hits;
  const servedMs = v[at + 6]!;
  // The mean latency the client records for this step (ms).
  const meanMs = toOrigin * (ok * servedMs + (1 - ok) * fastShift) + (1 - toOrigin) * hopMs;
  if (st.clientCapped) {
    st.latencyWall[f.scenario]! += meanMs / 1000;
    // The step's spread: its exponential tails and the two components' distance (the shifts differ
    // little within a step otherwise).
    const t0 = Math.min(tail0, timeoutMs);
    const t1 = Math.min(tail1, timeoutMs);
    const m0 = shift0 + t0;
    const m1 = shift1 + t1;
    const spread =
      (1 - waitedShare) * t0 * t0 + waitedShare * t1 * t1 + waitedShare * (1 - waitedShare) * (m1 - m0) ** 2;
    st.latencyVarWall[f.scenario]! += (toOrigin * ok * spread) / 1e6;
  }
  st.iterFail[f.scenario] = 1 - (1 - st.iterFail[f.scenario]!) * (1 - toOrigin * fail);
  // Its entry deployable's balancer counts the request outstanding for the rest of its path (the
  // calls it makes, an external wait), off that deployable's CPU (queueing.ts `waitShape`).
  const first = entryVisit(f.path);
  if (first?.at) {
    const entry = first.at as SimService;
    const entryMs = first.cpuMs * entry.stepSlowdown + entry.waitMs;
    const pathMs = servedMs - netMs;
    if (pathMs > entryMs) entry.offCpuWork += req * ok * (pathMs - entryMs);
  }
  return meanMs;
}

/** Iterations started this step are the first steps' requests; one fails if any of its steps fails. */
export function countIterations(st: SimState): void {
  for (let s = 0; s < st.plan.scenarios.length; s++) {
    const j = st.firstFlat[s]!;
    if (j < 0) continue;
    const started = st.reqOf[j]!;
    const ib = st.iterBuckets[s]!;
    ib.started += started;
    ib.failSum += started * st.iterFail[s]!;
  }
}
