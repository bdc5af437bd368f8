/**
 * The simulator's state, built once from (plan, options) and passed explicitly to every part of the
 * model: the resolved inputs, the services and tables, the flattened (scenario, step) demands, the
 * series/timeline being written, and the run's running totals. simulate.ts owns the loop; the step
 * (simulate-step.ts), the metric period (simulate-period.ts), the series interval
 * (simulate-series.ts) and the summary (simulate-summary.ts) read and update this one object.
 */
import { invalidInput } from '../core/errors.ts';
import type {
  EdgeTimelineRecord,
  ScalingActivity,
  SeriesRecord,
  TimelineRecord,
} from '../core/run-format.ts';
import { createScalingState, tasksAt } from '../reference-stack/autoscaling/decide.ts';
import { serviceScalingFor } from '../reference-stack/autoscaling/scaling-file.ts';
import type {
  MetricDatapoint,
  ScalingState,
  ServiceScaling,
  TaskCounts,
} from '../reference-stack/autoscaling/types.ts';
import { EDGE_ROUTES } from '../reference-stack/edge/cache-policy.ts';
import {
  DEFAULT_TASK_SIZES,
  isPageOperation,
  type ServiceName,
  type TaskSize,
  TOPOLOGIES,
  type Topology,
} from '../reference-stack/topology.ts';
import { meanThinkSeconds } from '../scenarios/compile.ts';
import type { ThinkTime } from '../scenarios/journey.ts';
import type { Plan } from '../scenarios/plan.ts';
import { evaluate } from '../scenarios/rate-function.ts';
import { type CallPath, pathVisits } from './call-path.ts';
import { computeScenarioDemands, type ScenarioDemand, type StepDemand } from './demand.ts';
import { PAGE_ROUTES } from './edge-cache.ts';
import { createLaunchQueue, type LaunchQueue } from './launch-queue.ts';
import { type BoundPath, compilePath, type PathNode } from './path-latency.ts';
import type { MixtureComponent, TaskQueue } from './queueing.ts';
import {
  type IntervalLatency,
  SIMULATION_INPUTS,
  type SimulateOptions,
  type StoreLimits,
  seriesResolution,
} from './simulate-types.ts';
import { createTaskCounter, type TaskCounter } from './task-counter.ts';

/** The options with every default applied, and the clock derived from the plan. */
export interface ResolvedInputs {
  /** Event seconds per step, and wall seconds per step (event ÷ time scale). */
  dtE: number;
  dtW: number;
  /** The plan's time scale (event seconds per wall second). */
  k: number;
  periodS: number;
  resolution: number;
  hotKeys: number;
  launch: { burst: number; perSecond: number };
  hopMs: number;
  queuePerVcpu: number;
  /** Task CPU overhead as a fraction. */
  overhead: number;
  timeoutMs: number;
  limits: StoreLimits;
  t0: number;
  t1: number;
  nSteps: number;
  /** Metric periods a table needs to adapt to a new peak. */
  adaptPeriods: number;
}

