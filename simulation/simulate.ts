/**
 * The event-scale simulator: a time-stepped fluid model of a topology over event time, driven by a
 * compiled plan and scaled by the very same decision function the live stack uses
 * (reference-stack/autoscaling/decide.ts). Pure: the plan, the scaling, the calibration and the seed
 * go in; series, timeline, scaling activities and a summary come out. docs/simulation.md explains
 * the model; every parameter below is a model input with its source or marked as an assumption.
 *
 * Per step (default 1 event-second):
 * 1. Demand: every (scenario, step) issues `rate(t − offset)` requests per wall second, where the
 *    offset is the mean think time before that step; each request charges the emulated CPU-ms of the
 *    topology's demand table to every deployable it touches.
 * 2. Stores: read/write units per table; a hot key (flash-sale SKU) is one partition, limited to
 *    3,000 RCU/s and 1,000 WCU/s; a table absorbs up to double its previous peak and throttles
 *    beyond until it adapts (docs/sources.md). Throttled requests fail.
 * 3. Deployables: capacity = healthy tasks × vCPU × 1000 CPU-ms/s × (1 − overhead) × efficiency
 *    (1 unless a probe measured otherwise). Work beyond capacity becomes backlog; backlog beyond the
 *    tasks' bounded queues is rejected (503). Latency per simulation/queueing.ts.
 * 4. Every 60-s metric period: CPUUtilization and RequestCountPerTarget datapoints feed `decide()`
 *    per service; new tasks start after the seeded start latency and one health check, delayed
 *    further by Fargate's launch rate (burst 100, then 20 tasks/s) and blocked by a vCPU quota.
 */
import { invalidInput } from '../core/errors.ts';
import type {
  LatencyBreakdown,
  Percentiles,
  Provenance,
  RunSummary,
  ScalingActivity,
  SeriesRecord,
  TimelineRecord,
} from '../core/run-format.ts';
import { RUN_FORMAT_VERSION } from '../core/run-format.ts';
import { createScalingState, decide, tasksAt } from '../reference-stack/autoscaling/decide.ts';
import { type ScalingConfig, serviceScalingFor } from '../reference-stack/autoscaling/scaling-file.ts';
import type {
  MetricDatapoint,
  ScalingState,
  ServiceScaling,
  TaskCounts,
  TaskRecord,
} from '../reference-stack/autoscaling/types.ts';
import type { DemandTable } from '../reference-stack/capacity/demand-table.ts';
import { CAPACITY_DEFAULTS } from '../reference-stack/capacity/params.ts';
import {
  type Arch,
  DEFAULT_TASK_SIZES,
  type ServiceName,
  type TaskSize,
  TOPOLOGIES,
  type Topology,
} from '../reference-stack/topology.ts';
import { meanThinkSeconds } from '../scenarios/compile.ts';
import type { Plan } from '../scenarios/plan.ts';
import { evaluate } from '../scenarios/rate-function.ts';
import { computeScenarioDemands, type StepDemand } from './demand.ts';
import { createLaunchQueue, type WaitingTask } from './launch-queue.ts';
import { type MixtureComponent, mmcWait, packMixture } from './queueing.ts';
import { createTaskCounter, type TaskCounter } from './task-counter.ts';

/** A model input with where it came from. */
export interface ModelInput<T> {
  value: T;
  source: string;
}

/** Where a service's capacity per task comes from when no calibration measured it. */
export const MODEL_TABLE_SOURCE =
  "model table: the local emulation's demand table (reference-stack/capacity/demand-table.ts)";

/** A service's measured efficiency (from a calibration file), relative to the emulated model. */
export interface ServiceEfficiency {
  /** Measured capacity ÷ modelled capacity (1 = the task serves exactly its vCPU budget). */
  efficiency: number;
  /** Relative uncertainty (± fraction) of the efficiency, from the probe. */
  uncertainty?: number;
  provenance: Provenance;
  source: string;
}

/** Everything a simulation needs besides the plan; all defaults are documented model inputs. */
export interface SimulateOptions {
  arch: Arch;
  scaling: ScalingConfig;
  seed: number;
  /** Event seconds per simulation step (default 1). */
  stepSeconds?: number;
  /** Series resolution in event seconds (default: 60 s, coarser for long events; see `seriesResolution`). */
  resolutionSeconds?: number;
  /** CPU demand table (default: the committed table, reference-stack/capacity/demand-table.ts). */
  demandTable?: DemandTable;
  /** Measured efficiency per service (from a calibration file, `peakday probe`). */
  efficiency?: Partial<Record<ServiceName, ServiceEfficiency>>;
  taskSizes?: Partial<Record<ServiceName, TaskSize>>;
  /** Hot keys the hot pools spread over (default: the catalog's 20 hot SKUs). */
  hotKeys?: number;
  /** Fargate launch rate: burst, then tasks per second (docs/sources.md). */
  launchRate?: { burst: number; perSecond: number };
  /** Account vCPU quota for Fargate; undefined = unlimited. */
  vcpuQuota?: number;
  /** Network latency per service-to-service hop, ms (assumption). */
  hopLatencyMs?: number;
  /** Requests a task queues per vCPU before shedding (reference-stack/capacity/params.ts). */
  queueLimitPerVcpu?: number;
  /** Task CPU overhead, % (reference-stack/capacity/params.ts). */
  overheadPct?: number;
  /**
   * The client's per-request timeout (ms): requests that would take longer fail as timeouts and are
   * recorded at the timeout. Default: the engine's (engine/engine.ts, 10 s). Infinity: no timeout.
   */
  clientTimeoutMs?: number;
  store?: Partial<StoreLimits>;
  /** Metric period of the autoscaler (CloudWatch 1-minute metrics). */
  periodSeconds?: number;
  /**
   * Model the load generator's concurrency cap (plan.maxConcurrency): true when replaying a live
   * run, whose engine dropped what exceeded it; false (default) for the real event's open arrivals.
   */
  clientConcurrencyCap?: boolean;
  /**
   * Start each service at the task count its CPU target-tracking policy holds at the first minute's
   * load (default true; assumption: the system ran at that load before the event). False starts at
   * the scaling file's initial desired count.
   */
  warmStart?: boolean;
}