/** Applies the defaults (SIMULATION_INPUTS) and checks the step and resolution. */
export function resolveInputs(plan: Plan, options: SimulateOptions): ResolvedInputs {
  const dtE = options.stepSeconds ?? 1;
  if (!(dtE > 0)) throw invalidInput('simulate-invalid', `step must be positive, got ${dtE}`);
  const periodS = options.periodSeconds ?? SIMULATION_INPUTS.periodSeconds.value;
  const resolution = options.resolutionSeconds ?? seriesResolution(plan.eventEnd - plan.eventStart);
  if (resolution % periodS !== 0 && periodS % resolution !== 0) {
    throw invalidInput(
      'simulate-invalid',
      `resolution ${resolution}s must align with the ${periodS}s metric period`,
    );
  }
  const k = plan.timeScale;
  const limits: StoreLimits = { ...SIMULATION_INPUTS.store.value, ...(options.store ?? {}) };
  return {
    dtE,
    dtW: dtE / k,
    k,
    periodS,
    resolution,
    hotKeys: options.hotKeys ?? SIMULATION_INPUTS.hotKeys.value,
    launch: options.launchRate ?? SIMULATION_INPUTS.launchRate.value,
    hopMs: options.hopLatencyMs ?? SIMULATION_INPUTS.hopLatencyMs.value,
    queuePerVcpu: options.queueLimitPerVcpu ?? SIMULATION_INPUTS.queueLimitPerVcpu.value,
    overhead: (options.overheadPct ?? SIMULATION_INPUTS.overheadPct.value) / 100,
    timeoutMs: options.clientTimeoutMs ?? SIMULATION_INPUTS.clientTimeoutMs.value,
    limits,
    t0: plan.eventStart,
    t1: plan.eventEnd,
    nSteps: Math.round((plan.eventEnd - plan.eventStart) / dtE),
    adaptPeriods: Math.max(1, Math.round(limits.adaptSeconds / periodS)),
  };
}

/** A service as the simulator tracks it. */
export interface SimService {
  name: ServiceName;
  size: TaskSize;
  slots: number;
  /** Wall ms per CPU-ms when the task's CPU quota is spent (slots ÷ vCPU: 4 for a 0.25-vCPU task). */
  slowdown: number;
  /** This step's wall ms per CPU-ms (see step 4: between 1 and `slowdown` with the quota's use). */
  stepSlowdown: number;
  efficiency: number;
  scaling: ServiceScaling;
  state: ScalingState;
  history: MetricDatapoint[];
  counts: TaskCounts;
  counter: TaskCounter;
  nextChange: number;
  /**
   * Mean requests in the system (queued or in service) over the healthy tasks: the transient M/M/c
   * queue's state (simulation/queueing.ts `transientQueueStep`), carried from step to step.
   */
  inSystem: number;
  /** The last step's mean CPU-ms per request (to drain a queue in a step without arrivals). */
  lastDemand: number;
  /** The last step's squared coefficient of variation of CPU-ms per request (the mix's spread). */
  lastCs2: number;
  /** The last step's mean CPU-ms per request beyond a fractional task's burst (vCPU × 100 ms). */
  lastOverBurst: number;
  /** The last step's squared coefficient of variation of the arrivals' spacing, and its utilisation. */
  lastCa2: number;
  /**
   * The last step's ca² over the long run (a replay): every request as regular as its iteration's
   * start, the streams being the scenarios, not their steps (docs/simulation.md, session 18).
   */
  lastLongCa2: number;
  lastRho: number;
  /** The slope of a task's requests in system over ρ its last queue step ended with (queueing.ts `transientStep`). */
  lastSlope: number;
  // per step
  work: number;
  /** Σ requests × CPU-ms² this step (for the spread of the demand). */
  work2: number;
  /** Σ requests × CPU-ms beyond the burst this step (fractional tasks). */
  workOver: number;
  /** Σ requests × their stream's ca², and Σ (requests per stream)², this step (arrival variability). */
  arrCa2: number;
  arrSq: number;
  /** The same over the long run: Σ requests × their scenario's starts' ca², Σ (requests per scenario)². */
  longCa2: number;
  longSq: number;
  /** The scenario whose requests this step are being summed (−1: none yet), and their count so far. */
  scenarioAt: number;
  scenarioReqs: number;
  reqs: number;
  rejectFrac: number;
  /**
   * What it passes on to the deployables behind it in a path, per request it admitted, from the last
   * step: the requests it finished over those it admitted while its queue grows (the calls it makes
   * wait with the requests that make them), else 1 (simulate-step.ts: a drain's calls are not added).
   */
  passOn: number;
  waitMs: number;
  /** The backlog part of `waitMs` (beyond the steady-state wait): the same for every request of the step. */
  backlogWaitMs: number;
  /** The share of its requests that wait at all this step (queueing.ts `waitShape`; path-latency.ts). */
  waitProb: number;
  /**
   * Σ requests × ms they stayed outstanding at it off its CPU (its entry's downstream calls, a card
   * authorization) in the last step's client view: what its balancer counted but its CPU did not serve.
   */
  offCpuWork: number;
  // per metric period
  pBusy: number;
  pCap: number;
  pReqs: number;
  pHealthySum: number;
  pSteps: number;
  pRejected: number;
  pLatencyW: number;
  pLatencySum: number;
  pStore: Map<string, { readUnits: number; writeUnits: number; throttles: number }>;
  /** Its store counts per table, reused from period to period (see {@link StoreAccumulator}). */
  storeAcc: Map<string, StoreAccumulator>;
  // whole run
  peakTasks: number;
  /** vCPU-seconds of tasks launched (pending or running), for cost. */
  vcpuSeconds: number;
  totalRequests: number;
  totalRejected: number;
  atMaxPeriods: number;
  quotaBlocked: number;
  /** CPU target (%) of the service's CPU target-tracking policy, 100 without one. */
  cpuTarget: number;
  /**
   * CPU demand offered this metric period (emulated CPU-ms, counting what upstream deployables
   * rejected: the need, not what arrived), and the busiest period's rate (CPU-ms per wall s).
   */
  pOffered: number;
  peakDemandRate: number;
  /** Ids of tasks the vCPU quota blocked (never started). */
  blocked: Set<number>;
  /**
   * Its queue's model at the last step (simulation/queueing.ts `taskQueue`, set up again every step)
   * and that model's `inSystem`, bound once: the step's hot path allocates neither.
   */
  queue: TaskQueue | null;
  inSystemAt: ((rho: number) => number) | null;
}