/** DynamoDB on-demand limits (docs/sources.md) and the table's starting peak (assumption). */
export interface StoreLimits {
  partitionReadUnits: number;
  partitionWriteUnits: number;
  /** Previous-peak of a fresh on-demand table, units/s; the table absorbs double this at once. */
  initialPeakReadUnits: number;
  initialPeakWriteUnits: number;
  /** Seconds before a new peak raises the table's ceiling (assumption: "within 30 minutes"). */
  adaptSeconds: number;
}

/** The defaults and their sources, also written into the run directory. */
export const SIMULATION_INPUTS = {
  hotKeys: { value: 20, source: 'scenarios/catalog.ts hotCount (model input)' },
  launchRate: {
    value: { burst: 100, perSecond: 20 },
    source:
      'docs/sources.md, Fargate and load balancer timings: Fargate launch quota, burst 100 then 20 tasks/s per account per Region',
  },
  hopLatencyMs: { value: 0.5, source: 'assumption: same-Region service-to-service round trip on AWS' },
  queueLimitPerVcpu: {
    value: CAPACITY_DEFAULTS.queueLimit,
    source: 'reference-stack/capacity/params.ts (assumption)',
  },
  overheadPct: {
    value: CAPACITY_DEFAULTS.taskOverheadCpuPct,
    source: 'reference-stack/capacity/params.ts (assumption)',
  },
  store: {
    value: {
      partitionReadUnits: 3000,
      partitionWriteUnits: 1000,
      initialPeakReadUnits: 6000,
      initialPeakWriteUnits: 2000,
      adaptSeconds: 1800,
    } satisfies StoreLimits,
    source:
      'docs/sources.md, DynamoDB capacity: 3,000 RCU / 1,000 WCU per partition, double the previous peak; assumption: a fresh table serves 12,000 RCU / 4,000 WCU (DynamoDB docs, initial on-demand throughput) and adapts in 30 min',
  },
  periodSeconds: { value: 60, source: 'CloudWatch 1-minute ECS metrics (docs/sources.md)' },
  clientTimeoutMs: {
    value: 10_000,
    source:
      "engine/engine.ts default per-request timeout: the simulated client is peakday's engine (a live rehearsal records timeouts at 10 s); assumption for real shoppers' clients, override with the option",
  },
} as const satisfies Record<string, ModelInput<unknown>>;

/** Which service holds each table in each topology (for the timeline's store columns). */
const TABLE_OWNER: Record<string, ServiceName> = {
  catalog: 'catalog',
  inventory: 'inventory',
  carts: 'cart',
  orders: 'orders',
  pricing: 'pricing',
  stores: 'inventory',
};

/** Series resolution: 60 s for events up to 6 h, else the smallest multiple of 60 s giving ≤ 1,440 intervals. */
export function seriesResolution(eventSeconds: number): number {
  if (eventSeconds <= 6 * 3600) return 60;
  return Math.ceil(eventSeconds / 1440 / 60) * 60;
}

/** A service as the simulator tracks it. */
interface SimService {
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
  backlog: number;
  // per step
  work: number;
  reqs: number;
  rejectFrac: number;
  waitMs: number;
  /** The backlog part of `waitMs`: the same for every request of the step (a fluid queue). */
  backlogWaitMs: number;
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
}

/** Tables as the simulator tracks them. */
interface SimTable {
  name: string;
  peaksRead: number[];
  peaksWrite: number[];
  minuteRead: number;
  minuteWrite: number;
  readFrac: number;
  writeFrac: number;
  hotReadFrac: number;
  hotWriteFrac: number;
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
interface StepBucket {
  d: StepDemand;
  requests: number;
  failed: number;
  wShift: number;
  wTail: number;
  /** Requests that got a response in time or timed out (weight of wShift/wTail), and those that timed out. */
  served: number;
  timeouts: number;
  /** Requests rejected (503) or throttled, and their latency's sum (they return at once: no queueing). */
  rejected: number;
  wRejected: number;
  components: MixtureComponent[];
}

/** What the simulator learned beyond the run-directory files (written as simulation.json). */
export interface SimulationFindings {
  arch: Arch;
  seed: number;
  stepSeconds: number;
  resolutionSeconds: number;
  inputs: Record<string, ModelInput<unknown>>;
  services: Record<
    string,
    {
      taskSize: TaskSize;
      efficiency: number;
      capacityProvenance: Provenance;
      /** Where the capacity per task came from: the calibration's source, or the model table and why. */
      capacitySource: string;
      peakTasks: number;
      /** The scalable target's MaxCapacity (from the scaling file). */
      maxCapacity: number;
      /**
       * Tasks the busiest metric period's CPU demand needs at the service's CPU target (100% without
       * a CPU target-tracking policy): what target tracking would settle at if tasks came at once.
       */
      neededAtPeak: number;
      minutesAtMaxCapacity: number;
      tasksBlockedByQuota: number;
      vcpuHours: number;
      memoryGbHours: number;
      requests: number;
      rejected: number;
    }
  >;
  tables: Record<
    string,
    { peakReadUnits: number; peakWriteUnits: number; throttled: number; hotThrottled: number }
  >;
  launchDelayMaxSeconds: number;
  /** What a reader must know before trusting the numbers (cap hits, launch-rate compounding, capacity basis). */
  warnings: string[];
  quota: { vcpu: number | null; peakVcpu: number; exceeded: boolean };
}

/** The simulator's output: the run directory's contents, in memory. */
export interface SimulationResult {
  series: SeriesRecord[];
  timeline: TimelineRecord[];
  activities: ScalingActivity[];
  summary: RunSummary;
  findings: SimulationFindings;
}

/** A cursor over a piecewise-linear function evaluated at non-decreasing times. */
function createCursor(times: readonly number[], values: readonly number[]): (t: number) => number {
  let i = 0;
  const n = times.length;
  return (t) => {
    if (n === 0) return 0;
    if (t <= (times[0] as number)) return t < (times[0] as number) ? 0 : (values[0] as number);
    if (t >= (times[n - 1] as number)) return t > (times[n - 1] as number) ? 0 : (values[n - 1] as number);
    while (i < n - 2 && t >= (times[i + 1] as number)) i++;
    const t0 = times[i] as number;
    const t1 = times[i + 1] as number;
    const v0 = values[i] as number;
    const v1 = values[i + 1] as number;
    return t1 === t0 ? v1 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
  };
}

function emptyPercentiles(): Percentiles {
  return { count: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
}

/**
 * Fraction of a shifted exponential (shift + Exp(tail), ms) beyond the client's timeout: those
 * requests fail as timeouts, as the engine records them.
 */
function timeoutFraction(shift: number, tail: number, timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs)) return 0;
  if (shift >= timeoutMs) return 1;
  if (!(tail > 0)) return 0;
  const z = (timeoutMs - shift) / tail;
  // exp(−40) ≈ 4e−18: nothing a count of requests can show, and the common case (no queue).
  return z > 40 ? 0 : Math.exp(-z);
}