/** Tables as the simulator tracks them. */
export interface SimTable {
  name: string;
  peaksRead: number[];
  peaksWrite: number[];
  minuteRead: number;
  minuteWrite: number;
  readFrac: number;
  writeFrac: number;
  hotReadFrac: number;
  hotWriteFrac: number;
  /** Whether any of the four shares above is positive this step (the client's view skips the table if not). */
  throttling: boolean;
  stepRead: number;
  stepWrite: number;
  stepHotRead: number;
  stepHotWrite: number;
  throttled: number;
  hotThrottled: number;
  peakRead: number;
  peakWrite: number;
  /** Current ceilings (units/s): double the peak the table has adapted to; updated each period. */
  readCeil: number;
  writeCeil: number;
}

/** Per (scenario, step) accumulators of one series interval. */
export interface StepBucket {
  d: StepDemand;
  requests: number;
  failed: number;
  wShift: number;
  wTail: number;
  /** Requests that got a response in time or timed out (weight of wShift/wTail), and those that timed out. */
  served: number;
  /**
   * Of `served`, those that waited at some visit (a second component: simulation/path-latency.ts
   * `pathLatencySplit`), with their weighted shift and tail; wShift/wTail/served hold the others.
   */
  servedWaited: number;
  wShiftWaited: number;
  wTailWaited: number;
  timeouts: number;
  /** Requests rejected (503) or throttled, and their latency's sum (they return at once: no queueing). */
  rejected: number;
  wRejected: number;
  /** A cached page's requests the edge answered (latency: one hop). */
  hits: number;
  components: MixtureComponent[];
}

/** One (scenario, step) of the plan with its rate cursor and the services and tables it touches. */
export interface Flat {
  d: StepDemand;
  rate: (t: number) => number;
  svc: SimService[];
  cpu: number[];
  /**
   * Per deployable of `svc`: its holds per request (`visits`), their CPU-ms squared and summed
   * (`cpu2`) and their CPU-ms beyond a fractional task's burst, summed (`over`): its queue counts
   * each hold as a request, as its balancer does (simulation/call-path.ts `pathVisits`).
   */
  visits: number[];
  cpu2: number[];
  over: number[];
  /** The request's path with each visit bound to its deployable (its latency: simulation/path-latency.ts). */
  path: PathNode;
  /** Its domain events' deliveries, bound to the consuming deployables (`d.events`; off its path). */
  events: { at: SimService; holds: number; cpuMs: number; counted: boolean }[];
  /** The deployable whose replicas share the key's limit in a local replay's store (`d.keyWrites`). */
  keyOwner: SimService | undefined;
  /** `acc`: the owner's counts for the table, resolved at the first step (null: no owner deployed). */
  tables: { tb: SimTable; r: number; w: number; hot: boolean; acc?: StoreAccumulator | null }[];
  bucket: StepBucket;
  scenario: number;
  first: boolean;
  last: boolean;
  /** Index in EDGE_ROUTES of the edge route the request takes (its page's, else the API's). */
  route: number;
}

/** Everything the simulation reads and updates, passed explicitly to each part of the model. */
export interface SimState {
  plan: Plan;
  options: SimulateOptions;
  inputs: ResolvedInputs;
  services: Map<ServiceName, SimService>;
  svcList: SimService[];
  tables: Map<string, SimTable>;
  flats: Flat[];
  /** Per scenario: iterations started and their failure-weighted sum in the current interval. */
  iterBuckets: { started: number; failSum: number }[];
  /** Per scenario: index in `flats` of its first step (−1 if none). */
  firstFlat: number[];
  /** Per scenario: wall seconds of think time an iteration spends (for the concurrency cap). */
  thinkWall: number[];
  /** Per scenario: the variance (wall s²) of an iteration's think times. */
  thinkVarWall: number[];
  /** Per scenario: this step's mean wall seconds of latency an iteration spends, and its variance (s²). */
  latencyWall: Float64Array;
  latencyVarWall: Float64Array;
  /** Per scenario: the share of planned iterations the concurrency cap admits this step. */
  admit: Float64Array;
  /** Per scenario: iterations dropped at the cap in the current interval. */
  droppedInBucket: Float64Array;
  clientCapped: boolean;
  /**
   * Whether the run keeps its timeline (`SimulateOptions.timeline`): without it the per-period
   * counts only the timeline reads (the edge's, each owner's store units) are not kept.
   */
  keepsTimeline: boolean;
  /** Per scenario: this step's probability that an iteration fails. */
  iterFail: Float64Array;
  /** Per flat: requests issued this step. */
  reqOf: Float64Array;
  /** Per flat: the share of this step's requests that reaches the deployables (a page's edge misses; else 1). */
  originShare: Float64Array;
  /** Per flat: the mean latency (ms) its requests got in the last step they were sent. */
  flatLatencyMs: Float64Array;
  /** Per flat: event seconds from an iteration's start to this step (think times and earlier steps' latency). */
  startOffset: Float64Array;
  /** Per flat: 1 − the offset's change per event second (requests held back or released this step). */
  offsetRate: Float64Array;
  /** Per flat: its mean latency (ms) smoothed over `OFFSET_SMOOTHING_WALL_S` (what offsets the later steps). */
  smoothLatencyMs: Float64Array;

  /**
   * The edge's counts in the current metric period, per route of EDGE_ROUTES: requests, hits,
   * misses, passes (EDGE_FIELDS each), and its timeline records (CloudFront's metrics per period).
   */
  edgePeriod: Float64Array;
  edgeTimeline: EdgeTimelineRecord[];
  series: SeriesRecord[];
  timeline: TimelineRecord[];
  activities: ScalingActivity[];
  /** Per flat: the latency components of every interval, for the run's exact percentiles. */
  stepComponents: Map<Flat, MixtureComponent[]>;
  /** The same components with their interval and channel (SimulationResult `latencyComponents`). */
  intervalLatency: IntervalLatency[];
  launchQueue: LaunchQueue;
  launchDelayMax: number;
  /** Services whose waiting tasks may have gone (a scale-in, or tasks blocked by the quota). */
  touched: Set<number>;
  peakVcpu: number;
  quotaExceeded: boolean;
  totals: {
    requests: number;
    failed: number;
    timeouts: number;
    iterations: number;
    failedIterations: number;
    dropped: number;
  };
  periodStart: number;
  bucketStart: number;
}