/** E[min(L, timeout)] for L = shift + Exp(tail): the latency a client records, timeouts at the timeout. */
function truncatedMean(shift: number, tail: number, timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs)) return shift + tail;
  if (shift >= timeoutMs) return timeoutMs;
  return shift + (tail > 0 ? tail * (1 - Math.exp(-(timeoutMs - shift) / tail)) : 0);
}

/**
 * Percentiles of a mixture as the client records them: a request that times out is recorded at the
 * timeout (the engine's histogram does the same), so every quantile is min(quantile, timeout).
 */
function percentilesOf(components: readonly MixtureComponent[], timeoutMs: number): Percentiles {
  let count = 0;
  let mean = 0;
  for (const c of components) {
    count += c.weight;
    mean += c.weight * truncatedMean(c.shift, c.tail, timeoutMs);
  }
  if (count === 0) return emptyPercentiles();
  const packed = packMixture(components);
  const q = (p: number) => round2(Math.min(timeoutMs, packed.quantile(p)));
  // mixtureMax: the 1 − 1/n quantile (the median for one request).
  const max = count <= 1 ? packed.quantile(0.5) : packed.quantile(Math.min(1 - 1e-9, 1 - 1 / count));
  return {
    count: Math.round(count),
    mean: round2(mean / count),
    p50: q(0.5),
    p90: q(0.9),
    p95: q(0.95),
    p99: q(0.99),
    max: round2(Math.min(timeoutMs, max)),
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Runs the simulation. Pure and deterministic for (plan, options). */
export function simulate(plan: Plan, options: SimulateOptions): SimulationResult {
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
  const dtW = dtE / k;
  const hotKeys = options.hotKeys ?? SIMULATION_INPUTS.hotKeys.value;
  const launch = options.launchRate ?? SIMULATION_INPUTS.launchRate.value;
  const hopMs = options.hopLatencyMs ?? SIMULATION_INPUTS.hopLatencyMs.value;
  const queuePerVcpu = options.queueLimitPerVcpu ?? SIMULATION_INPUTS.queueLimitPerVcpu.value;
  const overhead = (options.overheadPct ?? SIMULATION_INPUTS.overheadPct.value) / 100;
  const timeoutMs = options.clientTimeoutMs ?? SIMULATION_INPUTS.clientTimeoutMs.value;
  const limits: StoreLimits = { ...SIMULATION_INPUTS.store.value, ...(options.store ?? {}) };

  const topology: Topology = TOPOLOGIES[options.arch];
  const serviceNames = (Object.keys(topology.deployables) as ServiceName[]).filter(
    (s) => topology.deployables[s]?.standsInFor === undefined,
  );
  const scenarios = computeScenarioDemands(plan, options.arch, options.demandTable);

  // Warm start: each service begins at the count its target-tracking policy holds at the first
  // minute's load (assumption: the system ran at that load before the event), not at its floor.
  const startDemand = new Map<string, number>();
  const startUnits = new Map<string, { read: number; write: number }>();
  if (options.warmStart !== false) {
    for (const sc of scenarios) {
      const ps = plan.scenarios[sc.index];
      if (!ps) continue;
      const rate = evaluate({ times: ps.times, values: ps.rates }, plan.eventStart);
      for (const st of sc.steps)
        for (const u of st.store) {
          const e = startUnits.get(u.table) ?? { read: 0, write: 0 };
          e.read += rate * u.readUnits;
          e.write += rate * u.writeUnits;
          startUnits.set(u.table, e);
        }
      for (const st of sc.steps)
        for (const [svc, ms] of Object.entries(st.cpuMs))
          startDemand.set(svc, (startDemand.get(svc) ?? 0) + rate * (ms ?? 0));
    }
  }
  const services = new Map<ServiceName, SimService>();
  for (const name of serviceNames) {
    const size =
      options.taskSizes?.[name] ?? topology.deployables[name]?.taskSize ?? DEFAULT_TASK_SIZES[name];
    const slots = Math.max(1, Math.floor(size.vcpu));
    const configured = serviceScalingFor(options.scaling, name, topology.deployables[name]?.minTasks ?? 2);
    const cpuTarget = configured.policies.find(
      (p) => p.type === 'TargetTrackingScaling' && p.metric === 'ECSServiceAverageCPUUtilization',
    );
    const perTask = size.vcpu * 1000 * (1 - overhead) * (options.efficiency?.[name]?.efficiency ?? 1);
    const warm =
      cpuTarget && cpuTarget.type === 'TargetTrackingScaling'
        ? Math.ceil((startDemand.get(name) ?? 0) / (perTask * (cpuTarget.targetValue / 100)))
        : 0;
    const scaling =
      warm > configured.initialDesired
        ? { ...configured, initialDesired: Math.min(configured.maxCapacity, warm) }
        : configured;
    const state = createScalingState(scaling, { seed: options.seed, eventTime: plan.eventStart });
    services.set(name, {
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
      backlog: 0,
      work: 0,
      reqs: 0,
      rejectFrac: 0,
      waitMs: 0,
      backlogWaitMs: 0,
      pBusy: 0,
      pCap: 0,
      pReqs: 0,
      pHealthySum: 0,
      pSteps: 0,
      pRejected: 0,
      pLatencyW: 0,
      pLatencySum: 0,
      pStore: new Map(),
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
    });
  }
  const svcList = [...services.values()];

  const tables = new Map<string, SimTable>();
  const tableOf = (name: string): SimTable => {
    let tb = tables.get(name);
    if (!tb) {
      tb = {
        name,
        peaksRead: [],
        peaksWrite: [],
        minuteRead: 0,
        minuteWrite: 0,
        readFrac: 0,
        writeFrac: 0,
        hotReadFrac: 0,
        hotWriteFrac: 0,
        stepRead: 0,
        stepWrite: 0,
        stepHotRead: 0,
        stepHotWrite: 0,
        throttled: 0,
        hotThrottled: 0,
        peakRead: 0,
        peakWrite: 0,
        // A warm table has already served the first minute's load: that is its previous peak.
        readCeil: 2 * Math.max(limits.initialPeakReadUnits, startUnits.get(name)?.read ?? 0),
        writeCeil: 2 * Math.max(limits.initialPeakWriteUnits, startUnits.get(name)?.write ?? 0),
      };
      tables.set(name, tb);
    }
    return tb;
  };

  // Flatten (scenario, step) pairs with their rate cursors.
  interface Flat {
    d: StepDemand;
    rate: (t: number) => number;
    svc: SimService[];
    cpu: number[];
    tables: { tb: SimTable; r: number; w: number; hot: boolean }[];
    bucket: StepBucket;
    scenario: number;
    first: boolean;
    last: boolean;
  }
  const flats: Flat[] = [];
  for (const sc of scenarios) {
    const ps = plan.scenarios[sc.index];
    if (!ps) continue;
    sc.steps.forEach((d, i) => {
      const svc: SimService[] = [];
      const cpu: number[] = [];
      for (const [s, ms] of Object.entries(d.cpuMs)) {
        const service = services.get(s as ServiceName);
        if (service && ms !== undefined) {
          svc.push(service);
          cpu.push(ms);
        }
      }
      flats.push({
        d,
        rate: createCursor(ps.times, ps.rates),
        svc,
        cpu,
        tables: d.store.map((u) => ({
          tb: tableOf(u.table),
          r: u.readUnits,
          w: u.writeUnits,
          hot: u.productKeyed && d.hot,
        })),
        bucket: {
          d,
          requests: 0,
          failed: 0,
          wShift: 0,
          wTail: 0,
          served: 0,
          timeouts: 0,
          rejected: 0,
          wRejected: 0,
          components: [],
        },
        scenario: sc.index,
        first: i === 0,
        last: i === sc.steps.length - 1,
      });
    });
  }
  const iterBuckets = plan.scenarios.map(() => ({ started: 0, failSum: 0 }));
  const firstFlat = plan.scenarios.map((_, s) => flats.findIndex((f) => f.scenario === s && f.first));
  // The load generator's concurrency cap (the plan's maxConcurrency, like k6's maxVUs): iterations
  // that would exceed it are dropped, not sent. In flight = start rate × (think times + latency).
  const thinkWall = plan.scenarios.map((_, s) => {
    const last = flats.filter((f) => f.scenario === s).at(-1);
    const journey = plan.journeys[plan.scenarios[s]!.journey];
    const lastThink = journey?.steps.at(-1)?.think;
    return ((last?.d.offset ?? 0) + (lastThink ? meanThinkSeconds(lastThink) : 0)) / k;
  });
  const latencyWall = new Float64Array(plan.scenarios.length);
  const admit = new Float64Array(plan.scenarios.length).fill(1);
  const droppedInBucket = new Float64Array(plan.scenarios.length);
  const clientCapped = options.clientConcurrencyCap === true;
  const iterFail = new Float64Array(plan.scenarios.length);

  const series: SeriesRecord[] = [];
  const timeline: TimelineRecord[] = [];
  const activities: ScalingActivity[] = [];
  const stepComponents = new Map<Flat, MixtureComponent[]>();
  for (const f of flats) stepComponents.set(f, []);
  const launchQueue = createLaunchQueue(launch, plan.eventStart);
  let launchDelayMax = 0;
  /** Services whose waiting tasks may have gone (a scale-in, or tasks blocked by the quota). */
  const touched = new Set<number>();
  /** Re-plans the launch queue at a boundary and moves waiting tasks' lifecycle to their admission. */
  const planLaunches = (end: number, launchedNow: WaitingTask[][]) => {
    // A touched service's task ids, newest first, until the first one that cannot be waiting.
    const live = new Map<number, Set<number>>();
    const ids = (si: number): Set<number> => {
      let set = live.get(si);
      if (!set) {
        const s = svcList[si] as SimService;
        set = new Set<number>();
        const all = s.state.tasks;
        for (let q = all.length - 1; q >= 0; q--) {
          const task = all[q] as TaskRecord;
          if (task.runningAt <= end) break;
          if (!s.blocked.has(task.id)) set.add(task.id);
        }
        live.set(si, set);
      }
      return set;
    };
    const planned = launchQueue.plan(end, launchedNow, touched, (w) => ids(w.service).has(w.id));
    touched.clear();
    if (planned.length === 0) return;
    const byService: WaitingTask[][] = svcList.map(() => []);
    for (const w of planned) {
      byService[w.service]?.push(w);
      launchDelayMax = Math.max(launchDelayMax, w.admitAt - w.launchedAt);
    }
    svcList.forEach((s, si) => {
      const mine = byService[si] as WaitingTask[];
      if (mine.length === 0) return;
      const all = s.state.tasks;
      const first = (mine[0] as WaitingTask).id;
      let from = all.length;
      while (from > 0 && (all[from - 1] as TaskRecord).id >= first) from--;
      let k = 0;
      // Both lists ascend by id. Records may be shared with earlier states: replace them, never
      // mutate them. The list itself is only this service's current state's (decide() builds a new
      // one on every change and the simulator keeps no older state), so it is updated in place and
      // the counter is told.
      for (let q = from; q < all.length; q++) {
        const task = all[q] as TaskRecord;
        const w = mine[k];
        if (!w || w.id !== task.id) continue;
        k++;
        const runningAt = w.admitAt + w.startLatency;
        all[q] = { ...task, runningAt, healthyAt: runningAt + w.healthDelay };
      }
      s.counter.reset(all, end);
      s.nextChange = Number.NEGATIVE_INFINITY;
    });
  };

  let peakVcpu = 0;
  let quotaExceeded = false;
  const totals = { requests: 0, failed: 0, timeouts: 0, iterations: 0, failedIterations: 0, dropped: 0 };

  const t0 = plan.eventStart;
  const t1 = plan.eventEnd;
  const nSteps = Math.round((t1 - t0) / dtE);
  let periodStart = t0;
  let bucketStart = t0;

  const flushBucket = (end: number) => {
    const dtB = (end - bucketStart) / k;
    for (let s = 0; s < plan.scenarios.length; s++) {
      const ps = plan.scenarios[s]!;
      const ib = iterBuckets[s]!;
      const started = ib.started;
      const failedIt = ib.failSum;
      series.push({
        t: bucketStart,
        wall: (bucketStart - t0) / k,
        dt: dtB,
        channel: ps.channel,
        journey: ps.journey,
        step: null,
        planned: round2(started + droppedInBucket[s]!),
        started: round2(started),
        completed: round2(started - failedIt),
        dropped: round2(droppedInBucket[s]!),
        failedIterations: round2(failedIt),
      });
      totals.iterations += started;
      totals.dropped += droppedInBucket[s]!;
      droppedInBucket[s] = 0;
      totals.failedIterations += failedIt;
      ib.started = 0;
      ib.failSum = 0;
    }
    for (const f of flats) {
      const b = f.bucket;
      const req = b.requests;
      const comps: MixtureComponent[] = [];
      if (b.served > 0)
        comps.push({ shift: b.wShift / b.served, tail: b.wTail / b.served, weight: b.served });
      if (b.rejected > 0) comps.push({ shift: b.wRejected / b.rejected, tail: 0, weight: b.rejected });
      for (const c of comps) stepComponents.get(f)!.push(c);
      const pct = req > 0 ? percentilesOf(comps, timeoutMs) : emptyPercentiles();
      series.push({
        t: bucketStart,
        wall: (bucketStart - t0) / k,
        dt: dtB,
        channel: f.d.channel,
        journey: f.d.journey,
        step: f.d.step,
        requests: round2(req),
        failed: round2(b.failed),
        status: { '2xx': round2(req - b.failed), '3xx': 0, '4xx': 0, '5xx': round2(b.failed - b.timeouts) },
        errors: { timeout: round2(b.timeouts), refused: 0, reset: 0, check: 0, other: 0 },
        latencyEstimate: {
          p50: pct.p50,
          p90: pct.p90,
          p95: pct.p95,
          p99: pct.p99,
          max: pct.max,
          mean: pct.mean,
        },
      });
      totals.requests += req;
      totals.failed += b.failed;
      totals.timeouts += b.timeouts;
      b.requests = 0;
      b.failed = 0;
      b.wShift = 0;
      b.wTail = 0;
      b.served = 0;
      b.timeouts = 0;
      b.rejected = 0;
      b.wRejected = 0;
    }
    bucketStart = end;
  };

  const adaptPeriods = Math.max(1, Math.round(limits.adaptSeconds / periodS));
  const endPeriod = (end: number) => {
    const p = end - periodStart;
    const launchedNow: WaitingTask[][] = svcList.map(() => []);
    for (let si = 0; si < svcList.length; si++) {
      const s = svcList[si] as SimService;
      const cpu = s.pCap > 0 ? Math.min(100, (100 * s.pBusy) / s.pCap) : null;
      const healthyAvg = s.pSteps > 0 ? s.pHealthySum / s.pSteps : 0;
      const rpt = healthyAvg > 0 ? (s.pReqs / healthyAvg) * (60 / p) : null;
      const datapoint: MetricDatapoint = {
        t: periodStart,
        period: p,
        cpu,
        memory: null,
        requestsPerTarget: rpt,
      };
      s.history.push(datapoint);
      if (s.history.length > 64) s.history.splice(0, s.history.length - 64);
      if (s.counter.tasks !== s.state.tasks) s.counter.reset(s.state.tasks, end);
      const counts = s.counter.countsAt(s.state.desired, end);
      // Memory: a task's base plus a per-request share of the requests in flight (Little's law).
      const meanLatencyS = s.pLatencyW > 0 ? s.pLatencySum / s.pLatencyW / 1000 : 0;
      const inFlightPerTask = counts.running > 0 ? ((s.pReqs / (p / k)) * meanLatencyS) / counts.running : 0;
      const memMb = CAPACITY_DEFAULTS.taskBaseMemoryMb + CAPACITY_DEFAULTS.requestMemoryMb * inFlightPerTask;
      const memPct = counts.running > 0 ? Math.min(100, (100 * memMb) / (s.size.memoryGb * 1024)) : null;
      const stores = [...s.pStore.entries()]
        .map(([table, v]) => ({
          table,
          readUnits: round2(v.readUnits),
          writeUnits: round2(v.writeUnits),
          throttles: round2(v.throttles),
        }))
        .sort(
          (a, b) => b.throttles - a.throttles || b.readUnits + b.writeUnits - (a.readUnits + a.writeUnits),
        );
      timeline.push({
        t: periodStart,
        period: p,
        service: s.name,
        desired: s.state.desired,
        running: counts.running,
        pending: counts.pending,
        cpu: cpu === null ? null : round2(cpu),
        memory: memPct === null ? null : round2(memPct),
        requests: round2(s.pReqs),
        requestsPerTarget: rpt === null ? null : round2(rpt),
        responseTimeMs: s.pLatencyW > 0 ? round2(s.pLatencySum / s.pLatencyW) : null,
        http5xx: round2(s.pRejected),
        ...(stores[0] ? { store: stores[0], stores } : {}),
        source: 'simulator',
        provenance: 'simulated',
      });
      if (s.state.desired >= s.state.maxCapacity) s.atMaxPeriods++;
      // Decide at the period boundary.
      const prevNext = s.state.nextTaskId;
      const prevDesired = s.state.desired;
      const r = decide(s.scaling, s.history, s.state, end);
      s.state = r.state;
      if (s.state.desired < prevDesired) touched.add(si);
      for (const a of r.activities) activities.push(a);
      // New tasks wait for Fargate's launch tokens (planned below, once every service has decided).
      if (s.state.nextTaskId > prevNext) {
        // setDesired appends the new tasks at the end of the list: only that tail is visited.
        const all = s.state.tasks;
        let from = all.length;
        while (from > 0 && (all[from - 1] as TaskRecord).id >= prevNext) from--;
        const list = launchedNow[si] as WaitingTask[];
        for (let q = from; q < all.length; q++) {
          const task = all[q] as TaskRecord;
          list.push({
            service: si,
            id: task.id,
            launchedAt: task.launchedAt,
            startLatency: task.runningAt - task.launchedAt,
            healthDelay: task.healthyAt - task.runningAt,
            admitAt: Number.NaN,
          });
        }
      }
      s.peakTasks = Math.max(s.peakTasks, s.state.desired);
      s.peakDemandRate = Math.max(s.peakDemandRate, s.pOffered / (p / k));
      s.pOffered = 0;
      s.nextChange = Number.NEGATIVE_INFINITY;
      s.pBusy = 0;
      s.pCap = 0;
      s.totalRequests += s.pReqs;
      s.totalRejected += s.pRejected;
      s.pReqs = 0;
      s.pHealthySum = 0;
      s.pSteps = 0;
      s.pRejected = 0;
      s.pLatencyW = 0;
      s.pLatencySum = 0;
      s.pStore.clear();
    }
    planLaunches(end, launchedNow);
    if (options.vcpuQuota !== undefined) {
      let used = 0;
      for (const s of svcList) {
        if (s.counter.tasks !== s.state.tasks) s.counter.reset(s.state.tasks, end);
        s.counter.countsAt(s.state.desired, end);
        // No task waiting to start: none can be blocked, every task with a start time counts.
        if (s.counter.pendingFinite() === 0) {
          for (let n = s.counter.finite(); n > 0; n--) used += s.size.vcpu;
          continue;
        }
        let blocked = false;
        const tasks = s.state.tasks.map((task) => {
          if (!Number.isFinite(task.runningAt)) return task;
          if (used + s.size.vcpu > options.vcpuQuota! && task.runningAt > end) {
            s.quotaBlocked++;
            s.blocked.add(task.id);
            quotaExceeded = true;
            blocked = true;
            return { ...task, runningAt: Number.POSITIVE_INFINITY, healthyAt: Number.POSITIVE_INFINITY };
          }
          used += s.size.vcpu;
          return task;
        });
        if (blocked) {
          s.state = { ...s.state, tasks };
          touched.add(svcList.indexOf(s));
        }
      }
    }
    let vcpu = 0;
    for (const s of svcList) vcpu += s.state.desired * s.size.vcpu;
    peakVcpu = Math.max(peakVcpu, vcpu);
    // Store tables: per-minute peaks for the on-demand doubling rule.
    for (const tb of tables.values()) {
      tb.peaksRead.push(tb.minuteRead);
      tb.peaksWrite.push(tb.minuteWrite);
      tb.minuteRead = 0;
      tb.minuteWrite = 0;
      // A peak raises the ceiling once the table has had `adaptSeconds` to adapt to it.
      const adapted = tb.peaksRead.length - 1 - adaptPeriods;
      if (adapted >= 0) {
        tb.readCeil = Math.max(tb.readCeil, 2 * (tb.peaksRead[adapted] as number));
        tb.writeCeil = Math.max(tb.writeCeil, 2 * (tb.peaksWrite[adapted] as number));
      }
    }
    periodStart = end;
  };

  const reqOf = new Float64Array(flats.length);

  for (let i = 0; i < nSteps; i++) {
    const t = t0 + i * dtE;
    const mid = t + dtE / 2;
    // 1. Task counts (recomputed only when a task changes state).
    for (const s of svcList) {
      if (t >= s.nextChange) {
        if (s.counter.tasks !== s.state.tasks) s.counter.reset(s.state.tasks, t);
        s.counts = s.counter.countsAt(s.state.desired, t);
        s.nextChange = s.counter.nextChange();
      }
      s.work = 0;
      s.reqs = 0;
      s.vcpuSeconds += (s.counts.running + s.counts.pending) * s.size.vcpu * dtE;
    }
    for (const tb of tables.values()) {
      tb.stepRead = 0;
      tb.stepWrite = 0;
      tb.stepHotRead = 0;
      tb.stepHotWrite = 0;
    }
    // 2. Demand.
    reqOf.fill(0);
    if (clientCapped) {
      for (let s = 0; s < plan.scenarios.length; s++) {
        const j = firstFlat[s]!;
        if (j < 0) continue;
        const startRate = flats[j]!.rate(mid);
        const inFlight = startRate * (thinkWall[s]! + latencyWall[s]!);
        const cap = plan.scenarios[s]!.maxConcurrency;
        admit[s] = inFlight > cap && inFlight > 0 ? cap / inFlight : 1;
        droppedInBucket[s]! += startRate * dtW * (1 - admit[s]!);
      }
    }
    for (let j = 0; j < flats.length; j++) {
      const f = flats[j]!;
      const rate = f.rate(mid - f.d.offset) * admit[f.scenario]!;
      if (rate <= 0) continue;
      const req = rate * dtW;
      reqOf[j] = req;
      // Requests a deployable rejected (last step's rate) never reach the ones behind it.
      let pass = 1;
      for (let q = 0; q < f.svc.length; q++) {
        const s = f.svc[q]!;
        s.work += req * pass * f.cpu[q]!;
        s.pOffered += req * f.cpu[q]!;
        s.reqs += req * pass;
        pass *= 1 - s.rejectFrac;
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
    // 3. Stores: hot partitions and the table ceiling.
    for (const tb of tables.values()) {
      const hotKeyRead = tb.stepHotRead / hotKeys / dtW;
      const hotKeyWrite = tb.stepHotWrite / hotKeys / dtW;
      tb.hotReadFrac =
        hotKeyRead > limits.partitionReadUnits ? 1 - limits.partitionReadUnits / hotKeyRead : 0;
      tb.hotWriteFrac =
        hotKeyWrite > limits.partitionWriteUnits ? 1 - limits.partitionWriteUnits / hotKeyWrite : 0;
      const readRate = (tb.stepRead + tb.stepHotRead * (1 - tb.hotReadFrac)) / dtW;
      const writeRate = (tb.stepWrite + tb.stepHotWrite * (1 - tb.hotWriteFrac)) / dtW;
      tb.readFrac = readRate > tb.readCeil ? 1 - tb.readCeil / readRate : 0;
      tb.writeFrac = writeRate > tb.writeCeil ? 1 - tb.writeCeil / writeRate : 0;
      const servedRead = readRate * (1 - tb.readFrac);
      const servedWrite = writeRate * (1 - tb.writeFrac);
      tb.minuteRead = Math.max(tb.minuteRead, servedRead);
      tb.minuteWrite = Math.max(tb.minuteWrite, servedWrite);
      tb.peakRead = Math.max(tb.peakRead, servedRead);
      tb.peakWrite = Math.max(tb.peakWrite, servedWrite);
    }
    // 4. Deployables: capacity, backlog, rejection, waiting.
    for (const s of svcList) {
      const healthy = s.counts.healthy;
      const capRate = healthy * s.size.vcpu * 1000 * (1 - overhead) * s.efficiency;
      const cap = capRate * dtW;
      const meanDemand = s.reqs > 0 ? s.work / s.reqs : 0;
      let rejectedWork = 0;
      let backlog = s.backlog + s.work - cap;
      if (backlog < 0) backlog = 0;
      const qmax = healthy * queuePerVcpu * Math.max(1, s.size.vcpu) * meanDemand;
      if (backlog > qmax) {
        rejectedWork = backlog - qmax;
        backlog = qmax;
      }
      const served = s.backlog + s.work - backlog - rejectedWork;
      s.backlog = backlog;
      s.rejectFrac = s.work > 0 ? Math.min(1, rejectedWork / s.work) : healthy === 0 && s.reqs > 0 ? 1 : 0;
      const rho = cap > 0 ? Math.min(1, served / cap) : 1;
      // A fractional task is one CPU under a CFS quota (reference-stack/capacity/emulator.ts): a
      // request runs at full speed while quota is left and at vCPU speed once it is spent. Between
      // the two, the share of requests that meet a spent quota grows with the quota's use:
      // slowdown 1 + (slots/vCPU − 1)·ρ (assumption: linear; exact at ρ = 0 and ρ = 1).
      s.stepSlowdown = s.size.vcpu < 1 ? 1 + (s.slowdown - 1) * rho : s.slowdown;
      const serviceTime = meanDemand * s.stepSlowdown;
      const wq = serviceTime > 0 ? mmcWait(serviceTime, s.slots, rho) : 0;
      const wb = capRate > 0 ? (backlog / capRate) * 1000 : 0;
      s.waitMs = wq + wb;
      s.backlogWaitMs = wb;
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
    // 5. Per step: latency components and failures.
    iterFail.fill(0);
    latencyWall.fill(0);
    for (let j = 0; j < flats.length; j++) {
      const req = reqOf[j]!;
      if (req <= 0) continue;
      const f = flats[j]!;
      let ok = 1;
      let svcTime = 0;
      let wait = 0;
      let backlogWait = 0;
      for (let q = 0; q < f.svc.length; q++) {
        const s = f.svc[q]!;
        ok *= 1 - s.rejectFrac;
        svcTime += f.cpu[q]! * s.stepSlowdown;
        wait += s.waitMs;
        backlogWait += s.backlogWaitMs;
      }
      for (const u of f.tables) {
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
        const owner = options.arch === 'monolith' ? 'monolith' : (TABLE_OWNER[u.tb.name] ?? 'gateway');
        const os = services.get(owner as ServiceName);
        if (os) {
          let e = os.pStore.get(u.tb.name);
          if (!e) {
            e = { readUnits: 0, writeUnits: 0, throttles: 0 };
            os.pStore.set(u.tb.name, e);
          }
          e.readUnits += req * u.r;
          e.writeUnits += req * u.w;
          e.throttles += hotThrottled + tableThrottled;
        }
      }
      const netMs = f.d.hops * hopMs;
      // Every request of a step waits behind the same fluid backlog: that wait is part of the floor
      // (a full queue delays all of them alike); the M/M/c wait and half the service time vary.
      const shift = 0.5 * svcTime + netMs + backlogWait;
      const tail = 0.5 * svcTime + (wait - backlogWait);
      // The client gives up at its timeout: what would take longer fails as a timeout.
      const late = timeoutFraction(shift, tail, timeoutMs);
      const inTime = ok * (1 - late);
      const fail = 1 - inTime;
      const b = f.bucket;
      b.requests += req;
      b.failed += req * fail;
      b.served += req * ok;
      b.timeouts += req * ok * late;
      b.wShift += req * ok * shift;
      b.wTail += req * ok * tail;
      // Rejected and throttled requests return at once: the hops and half the service time.
      const fastShift = 0.5 * svcTime + netMs;
      b.rejected += req * (1 - ok);
      b.wRejected += req * (1 - ok) * fastShift;
      if (clientCapped)
        latencyWall[f.scenario]! +=
          (ok * truncatedMean(shift, tail, timeoutMs) + (1 - ok) * fastShift) / 1000;
      iterFail[f.scenario] = 1 - (1 - iterFail[f.scenario]!) * inTime;
    }
    // Iterations started this step are the first steps' requests; one fails if any of its steps fails.
    for (let s = 0; s < plan.scenarios.length; s++) {
      const j = firstFlat[s]!;
      if (j < 0) continue;
      const started = reqOf[j]!;
      const ib = iterBuckets[s]!;
      ib.started += started;
      ib.failSum += started * iterFail[s]!;
    }
    const tNext = t + dtE;
    if (tNext - periodStart >= periodS - 1e-9 || i === nSteps - 1) endPeriod(tNext);
    if (tNext - bucketStart >= resolution - 1e-9 || i === nSteps - 1) flushBucket(tNext);
  }

  // Summary latency: exact mixtures of the intervals' components.
  const all: MixtureComponent[] = [];
  const byChannel = new Map<string, MixtureComponent[]>();
  const byJourney = new Map<string, MixtureComponent[]>();
  for (const f of flats) {
    const comps = stepComponents.get(f)!;
    for (const c of comps) all.push(c);
    const ch = byChannel.get(f.d.channel) ?? [];
    ch.push(...comps);
    byChannel.set(f.d.channel, ch);
    const jo = byJourney.get(f.d.journey) ?? [];
    jo.push(...comps);
    byJourney.set(f.d.journey, jo);
  }
  const breakdown: LatencyBreakdown = {
    overall: percentilesOf(all, timeoutMs),
    byChannel: Object.fromEntries([...byChannel].map(([k2, v]) => [k2, percentilesOf(v, timeoutMs)])),
    byJourney: Object.fromEntries([...byJourney].map(([k2, v]) => [k2, percentilesOf(v, timeoutMs)])),
  };
  const wallSeconds = (t1 - t0) / k;
  const summary: RunSummary = {
    formatVersion: RUN_FORMAT_VERSION,
    mode: 'simulated',
    valid: true,
    invalidReasons: [],
    endReason: 'completed',
    partial: false,
    durationSeconds: wallSeconds,
    eventStart: t0,
    eventEnd: t1,
    timeScale: k,
    iterations: {
      planned: Math.round(totals.iterations + totals.dropped),
      started: Math.round(totals.iterations),
      completed: Math.round(totals.iterations - totals.failedIterations),
      dropped: Math.round(totals.dropped),
      failed: Math.round(totals.failedIterations),
    },
    requests: {
      total: Math.round(totals.requests),
      failed: Math.round(totals.failed),
      ratePerSecond: wallSeconds > 0 ? round2(totals.requests / wallSeconds) : 0,
      byStatus: {
        '2xx': Math.round(totals.requests - totals.failed),
        '3xx': 0,
        '4xx': 0,
        '5xx': Math.round(totals.failed - totals.timeouts),
      },
      errors: { timeout: Math.round(totals.timeouts), refused: 0, reset: 0, check: 0, other: 0 },
    },
    latency: { intended: breakdown, send: breakdown },
    schedulerLag: null,
  };

  const findings: SimulationFindings = {
    arch: options.arch,
    seed: options.seed,
    stepSeconds: dtE,
    resolutionSeconds: resolution,
    inputs: {
      hotKeys: {
        value: hotKeys,
        source: options.hotKeys === undefined ? SIMULATION_INPUTS.hotKeys.source : 'user',
      },
      launchRate: {
        value: launch,
        source: options.launchRate === undefined ? SIMULATION_INPUTS.launchRate.source : 'user',
      },
      hopLatencyMs: {
        value: hopMs,
        source: options.hopLatencyMs === undefined ? SIMULATION_INPUTS.hopLatencyMs.source : 'user',
      },
      queueLimitPerVcpu: { value: queuePerVcpu, source: SIMULATION_INPUTS.queueLimitPerVcpu.source },
      overheadPct: { value: overhead * 100, source: SIMULATION_INPUTS.overheadPct.source },
      clientTimeoutMs: {
        value: Number.isFinite(timeoutMs) ? timeoutMs : null,
        source: options.clientTimeoutMs === undefined ? SIMULATION_INPUTS.clientTimeoutMs.source : 'user',
      },
      store: { value: limits, source: options.store === undefined ? SIMULATION_INPUTS.store.source : 'user' },
      scaling: { value: options.scaling.file, source: 'scaling file' },
    },
    services: Object.fromEntries(
      svcList.map((s) => {
        const vcpuSeconds = s.vcpuSeconds;
        const cal = options.efficiency?.[s.name];
        return [
          s.name,
          {
            taskSize: s.size,
            efficiency: s.efficiency,
            capacityProvenance: cal?.provenance ?? 'model-input',
            capacitySource: cal?.source ?? MODEL_TABLE_SOURCE,
            peakTasks: s.peakTasks,
            maxCapacity: s.scaling.maxCapacity,
            neededAtPeak: neededAtPeak(s),
            minutesAtMaxCapacity: (s.atMaxPeriods * periodS) / 60,
            tasksBlockedByQuota: s.quotaBlocked,
            vcpuHours: round2(vcpuSeconds / 3600),
            memoryGbHours: round2(((vcpuSeconds / s.size.vcpu) * s.size.memoryGb) / 3600),
            requests: Math.round(s.totalRequests),
            rejected: Math.round(s.totalRejected),
          },
        ];
      }),
    ),
    tables: Object.fromEntries(
      [...tables.values()].map((tb) => [
        tb.name,
        {
          peakReadUnits: round2(tb.peakRead),
          peakWriteUnits: round2(tb.peakWrite),
          throttled: round2(tb.throttled),
          hotThrottled: round2(tb.hotThrottled),
        },
      ]),
    ),
    launchDelayMaxSeconds: round2(launchDelayMax),
    warnings: warningsOf(
      svcList,
      launchDelayMax,
      periodS,
      svcList.filter((s) => options.efficiency?.[s.name]?.provenance !== 'measured').map((s) => s.name),
    ),
    quota: { vcpu: options.vcpuQuota ?? null, peakVcpu: round2(peakVcpu), exceeded: quotaExceeded },
  };
  return { series, timeline, activities, summary, findings };

  function neededAtPeak(s: SimService): number {
    const perTask = s.size.vcpu * 1000 * (1 - overhead) * (s.efficiency || 1);
    return Math.ceil(s.peakDemandRate / (perTask * (s.cpuTarget / 100)) - 1e-9);
  }

  function warningsOf(list: SimService[], delayMax: number, period: number, modelled: string[]): string[] {
    const out: string[] = [];
    for (const s of list) {
      const needed = neededAtPeak(s);
      if (s.atMaxPeriods > 0)
        out.push(
          `${s.name} spent ${(s.atMaxPeriods * period) / 60} min at its max capacity (${s.scaling.maxCapacity} tasks); the busiest minute needed ${needed} at ${s.cpuTarget}% CPU`,
        );
      else if (needed > s.scaling.maxCapacity)
        out.push(
          `${s.name}: max capacity ${s.scaling.maxCapacity} is below the ${needed} tasks the busiest minute needed`,
        );
    }
    const cooldown = Math.min(
      ...list.flatMap((s) =>
        s.scaling.policies.flatMap((p) => (p.type === 'TargetTrackingScaling' ? [p.scaleOutCooldown] : [])),
      ),
    );
    if (Number.isFinite(cooldown) && delayMax > cooldown)
      out.push(
        `Fargate's launch rate (burst 100, then 20 tasks/s per account) held tasks up to ${Math.round(delayMax / 60)} min before they started. Target tracking scales from the desired count, which counts those pending tasks, while CPUUtilization averages the RUNNING tasks only, so after every ${cooldown}-s cooldown it multiplies the desired count again until the launches catch up (the AWS behaviour, docs/simulation.md); pre-warm with scheduled actions`,
      );
    if (modelled.length > 0)
      out.push(
        `capacity per task of ${modelled.join(', ')} is a model input: the local emulation's demand table (measured CPU × the calibration scale factor 6, docs/reference-stack.md), not a measurement of a production service; measure yours with \`peakday probe\` and pass --calibration`,
      );
    return out;
  }
}