/**
 * A service's reads, writes and throttles of one table in the current metric period (the timeline's
 * `stores`): one object per (service, table) for the whole run, zeroed and put back in the service's
 * `pStore` at its first count of each period (`period`: the period's start it counts for), so the
 * step's hot path allocates and looks up nothing.
 */
export interface StoreAccumulator {
  readUnits: number;
  writeUnits: number;
  throttles: number;
  period: number;
  owner: SimService;
}

/** The service's accumulator for `table` (created at its first use). */
export function storeAccumulator(owner: SimService, table: string): StoreAccumulator {
  let e = owner.storeAcc.get(table);
  if (!e) {
    e = { readUnits: 0, writeUnits: 0, throttles: 0, period: Number.NaN, owner };
    owner.storeAcc.set(table, e);
  }
  return e;
}

/**
 * Counters per edge route in `SimState.edgePeriod`: requests, hits, misses, passes, bytes sent to
 * clients, and the sum over origin requests of their latency at the origin (ms).
 */
export const EDGE_FIELDS = 6;

/** Variance (event s²) of one think time, for the spread of an iteration's time in flight. */
export function thinkVariance(t: ThinkTime | undefined): number {
  if (!t) return 0;
  switch (t.dist) {
    case 'constant':
      return 0;
    case 'uniform':
      return (t.max - t.min) ** 2 / 12;
    case 'exponential':
      return meanThinkSeconds(t) ** 2;
    case 'normal':
      return t.sd ** 2;
  }
}

/** A cursor over a piecewise-linear function evaluated at mostly non-decreasing times (it walks back too). */
export function createCursor(times: readonly number[], values: readonly number[]): (t: number) => number {
  let i = 0;
  const n = times.length;
  return (t) => {
    if (n === 0) return 0;
    if (t <= (times[0] as number)) return t < (times[0] as number) ? 0 : (values[0] as number);
    if (t >= (times[n - 1] as number)) return t > (times[n - 1] as number) ? 0 : (values[n - 1] as number);
    while (i < n - 2 && t >= (times[i + 1] as number)) i++;
    // A step's start offset grows with latency, so its time can step back a little.
    while (i > 0 && t < (times[i] as number)) i--;
    const t0 = times[i] as number;
    const t1 = times[i + 1] as number;
    const v0 = values[i] as number;
    const v1 = values[i + 1] as number;
    return t1 === t0 ? v1 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
  };
}

/** The first minute's load: CPU-ms/s per service and units/s per table (for the warm start). */
export interface StartLoad {
  demand: Map<string, number>;
  units: Map<string, { read: number; write: number }>;
}

/**
 * Warm start: each service begins at the count its target-tracking policy holds at the first
 * minute's load (assumption: the system ran at that load before the event), not at its floor.
 */
export function startLoad(plan: Plan, scenarios: ScenarioDemand[], warm: boolean): StartLoad {
  const demand = new Map<string, number>();
  const units = new Map<string, { read: number; write: number }>();
  if (!warm) return { demand, units };
  for (const sc of scenarios) {
    const ps = plan.scenarios[sc.index];
    if (!ps) continue;
    const rate = evaluate({ times: ps.times, values: ps.rates }, plan.eventStart);
    for (const st of sc.steps)
      for (const u of st.store) {
        const e = units.get(u.table) ?? { read: 0, write: 0 };
        e.read += rate * u.readUnits;
        e.write += rate * u.writeUnits;
        units.set(u.table, e);
      }
    for (const st of sc.steps)
      for (const [svc, ms] of Object.entries(st.cpuMs))
        demand.set(svc, (demand.get(svc) ?? 0) + rate * (ms ?? 0));
  }
  return { demand, units };
}

/** A service at the event's start: its task size, scaling (warm-started) and empty accumulators. */
export function createService(
  name: ServiceName,
  topology: Topology,
  plan: Plan,
  options: SimulateOptions,
  overhead: number,
  startDemand: number,
): SimService {
  const size: TaskSize =
    options.taskSizes?.[name] ?? topology.deployables[name]?.taskSize ?? DEFAULT_TASK_SIZES[name];
  const slots = Math.max(1, Math.floor(size.vcpu));
  const configured = serviceScalingFor(options.scaling, name, topology.deployables[name]?.minTasks ?? 2);
  const cpuTarget = configured.policies.find(
    (p) => p.type === 'TargetTrackingScaling' && p.metric === 'ECSServiceAverageCPUUtilization',
  );
  const perTask = size.vcpu * 1000 * (1 - overhead) * (options.efficiency?.[name]?.efficiency ?? 1);
  const warm =
    cpuTarget && cpuTarget.type === 'TargetTrackingScaling'
      ? Math.ceil(startDemand / (perTask * (cpuTarget.targetValue / 100)))
      : 0;
  const scaling =
    warm > configured.initialDesired
      ? { ...configured, initialDesired: Math.min(configured.maxCapacity, warm) }
      : configured;
  const state = createScalingState(scaling, { seed: options.seed, eventTime: plan.eventStart });
  return {
    name,
    size,
    slots,
    slowdown: slots / size.vcpu,
    stepSlowdown: slots / size.vcpu,
    efficiency: options.efficiency?.[name]?.efficiency ?? 1,
    scaling,
    state,
    history: [],
    counts: tasksAt(state, plan.eventStart),
    counter: createTaskCounter(),
    nextChange: Number.NEGATIVE_INFINITY,
    inSystem: 0,
    lastDemand: 0,
    lastCs2: 0,
    lastOverBurst: 0,
    lastCa2: 1,
    lastLongCa2: 1,
    lastRho: 0,
    lastSlope: Number.NaN,
    work: 0,
    work2: 0,
    workOver: 0,
    arrCa2: 0,
    arrSq: 0,
    longCa2: 0,
    longSq: 0,
    scenarioAt: -1,
    scenarioReqs: 0,
    reqs: 0,
    rejectFrac: 0,
    passOn: 1,
    waitMs: 0,
    backlogWaitMs: 0,
    waitProb: 0,
    offCpuWork: 0,
    pBusy: 0,
    pCap: 0,
    pReqs: 0,
    pHealthySum: 0,
    pSteps: 0,
    pRejected: 0,
    pLatencyW: 0,
    pLatencySum: 0,
    pStore: new Map(),
    storeAcc: new Map(),
    peakTasks: state.desired,
    vcpuSeconds: 0,
    totalRequests: 0,
    totalRejected: 0,
    atMaxPeriods: 0,
    quotaBlocked: 0,
    cpuTarget: cpuTarget && cpuTarget.type === 'TargetTrackingScaling' ? cpuTarget.targetValue : 100,
    pOffered: 0,
    peakDemandRate: 0,
    blocked: new Set(),
    queue: null,
    inSystemAt: null,
  };
}

/** A table at the event's start; a warm table has already served the first minute's load. */
export function createTable(
  name: string,
  limits: StoreLimits,
  start: { read: number; write: number } | undefined,
): SimTable {
  return {
    name,
    peaksRead: [],
    peaksWrite: [],
    minuteRead: 0,
    minuteWrite: 0,
    readFrac: 0,
    writeFrac: 0,
    hotReadFrac: 0,
    hotWriteFrac: 0,
    throttling: false,
    stepRead: 0,
    stepWrite: 0,
    stepHotRead: 0,
    stepHotWrite: 0,
    throttled: 0,
    hotThrottled: 0,
    peakRead: 0,
    peakWrite: 0,
    // A warm table has already served the first minute's load: that is its previous peak.
    readCeil: 2 * Math.max(limits.initialPeakReadUnits, start?.read ?? 0),
    writeCeil: 2 * Math.max(limits.initialPeakWriteUnits, start?.write ?? 0),
  };
}

/** An empty series-interval accumulator for one (scenario, step). */
export function emptyBucket(d: StepDemand): StepBucket {
  return {
    d,
    requests: 0,
    failed: 0,
    wShift: 0,
    wTail: 0,
    served: 0,
    servedWaited: 0,
    wShiftWaited: 0,
    wTailWaited: 0,
    timeouts: 0,
    rejected: 0,
    wRejected: 0,
    hits: 0,
    components: [],
  };
}

/** Binds a path's visits to the simulated deployables (a deployable the simulation lacks costs nothing). */
function bindPath(p: CallPath, services: Map<ServiceName, SimService>): BoundPath {
  if (p.kind === 'external') return p;
  if (p.kind === 'visit') {
    const at = services.get(p.service);
    return at ? { kind: 'visit', at, cpuMs: p.cpuMs } : { kind: 'external', shift: 0, tail: 0 };
  }
  return { kind: p.kind, parts: p.parts.map((q) => bindPath(q, services)) };
}

/**
 * Flattens (scenario, step) pairs with their rate cursors; tables are created in the order the
 * steps first touch them (the order simulation.json lists them).
 */
export function flattenSteps(
  plan: Plan,
  scenarios: ScenarioDemand[],
  services: Map<ServiceName, SimService>,
  tableOf: (name: string) => SimTable,
): Flat[] {
  const flats: Flat[] = [];
  for (const sc of scenarios) {
    const ps = plan.scenarios[sc.index];
    if (!ps) continue;
    sc.steps.forEach((d, i) => {
      const svc: SimService[] = [];
      const cpu: number[] = [];
      const visits: number[] = [];
      const cpu2: number[] = [];
      const over: number[] = [];
      const holds = pathVisits(d.path);
      for (const [s, ms] of Object.entries(d.cpuMs)) {
        const service = services.get(s as ServiceName);
        if (service && ms !== undefined) {
          svc.push(service);
          cpu.push(ms);
          // The path's holds there (one of the step's whole CPU-ms if the path does not visit it).
          const each = holds[s as ServiceName] ?? [ms];
          const burst = service.size.vcpu < 1 ? 100 * service.size.vcpu : Number.POSITIVE_INFINITY;
          visits.push(each.length);
          cpu2.push(each.reduce((a, c) => a + c * c, 0));
          over.push(each.reduce((a, c) => a + Math.max(0, c - burst), 0));
        }
      }
      flats.push({
        d,
        rate: createCursor(ps.times, ps.rates),
        svc,
        cpu,
        visits,
        cpu2,
        over,
        path: compilePath(bindPath(d.path, services)),
        events: d.events.flatMap((e) => {
          const at = services.get(e.service);
          return at ? [{ at, holds: e.holds, cpuMs: e.cpuMs, counted: e.counted }] : [];
        }),
        // The monolith hosts every module; in headless the module is its own deployable.
        keyOwner: d.keyWrites
          ? (services.get('monolith') ?? services.get(d.keyWrites.module as ServiceName))
          : undefined,
        tables: d.store.map((u) => ({
          tb: tableOf(u.table),
          r: u.readUnits,
          w: u.writeUnits,
          hot: u.productKeyed && d.hot,
        })),
        bucket: emptyBucket(d),
        scenario: sc.index,
        first: i === 0,
        last: i === sc.steps.length - 1,
        route: EDGE_ROUTES.indexOf(isPageOperation(d.operation) ? PAGE_ROUTES[d.operation] : 'api'),
      });
    });
  }
  return flats;
}

/** Builds the whole state of a simulation at the event's start. */
export function createSimState(plan: Plan, options: SimulateOptions): SimState {
  const inputs = resolveInputs(plan, options);
  const topology: Topology = TOPOLOGIES[options.arch];
  const serviceNames = (Object.keys(topology.deployables) as ServiceName[]).filter(
    (s) => topology.deployables[s]?.standsInFor === undefined,
  );
  const scenarios = computeScenarioDemands(plan, options.arch, options.demandTable);
  const start = startLoad(plan, scenarios, options.warmStart !== false);
  const services = new Map<ServiceName, SimService>();
  for (const name of serviceNames)
    services.set(
      name,
      createService(name, topology, plan, options, inputs.overhead, start.demand.get(name) ?? 0),
    );
  const tables = new Map<string, SimTable>();
  const tableOf = (name: string): SimTable => {
    let tb = tables.get(name);
    if (!tb) {
      tb = createTable(name, inputs.limits, start.units.get(name));
      tables.set(name, tb);
    }
    return tb;
  };
  const flats = flattenSteps(plan, scenarios, services, tableOf);
  const n = plan.scenarios.length;
  // The load generator's concurrency cap (the plan's maxConcurrency, like k6's maxVUs): iterations
  // that would exceed it are dropped, not sent. In flight = start rate × (think times + latency).
  const thinkWall = plan.scenarios.map((_, s) => {
    const last = flats.filter((f) => f.scenario === s).at(-1);
    const journey = plan.journeys[plan.scenarios[s]!.journey];
    const lastThink = journey?.steps.at(-1)?.think;
    return ((last?.d.offset ?? 0) + (lastThink ? meanThinkSeconds(lastThink) : 0)) / inputs.k;
  });
  const thinkVarWall = plan.scenarios.map((ps) => {
    const journey = plan.journeys[ps.journey];
    let v = 0;
    for (const step of journey?.steps ?? []) v += thinkVariance(step.think);
    return v / (inputs.k * inputs.k);
  });
  const stepComponents = new Map<Flat, MixtureComponent[]>();
  for (const f of flats) stepComponents.set(f, []);
  return {
    plan,
    options,
    inputs,
    services,
    svcList: [...services.values()],
    tables,
    flats,
    iterBuckets: plan.scenarios.map(() => ({ started: 0, failSum: 0 })),
    firstFlat: plan.scenarios.map((_, s) => flats.findIndex((f) => f.scenario === s && f.first)),
    thinkWall,
    thinkVarWall,
    latencyWall: new Float64Array(n),
    latencyVarWall: new Float64Array(n),
    admit: new Float64Array(n).fill(1),
    droppedInBucket: new Float64Array(n),
    clientCapped: options.clientConcurrencyCap === true,
    keepsTimeline: options.timeline !== false,
    iterFail: new Float64Array(n),
    reqOf: new Float64Array(flats.length),
    originShare: new Float64Array(flats.length).fill(1),
    flatLatencyMs: new Float64Array(flats.length),
    startOffset: new Float64Array(flats.length),
    offsetRate: new Float64Array(flats.length).fill(1),
    smoothLatencyMs: new Float64Array(flats.length),

    edgePeriod: new Float64Array(EDGE_ROUTES.length * EDGE_FIELDS),
    edgeTimeline: [],
    series: [],
    timeline: [],
    activities: [],
    stepComponents,
    intervalLatency: [],
    launchQueue: createLaunchQueue(inputs.launch, plan.eventStart),
    launchDelayMax: 0,
    touched: new Set(),
    peakVcpu: 0,
    quotaExceeded: false,
    totals: { requests: 0, failed: 0, timeouts: 0, iterations: 0, failedIterations: 0, dropped: 0 },
    periodStart: inputs.t0,
    bucketStart: inputs.t0,
  };
}
