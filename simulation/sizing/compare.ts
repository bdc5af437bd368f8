/**
 * Monolith vs headless, fairly: the 2×2 {monolith, headless} × {autoscaled, provisioned for peak},
 * each right-sized by the same search from one demand table and the same rules (availability floor,
 * Fargate task sizes, the same scaling policy types, the same store model), on the same plan.
 *
 * The search, identical for every configuration:
 * - provisioned: every deployable runs N_s = max(floor, ⌈peak CPU demand_s ÷ (task capacity × u)⌉)
 *   tasks all event long; the largest utilisation target u in [0.2, 0.95] (fewest tasks) whose
 *   simulation meets the budgets is kept (bisection);
 * - autoscaled: the default target-tracking policies with the floor as minimum and no binding
 *   maximum; if the budgets fail (scale-out lag), the minimum is raised to a fraction f of the
 *   provisioned N_s (pre-warm) and the smallest f in [0, 1] that meets the budgets is kept.
 * Costs are Fargate vCPU-hours and GB-hours (the part the topology decides) from the versioned
 * pricing table; the full bill (load balancer, DynamoDB, EventBridge, cross-AZ) comes from each
 * configuration's report. Every seed compiles its own plan (the profile's noise) and seeds the
 * simulator (task start latencies). Simulations are memoised per sizing context: a bisection step
 * whose task counts round to ones already simulated costs nothing. Pure.
 */
import type { RunMeta, SeriesRecord } from '../../core/run-format.ts';
import type { ScalingConfig } from '../../reference-stack/autoscaling/scaling-file.ts';
import type { ServiceScaling } from '../../reference-stack/autoscaling/types.ts';
import { DEMAND_TABLE, type DemandTable } from '../../reference-stack/capacity/demand-table.ts';
import { type Arch, type ServiceName, TOPOLOGIES, type Topology } from '../../reference-stack/topology.ts';
import type { Plan } from '../../scenarios/plan.ts';
import { evaluate } from '../../scenarios/rate-function.ts';
import { fargateComputeCost } from '../cost.ts';
import { computeScenarioDemands } from '../demand.ts';
import type { PricingTable } from '../pricing/pricing-table.ts';
import type { SeriesColumns } from '../series-columns.ts';
import {
  type ServiceEfficiency,
  type SimulateControl,
  type SimulateOptions,
  type SimulationResult,
  simulate,
} from '../simulate.ts';
import type { ValidationReport } from '../validate.ts';
import type { ComparisonAnswers } from './compare-answers.ts';
import type { BreakEvenReport } from './compare-break-even.ts';
import { computeEdgeBill, type EdgeBill } from './compare-edge.ts';

/** A simulated run as the budgets judge it (the fields of meta.json the gate reads, and the series). */
export interface JudgedRun {
  meta: Pick<
    RunMeta,
    'id' | 'mode' | 'driver' | 'valid' | 'invalidReasons' | 'capabilities' | 'eventStart' | 'timeScale'
  > &
    Partial<Pick<RunMeta, 'endReason' | 'endDetail'>>;
  records: readonly SeriesRecord[];
  /** The series as columns, when the run kept them so (a coarser sizing trial's: `records` is then empty). */
  columns?: SeriesColumns;
}

/** The budgets' verdict on one simulated run: the part of the gate's result the search and the 2×2 read. */
export interface SizingVerdict {
  verdict: 'pass' | 'fail' | 'inconclusive';
  counts: { fail: number };
  results: readonly { verdict: 'pass' | 'fail' | 'inconclusive'; budget: { name: string } }[];
}

/**
 * How the budgets judge a simulated run: the gate's verdict and its breach minutes. Injected by the
 * caller (reports/rehearsal/compare-breaches.ts `budgetsJudge`, the gate's own evaluation) so the
 * sizing search, a model, stays below reports/.
 */
export interface BudgetsJudge {
  evaluate(run: JudgedRun): SizingVerdict;
  breachMinutes(run: JudgedRun): number;
  /**
   * Whether `evaluate` would say `fail`, answered faster (stopping at the first breach); the search's
   * trials need nothing more. Absent: `evaluate` decides. `since`: the run's prefix up to that event
   * time was read by `failsEarly` (each check after the first with the last one's time) and did not
   * fail, so only the windows ending after it need reading.
   */
  fails?(run: JudgedRun, since?: number): boolean;
  /**
   * Whether a prefix of a run (its series so far) already fails whatever follows (a window of a
   * windowed budget breached wholly inside it): lets a trial stop early. Absent: trials run to the end.
   */
  failsEarly?(run: JudgedRun, since?: number): boolean;
}

/** The live check of one topology: the run's validity and how the simulator agreed with it. */
export interface LiveCheck {
  arch: Arch;
  liveDir: string;
  replayDir: string;
  /** The engine's exit code for the live run. */
  runExitCode: number;
  valid: boolean;
  invalidReasons: string[];
  /** The largest relative error of mean running tasks over services, and that service. */
  worstTaskError: number | null;
  worstTaskService: string | null;
  p95: ValidationReport['p95'];
  errorRate: ValidationReport['errorRate'];
  withinBound: ValidationReport['withinBound'];
  notes: string[];
}

/** One cell of the 2×2. */
export type Provisioning = 'autoscaled' | 'provisioned';

/** A right-sized configuration and how it did. */
export interface ComparedConfiguration {
  arch: Arch;
  provisioning: Provisioning;
  /** The search's knob: u for provisioned, f (pre-warm fraction) for autoscaled. */
  knob: { name: 'utilisation' | 'prewarmFraction'; value: number };
  meetsBudgets: boolean;
  /** Budgets that could not be judged (e.g. a channel the profile lacks), by name. */
  inconclusive: string[];
  /** Tasks per service: fixed (provisioned) or min–peak (autoscaled). */
  tasks: Record<string, { min: number; peak: number }>;
  vcpuHours: number;
  gbHours: number;
  computeCostUsd: number;
  /**
   * CloudFront in front of the stack (compare-edge.ts): its pages and the API and GraphQL calls it
   * forwards; the same traffic, so the same bill, in both topologies.
   */
  edge: EdgeBill;
  /** Fargate compute plus CloudFront: what the configuration's event costs in the parts compared. */
  totalCostUsd: number;
  orders: number;
  costPer1000Orders: number | null;
  p95ByChannel: Record<string, number>;
  p99ByChannel: Record<string, number>;
  failedRate: number;
  /**
   * Event minutes covered by a breached window of any windowed budget, judged as the gate judges
   * them (reports/rehearsal/compare-breaches.ts).
   */
  breachMinutes: number;
  /** Event seconds from the first scale-out decision to the new tasks in service, per service. */
  scaleOutLagSeconds: Record<string, number>;
  verdict: SizingVerdict['verdict'];
  /**
   * Grid points the knob moved toward the generous end because the search's coarser trials passed a
   * fleet whose full-resolution run failed (absent: the search's choice passed as it was).
   */
  confirmedStepsBack?: number;
  /**
   * Trials its search judged, memoised ones included (a trial another search or a worker thread
   * simulated counts here too, though it was simulated once), and its full re-simulation.
   */
  simulations: number;
}

/** The comparison, with the inputs that decide it. */
export interface Comparison {
  profile: string;
  peakRps: number;
  seeds: number[];
  configurations: ComparedConfiguration[];
  /** Per seed, the compute cost of each configuration (spread over seeds). */
  costSpread: Record<string, { min: number; max: number }>;
  inputs: { hopClientCpuMs: number; hopServerCpuMs: number; floor: number; pricing: string };
  /** Break-even values of the deciding parameters (simulation/sizing/compare-break-even.ts). */
  breakEven?: BreakEvenReport;
  /** The short live run of each topology against its simulation (workflows/compare.ts). */
  live?: LiveCheck[];
  /** Per topology, where each service's capacity per task came from (meta.json's `options.capacity`). */
  capacity?: Record<string, Record<string, unknown>>;
  /** What limited each configuration, whether that is the topology's doing, the fix, the blast radius. */
  answers?: ComparisonAnswers;
  /** The comparison in one sentence (simulation/sizing/compare-answers.ts `computeVerdict`). */
  verdict?: string;
  /** The figures the verdict rests on. */
  evidence?: Record<string, unknown>;
}

/** Options of {@link compareTopologies}. */
export interface CompareOptions {
  /** The budgets a configuration must meet, as the gate judges them. */
  judge: BudgetsJudge;
  scaling: ScalingConfig;
  pricing: PricingTable;
  seeds: number[];
  demandTable?: DemandTable;
  /** Bisection steps per search (default 6). */
  searchSteps?: number;
  /** The plan each seed plays (default: `plan` for every seed); seeds vary the profile's noise. */
  planFor?: (seed: number) => Plan;
  /** Memo of simulated trials shared between the 2×2 and the break-even search. */
  cache?: SizingCache;
  /**
   * Memo of the chosen configurations' full simulations (`full`), filled ahead by worker threads
   * (workflows/compare-pool.ts) so that the 2×2 reads them instead of simulating them again.
   */
  fullCache?: FullRunCache;
  /**
   * Capacity per task of each topology's services relative to the emulated model
   * (simulation/capacity-sources.ts); absent: the local emulation's (efficiency 1).
   */
  efficiency?: Partial<Record<Arch, Partial<Record<ServiceName, ServiceEfficiency>>>>;
  /**
   * Memo of the chosen configurations' measures (cost, breach minutes, p95…) by full run, for a
   * comparison that computes the same 2×2 twice (workflows/compare.ts: the first seed's, early, then
   * every seed's): one comparison's judge and pricing only.
   */
  measured?: WeakMap<FullRun, Map<string, ComparedConfiguration>>;
  /**
   * Only the first seed's chosen configurations' runs (`results`), neither measured nor compared
   * (`comparison.configurations` stays empty): what limited them decides the fix, and a comparison
   * run on worker threads needs that as soon as their full runs are in (workflows/compare.ts).
   */
  resultsOnly?: boolean;
  /**
   * Simulator inputs every trial takes (e.g. a fix: `hotKeys`), with the memo key naming them
   * (`variant`, default `base`): equal keys must mean equal inputs.
   */
  simulate?: Partial<SimulateOptions>;
  variant?: string;
  /**
   * Event seconds per simulation step of the search's trials (default: 10 for events of 6 hours or
   * more, else 1). The chosen configurations are simulated again at 1-s steps, and that run is the
   * one judged and reported. Measured (bench/trial-step.ts: prime-day and black-friday at 50,000
   * req/s, 24 configurations from the search's frugal and generous ends, each at 1, 5 and 10-s
   * steps): 10-s steps give the 1-s verdict in all 24, as 5-s steps do; vCPU-hours within 0.4% of
   * the 1-s run's (5-s: 0.2%), the throttled minutes within one; the failed share within 0.14 points
   * and the breach minutes within 4 of the 5-s trial's. Both coarse steps understate a saturated
   * headless fleet's failures alike (by up to 0.31 points and 38 breach minutes of 685: why the
   * chosen configuration is confirmed at 1-s steps). CPU: 0.13–0.24× the 1-s run's, median 0.16
   * (5-s: 0.22–0.32×, median 0.26). The default was 5 s until 2026-12-04 (session 19); at 10,
   * `compare prime-day --peak-rps 50000` and `100000` chose the same configurations, the same fix
   * and the same verdict, only the start-time break-even's end costs (trials' costs) moved, by 0.2%
   * at most, and the command took a quarter less CPU.
   */
  trialStepSeconds?: number;
}

/** Default step of the search's trials (see {@link CompareOptions.trialStepSeconds}). */
export function defaultTrialStep(plan: Plan): number {
  return plan.eventEnd - plan.eventStart >= 6 * 3600 ? 10 : 1;
}

/** A topology's efficiency map as the sizing needs it. */
export type EfficiencyMap = Partial<Record<ServiceName, ServiceEfficiency>>;

/**
 * A simulated trial as the search remembers it: whether it met the budgets and its compute cost
 * (NaN for a failing trial stopped at its first breach: the search reads the cost only of the
 * trials it returns, which pass or are the generous end, simulated to the end or, a fixed fleet,
 * stopped with its task-hours counted to the end).
 */
export interface Trial {
  ok: boolean;
  usd: number;
}

/**
 * Event seconds between a trial's checks of whether it has already failed (the first after that
 * long, then every as long to the event's end): a failing fleet stops within this much event time of
 * its first breached window instead of running on. Each check reads only the windows that end after
 * the last one (reports/rehearsal/compare-breaches.ts `computePrefixFails` `since`), so a passing
 * trial's checks read its series about once in all, and its final judgement only the windows after
 * the last check. On prime-day at 50,000 req/s, failing trials breach either in the doors-open surge
 * of the first hour or between 12 and 24 h (with checks at 1, 3, 12 and 24 h, those ran to 24 h).
 */
export const EARLY_STOP_EVERY_S = 1800;

/** The event times at which a trial of `plan` checks whether it has already failed. */
export function earlyStopChecks(plan: Plan): number[] {
  const out: number[] = [];
  for (let t = plan.eventStart + EARLY_STOP_EVERY_S; t < plan.eventEnd; t += EARLY_STOP_EVERY_S) out.push(t);
  return out;
}

/** Trials by context and task counts (see {@link createSizingCache}). */
export type SizingCache = Map<string, Trial>;

/** A chosen configuration simulated at full resolution and judged in full. */
export interface FullRun {
  r: SimulationResult;
  gate: SizingVerdict;
  /**
   * What its configuration's measures read from its series, computed where it ran when the run is
   * sent without them (a worker thread's full run: a 48-h run's series are most of what would cross
   * between threads; those of a configuration that is written cross as text, workflows/
   * compare-series.ts; {@link withoutSeries}).
   */
  fromSeries?: SeriesMeasures;
}

/** What a configuration's measures read from its run's series. */
export interface SeriesMeasures {
  edge: EdgeBill;
  orders: number;
  breachMinutes: number;
}

/** The measures of a run's series (see {@link measure}). */
function measureSeries(
  plan: Plan,
  r: SimulationResult,
  judge: BudgetsJudge,
  pricing: PricingTable,
): SeriesMeasures {
  return {
    edge: computeEdgeBill(plan, r, pricing),
    orders: ordersOf(r),
    breachMinutes: judge.breachMinutes({ meta: runMeta(plan), records: r.series }),
  };
}

/**
 * A full run to send to the thread that measures it without its series: what the measures read from
 * them comes with it instead (the same figures: the same functions of the same run).
 */
export function withoutSeries(
  f: FullRun,
  plan: Plan,
  opts: { judge: BudgetsJudge; pricing: PricingTable },
): FullRun {
  return { ...f, r: { ...f.r, series: [] }, fromSeries: measureSeries(plan, f.r, opts.judge, opts.pricing) };
}

/** Full runs by context and task counts (keys as the trials', with `full` for the step). */
export type FullRunCache = Map<string, FullRun>;

/** An empty memo of trials; one per comparison (the keys name the seed, topology and inputs). */
export function createSizingCache(): SizingCache {
  return new Map();
}

/** The fewest tasks a sized service runs (as ECS services keep two for availability). */
export const FLOOR = 2;

/** Grid points a reported configuration may move toward the generous end to pass at full resolution. */
export const CONFIRM_STEPS = 3;

/**
 * Peak CPU-ms per second each deployable must serve under the plan: the largest, over the plan's
 * breakpoints, of the demand summed over scenarios, read on both sides of each breakpoint (a step
 * up in one scenario and down in another at the same instant is not added twice).
 */
export function peakDemand(plan: Plan, arch: Arch, demandTable?: DemandTable): Record<string, number> {
  // A search asks for it at every trial (tasks at each knob value): computed once per plan, topology
  // and demand table (plans and tables are never mutated once compiled).
  let byPlan = peakDemandMemo.get(plan);
  if (!byPlan) {
    byPlan = new Map();
    peakDemandMemo.set(plan, byPlan);
  }
  const table = demandTable ?? DEMAND_TABLE;
  let byTable = byPlan.get(table);
  if (!byTable) {
    byTable = new Map();
    byPlan.set(table, byTable);
  }
  const hit = byTable.get(arch);
  if (hit) return { ...hit };
  const peak = computePeakDemand(plan, arch, demandTable);
  byTable.set(arch, peak);
  return { ...peak };
}

const peakDemandMemo = new WeakMap<Plan, Map<DemandTable, Map<Arch, Record<string, number>>>>();

function computePeakDemand(plan: Plan, arch: Arch, demandTable?: DemandTable): Record<string, number> {
  const demands = computeScenarioDemands(plan, arch, demandTable);
  // Services in the order they first appear (the result's keys), and per scenario its CPU-ms per
  // iteration on each: the sums below run over scenarios in order, as they always have.
  const services: string[] = [];
  const slot = new Map<string, number>();
  const perIteration = demands.map((sc) => {
    const ms: Record<string, number> = {};
    for (const st of sc.steps) for (const [s, v] of Object.entries(st.cpuMs)) ms[s] = (ms[s] ?? 0) + (v ?? 0);
    const at: number[] = [];
    const cpu: number[] = [];
    for (const [s, v] of Object.entries(ms)) {
      let k = slot.get(s);
      if (k === undefined) {
        k = services.push(s) - 1;
        slot.set(s, k);
      }
      at.push(k);
      cpu.push(v);
    }
    const ps = plan.scenarios[sc.index]!;
    return { f: { times: ps.times, values: ps.rates }, at, cpu };
  });
  const times = [...new Set(plan.scenarios.flatMap((s) => s.times))].sort((a, b) => a - b);
  if (times.length === 0) return {};
  const peak = new Float64Array(services.length);
  const at = new Float64Array(services.length);
  for (const t of times) {
    for (const side of ['left', 'right'] as const) {
      at.fill(0);
      for (const sc of perIteration) {
        const rate = evaluate(sc.f, t, side);
        for (let q = 0; q < sc.at.length; q++) at[sc.at[q]!]! += rate * sc.cpu[q]!;
      }
      for (let k = 0; k < services.length; k++) peak[k] = Math.max(peak[k]!, at[k]!);
    }
  }
  return Object.fromEntries(services.map((s, k) => [s, peak[k]!]));
}

function scalableServices(arch: Arch): ServiceName[] {
  const topology: Topology = TOPOLOGIES[arch];
  return (Object.keys(topology.deployables) as ServiceName[]).filter(
    (s) => topology.deployables[s]?.standsInFor === undefined,
  );
}

/** Tasks per service provisioned at utilisation target `u` of the peak. */
export function provisionedTasks(
  plan: Plan,
  arch: Arch,
  u: number,
  demandTable?: DemandTable,
  efficiency?: EfficiencyMap,
): Record<string, number> {
  const peak = peakDemand(plan, arch, demandTable);
  const topology: Topology = TOPOLOGIES[arch];
  const out: Record<string, number> = {};
  for (const s of scalableServices(arch)) {
    const size = topology.deployables[s]!.taskSize;
    const perTask = size.vcpu * 1000 * 0.98 * (efficiency?.[s]?.efficiency ?? 1);
    out[s] = Math.max(FLOOR, Math.ceil((peak[s] ?? 0) / (perTask * u)));
  }
  return out;
}

/** A scaling config with each scalable service at `tasks`: fixed, or autoscaled from that minimum up to `max`. */
export function withTasks(
  base: ScalingConfig,
  arch: Arch,
  tasks: Record<string, number>,
  autoscaled: boolean,
  max: Record<string, number>,
): ScalingConfig {
  const services: Record<string, ServiceScaling> = { ...base.services };
  for (const s of scalableServices(arch)) {
    const b = base.services[s];
    if (!b) continue;
    const n = tasks[s] ?? FLOOR;
    services[s] = autoscaled
      ? { ...b, minCapacity: n, initialDesired: n, maxCapacity: Math.max(n, max[s] ?? n) }
      : { ...b, minCapacity: n, maxCapacity: n, initialDesired: n, policies: [], scheduledActions: [] };
  }
  return { ...base, services };
}

export function runMeta(plan: Plan): RunMeta {
  return {
    formatVersion: 1,
    id: 'compare',
    mode: 'simulated',
    driver: 'simulator',
    tool: { name: 'peakday', version: '0' },
    profile: { name: plan.profile.name, hash: plan.profile.hash },
    options: {},
    timeScale: plan.timeScale,
    eventStart: plan.eventStart,
    eventEnd: plan.eventEnd,
    seed: plan.seed,
    startedAt: new Date(0).toISOString(),
    endReason: 'completed',
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: true, sendLatency: true },
    notes: [],
  };
}

/** Orders in a simulation: completed checkout iterations. */
function ordersOf(r: SimulationResult): number {
  let n = 0;
  for (const rec of r.series)
    if (rec.step === null && /checkout|reorder/.test(rec.journey)) n += rec.completed ?? 0;
  return n;
}

function measure(
  arch: Arch,
  provisioning: Provisioning,
  knob: ComparedConfiguration['knob'],
  r: SimulationResult,
  gate: SizingVerdict,
  ctx: { judge: BudgetsJudge; meta: RunMeta; pricing: PricingTable; simulations: number; plan: Plan },
  fromSeries?: SeriesMeasures,
): ComparedConfiguration {
  const { vcpuHours, gbHours, usd: cost } = fargateComputeCost(r, ctx.pricing);
  const pre = fromSeries ?? measureSeries(ctx.plan, r, ctx.judge, ctx.pricing);
  const e = pre.edge;
  const edge = {
    requests: Math.round(e.requests),
    bytesOut: Math.round(e.bytesOut),
    invalidationPaths: e.invalidationPaths,
    pages: Object.fromEntries(Object.entries(e.pages).map(([k, v]) => [k, Math.round(v ?? 0)])),
    apiRequests: Math.round(e.apiRequests),
    apiBytesOut: Math.round(e.apiBytesOut),
    requestsUsd: round(e.requestsUsd, 4),
    transferUsd: round(e.transferUsd, 4),
    invalidationUsd: round(e.invalidationUsd, 4),
    usd: round(e.usd, 4),
  };
  const tasks: Record<string, { min: number; peak: number }> = {};
  for (const [s, v] of Object.entries(r.findings.services)) {
    const recs = r.timeline.filter((x) => x.service === s);
    tasks[s] = { min: Math.min(...recs.map((x) => x.desired)), peak: v.peakTasks };
  }
  const orders = pre.orders;
  const breachMinutes = pre.breachMinutes;
  const lag: Record<string, number> = {};
  for (const a of r.activities) {
    const s = a.ResourceId.split('/').pop() ?? '';
    if (
      lag[s] !== undefined ||
      a.toCapacity === undefined ||
      a.fromCapacity === undefined ||
      a.toCapacity <= a.fromCapacity
    )
      continue;
    const after = r.timeline.find(
      (x) => x.service === s && x.t >= a.eventTime && x.running >= (a.toCapacity ?? 0),
    );
    if (after) lag[s] = Math.round(after.t - a.eventTime);
  }
  const byCh = r.summary.latency.intended?.byChannel ?? {};
  return {
    arch,
    provisioning,
    knob,
    meetsBudgets: gate.counts.fail === 0,
    tasks,
    vcpuHours: round(vcpuHours),
    gbHours: round(gbHours),
    computeCostUsd: round(cost),
    edge,
    totalCostUsd: round(cost + e.usd),
    orders: Math.round(orders),
    costPer1000Orders: orders > 0 ? round((cost / orders) * 1000) : null,
    p95ByChannel: Object.fromEntries(Object.entries(byCh).map(([k, v]) => [k, v.p95])),
    p99ByChannel: Object.fromEntries(Object.entries(byCh).map(([k, v]) => [k, v.p99])),
    failedRate:
      r.summary.requests.total > 0 ? round(r.summary.requests.failed / r.summary.requests.total, 5) : 0,
    breachMinutes,
    scaleOutLagSeconds: lag,
    verdict: gate.verdict,
    inconclusive: gate.results.filter((x) => x.verdict === 'inconclusive').map((x) => x.budget.name),
    simulations: ctx.simulations,
  };
}

function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** What one sizing context simulates: a plan, a demand table and a scaling file, for one seed. */
export interface SizingInputs {
  plan: Plan;
  demandTable?: DemandTable;
  scaling: ScalingConfig;
}

/** A trial with its full simulation, when it was simulated now rather than remembered. */
interface FullTrial extends Trial {
  r?: SimulationResult;
  gate?: SizingVerdict;
}

/**
 * The one search every configuration goes through, for one topology, seed and set of inputs.
 * `key` names the inputs in the memo (e.g. `base`, `hop-cost=2`): equal keys must mean equal inputs.
 * An inconclusive verdict (too few samples) counts as meeting the budgets, since nothing breached.
 */
export function createSizer(
  inputs: SizingInputs,
  arch: Arch,
  seed: number,
  opts: Pick<
    CompareOptions,
    | 'judge'
    | 'pricing'
    | 'searchSteps'
    | 'cache'
    | 'fullCache'
    | 'efficiency'
    | 'simulate'
    | 'trialStepSeconds'
  >,
  key: string,
) {
  const { plan, demandTable } = inputs;
  const efficiency = opts.efficiency?.[arch];
  const simulateKey = JSON.stringify(opts.simulate ?? {});
  const trialStep = opts.trialStepSeconds ?? defaultTrialStep(plan);
  const steps = opts.searchSteps ?? 6;
  const meta = runMeta(plan);
  const cache = opts.cache ?? createSizingCache();
  let sims = 0;
  const headroom = Object.fromEntries(
    Object.entries(provisionedTasks(plan, arch, 0.2, demandTable, efficiency)).map(([k, v]) => [k, v * 2]),
  );
  const simulateRun = (
    tasks: Record<string, number>,
    autoscaled: boolean,
    overrides: Partial<SimulateOptions> = {},
    control?: SimulateControl,
  ): SimulationResult => {
    const so: SimulateOptions = {
      arch,
      scaling: withTasks(inputs.scaling, arch, tasks, autoscaled, headroom),
      seed,
      ...(demandTable ? { demandTable: demandTable } : {}),
      ...(efficiency ? { efficiency } : {}),
      // Never read by the comparison (a validation's), and each full run crosses threads.
      latencyComponents: false,
      ...opts.simulate,
      ...overrides,
    };
    return simulate(plan, so, control);
  };
  // A failing trial stops at the first check after its first breached window (its cost then unknown).
  const failsEarly = opts.judge.failsEarly;
  let checkedSeries: readonly SeriesRecord[] | null = null;
  let checkedUpTo: number | undefined;
  const control: SimulateControl | undefined = failsEarly
    ? {
        checkAt: earlyStopChecks(plan),
        stop: (series, at, columns) => {
          // Each check after a run's first reads only the windows that end after the last check
          // (`since`: the earlier ones were read then, and none had breached, or the run had stopped).
          const since = series === checkedSeries ? checkedUpTo : undefined;
          checkedSeries = series;
          checkedUpTo = at;
          return failsEarly({ meta, records: series, ...(columns ? { columns } : {}) }, since);
        },
      }
    : undefined;
  const simulateTrial = (
    tasks: Record<string, number>,
    autoscaled: boolean,
    overrides: Partial<SimulateOptions> = {},
  ): FullTrial & Required<Pick<FullTrial, 'r' | 'gate'>> => {
    sims++;
    const r = simulateRun(tasks, autoscaled, overrides);
    const gate = opts.judge.evaluate({ meta, records: r.series });
    return { ok: gate.verdict !== 'fail', usd: fargateComputeCost(r, opts.pricing).usd, r, gate };
  };
  // The simulator inputs every trial takes (a fix) are part of the key, whatever `key` says.
  const keyOf = (step: number | 'full', tasks: Record<string, number>, autoscaled: boolean) =>
    `${seed}|${arch}|${key}|${simulateKey}|${step}|${autoscaled ? 'auto' : 'fixed'}|${JSON.stringify(tasks)}`;
  const run = (tasks: Record<string, number>, autoscaled: boolean, needCost = false): FullTrial => {
    const k = keyOf(trialStep, tasks, autoscaled);
    // Counted whether simulated now or remembered (another search, or a worker thread, ran it).
    sims++;
    const hit = cache.get(k);
    // A failing trial stopped early has no cost: simulated again to the end when its cost is needed.
    if (hit && (!needCost || Number.isFinite(hit.usd))) return hit;
    // A coarser trial is never reported (`coarseTrial`). A fleet whose cost is needed even if it
    // fails (the generous end) runs to the end, but for a fixed fleet at coarse steps: stopped at
    // its first breach all the same, its task-hours counted to the end (`SimulateControl.costToEnd`),
    // the same cost. (A 1-s trial run to the end doubles as the chosen configuration's full run: not
    // stopped.)
    const ctl = !needCost
      ? control
      : control && !autoscaled && trialStep !== 1
        ? { ...control, costToEnd: true }
        : undefined;
    const r = simulateRun(tasks, autoscaled, trialStep === 1 ? {} : coarseTrial(trialStep), ctl);
    // A trial needs only the gate's pass or fail (the chosen one is judged in full by `full`).
    if (r.stoppedAt !== undefined) {
      r.seriesColumns?.release();
      const t: FullTrial = {
        ok: false,
        usd: ctl?.costToEnd ? fargateComputeCost(r, opts.pricing).usd : Number.NaN,
      };
      cache.set(k, { ok: t.ok, usd: t.usd });
      return t;
    }
    // A trial that ran to the end was checked up to its last check (`failsEarly`): only the windows
    // ending after it are read again.
    const since = ctl && checkedSeries === r.series ? checkedUpTo : undefined;
    const judged = judgedRun(meta, r);
    const fails = opts.judge.fails
      ? opts.judge.fails(judged, since)
      : opts.judge.evaluate(judged).verdict === 'fail';
    // Read for good: its columns' buffers go to the next trial (the search keeps verdicts and costs).
    r.seriesColumns?.release();
    const t: FullTrial = { ok: !fails, usd: fargateComputeCost(r, opts.pricing).usd, r };
    cache.set(k, { ok: t.ok, usd: t.usd });
    return t;
  };
  /** The chosen trial at 1-s steps (re-simulated when the trials used coarser steps or it came from the memo; deterministic). */
  const full = (trial: FullTrial, tasks: Record<string, number>, autoscaled: boolean): FullRun => {
    const k = keyOf('full', tasks, autoscaled);
    const hit = opts.fullCache?.get(k);
    if (hit) return hit;
    const f =
      trial.r && trial.r.stoppedAt === undefined && trialStep === 1
        ? { r: trial.r, gate: trial.gate ?? opts.judge.evaluate({ meta, records: trial.r.series }) }
        : simulateTrial(tasks, autoscaled);
    const out = { r: f.r, gate: f.gate };
    opts.fullCache?.set(k, out);
    return out;
  };
  const ctx: SizerContext = { plan, arch, demandTable, efficiency, steps, trialStep, run, full };
  /** A chosen configuration simulated again with other inputs (a fix: more hot keys); not memoised. */
  const variant = (tasks: Record<string, number>, autoscaled: boolean, overrides: Partial<SimulateOptions>) =>
    simulateTrial(tasks, autoscaled, overrides);
  return {
    searchProvisioned: (hint?: number) => searchProvisioned(ctx, hint),
    searchAutoscaled: (u: number, hint?: number) => searchAutoscaled(ctx, u, hint),
    full,
    confirm: (
      choice: { knob: number; trial: Trial; tasks: Record<string, number> },
      cell: { autoscaled: false } | { autoscaled: true; u: number },
    ) => confirmChoice(ctx, choice, cell),
    variant,
    meta,
    simulations: () => sims,
  };
}

/**
 * A trial at coarser steps than 1 s, never reported (the chosen one is simulated again): it skips
 * its run summary's latency percentiles (a large share of a trial's CPU) and its timeline, and keeps
 * its series as columns (the judge reads them so; simulation/series-columns.ts).
 */
function coarseTrial(stepSeconds: number): Partial<SimulateOptions> {
  return { stepSeconds, summaryLatency: false, timeline: false, seriesColumns: true };
}

/** A simulated run as the judge reads it: its records, or its series as columns. */
function judgedRun(meta: JudgedRun['meta'], r: SimulationResult): JudgedRun {
  return { meta, records: r.series, ...(r.seriesColumns ? { columns: r.seriesColumns } : {}) };
}

/** What a sizer's searches share: its inputs and its memoised trial and full-resolution runners. */
interface SizerContext {
  plan: Plan;
  arch: Arch;
  demandTable: DemandTable | undefined;
  efficiency: EfficiencyMap | undefined;
  steps: number;
  trialStep: number;
  /** A trial; `needCost`: it is simulated to the end even if it fails (the search may return it). */
  run: (tasks: Record<string, number>, autoscaled: boolean, needCost?: boolean) => FullTrial;
  full: (trial: FullTrial, tasks: Record<string, number>, autoscaled: boolean) => FullRun;
}

/**
 * Provisioned: the largest utilisation target in [0.2, 0.95] that meets the budgets. The bisection
 * asks for grid points of `steps` halvings of the interval; with a `hint` (the answer of nearby
 * inputs: the break-even search's current value) the same grid is searched outward from the hint
 * instead (warmStartSearch): the same answer wherever the verdict is monotone in u — the
 * bisection's own assumption — in 2–4 trials instead of `steps` + 2 when the hint is close.
 */
function searchProvisioned(
  ctx: SizerContext,
  hint?: number,
): { u: number; trial: FullTrial; tasks: Record<string, number> } {
  const { plan, arch, demandTable, efficiency, steps, run } = ctx;
  const at = (u: number) => provisionedTasks(plan, arch, u, demandTable, efficiency);
  if (hint !== undefined) {
    const pick = (k: number, generous: boolean) => {
      const u = gridValue(0.2, 0.95, steps, k);
      const tasks = at(u);
      return { u, trial: run(tasks, false, generous), tasks };
    };
    return warmStartSearch(steps, gridIndex(0.2, 0.95, steps, hint), pick, 'largest');
  }
  let lo = 0.2;
  let hi = 0.95;
  const top = run(at(hi), false);
  if (top.ok) return { u: hi, trial: top, tasks: at(hi) };
  let best = { u: lo, trial: run(at(lo), false, true), tasks: at(lo) };
  // The most generous fleet fails too: no fleet in between meets the budgets (their failure is not
  // the fleet's size, e.g. a hot partition), so bisecting would only simulate failures.
  if (!best.trial.ok) return best;
  for (let i = 0; i < steps; i++) {
    const mid = (lo + hi) / 2;
    const m = run(at(mid), false);
    if (m.ok) {
      lo = mid;
      best = { u: mid, trial: m, tasks: at(mid) };
    } else hi = mid;
  }
  return best;
}
/**
 * Autoscaled: the smallest pre-warm fraction f of the provisioned tasks at `u` that meets the
 * budgets; with a `hint`, searched outward from it on the bisection's grid (as above).
 */
function searchAutoscaled(
  ctx: SizerContext,
  u: number,
  hint?: number,
): { f: number; trial: FullTrial; tasks: Record<string, number> } {
  const { plan, arch, demandTable, efficiency, steps, run } = ctx;
  const full = provisionedTasks(plan, arch, u, demandTable, efficiency);
  const at = (f: number) =>
    Object.fromEntries(Object.entries(full).map(([k, v]) => [k, Math.max(FLOOR, Math.ceil(v * f))]));
  if (hint !== undefined) {
    const pick = (k: number, generous: boolean) => {
      const f = gridValue(0, 1, steps, k);
      const tasks = at(f);
      return { u: f, trial: run(tasks, true, generous), tasks };
    };
    const r = warmStartSearch(steps, gridIndex(0, 1, steps, hint), pick, 'smallest');
    return { f: r.u, trial: r.trial, tasks: r.tasks };
  }
  const none = run(at(0), true);
  if (none.ok) return { f: 0, trial: none, tasks: at(0) };
  let fLo = 0;
  let fHi = 1;
  let chosen = { f: 1, trial: run(at(1), true, true), tasks: at(1) };
  // Fully pre-warmed and still failing: no smaller pre-warm meets the budgets (see above).
  if (!chosen.trial.ok) return chosen;
  for (let i = 0; i < steps; i++) {
    const mid = (fLo + fHi) / 2;
    const m = run(at(mid), true);
    if (m.ok) {
      fHi = mid;
      chosen = { f: mid, trial: m, tasks: at(mid) };
    } else fLo = mid;
  }
  return chosen;
}

/**
 * The chosen configuration at full resolution, judged in full (`full`). When the trials ran at a
 * coarser step than the full run and passed the configuration while its full run fails, the next
 * more generous point of the search's grid is confirmed instead, up to {@link CONFIRM_STEPS} times:
 * what is reported then meets the budgets at full resolution. `knob` is u (provisioned) or f
 * (autoscaled, pre-warming the provisioned tasks at `u`).
 */
function confirmChoice(
  ctx: SizerContext,
  choice: { knob: number; trial: Trial; tasks: Record<string, number> },
  cell: { autoscaled: false } | { autoscaled: true; u: number },
): { knob: number; tasks: Record<string, number>; run: FullRun; stepsBack: number } {
  const { plan, arch, demandTable, efficiency, steps, trialStep, full } = ctx;
  let { knob, tasks } = choice;
  let f = full(choice.trial, tasks, cell.autoscaled);
  let stepsBack = 0;
  const [a, b] = cell.autoscaled ? [0, 1] : [0.2, 0.95];
  const provAt = (u: number) => provisionedTasks(plan, arch, u, demandTable, efficiency);
  while (trialStep !== 1 && choice.trial.ok && f.gate.verdict === 'fail' && stepsBack < CONFIRM_STEPS) {
    const k = gridIndex(a, b, steps, knob) + (cell.autoscaled ? 1 : -1);
    if (k < 0 || k > 2 ** steps) break;
    knob = gridValue(a, b, steps, k);
    if (cell.autoscaled) {
      const base = provAt(cell.u);
      const f2 = knob;
      tasks = Object.fromEntries(
        Object.entries(base).map(([s, v]) => [s, Math.max(FLOOR, Math.ceil(v * f2))]),
      );
    } else tasks = provAt(knob);
    f = full({ ok: true, usd: 0 }, tasks, cell.autoscaled);
    stepsBack++;
  }
  return { knob, tasks, run: f, stepsBack };
}

/**
 * The knob's value at index k of the grid that `steps` halvings of [a, b] visit, computed exactly as
 * the bisection computes its midpoints (each the float mean of its interval's ends), so a search
 * started from a hint asks for the very fleets the bisection would and shares its memo.
 */
export function gridValue(a: number, b: number, steps: number, k: number): number {
  const n = 2 ** steps;
  if (k <= 0) return a;
  if (k >= n) return b;
  let lo = a;
  let hi = b;
  let ka = 0;
  let kb = n;
  for (;;) {
    const km = (ka + kb) / 2;
    const m = (lo + hi) / 2;
    if (k === km) return m;
    if (k < km) {
      kb = km;
      hi = m;
    } else {
      ka = km;
      lo = m;
    }
  }
}

/** The grid index nearest `x` (see {@link gridValue}). */
export function gridIndex(a: number, b: number, steps: number, x: number): number {
  const n = 2 ** steps;
  return Math.min(n, Math.max(0, Math.round(((x - a) / (b - a)) * n)));
}

/**
 * The bisection's answer found outward from a hint on its grid (indices 0..2^steps): the largest
 * (provisioned: utilisation) or smallest (autoscaled: pre-warm) index whose trial meets the budgets,
 * or the generous end failing, as the bisection returns them when the verdict is monotone. When the
 * hint passes it tries the most economical end (which the bisection tries first, too), then steps 1,
 * 2, 4… from the hint toward the boundary and halves the bracket; when the hint fails on the
 * generous side of the boundary it tries the most generous end at once (a fleet no size helps).
 */
export function warmStartSearch<T extends { trial: Trial }>(
  steps: number,
  hint: number,
  pick: (k: number, generous: boolean) => T,
  want: 'largest' | 'smallest',
): T {
  const n = 2 ** steps;
  // Work on "distance from the generous end": d = k for 'largest' (0 = generous), n − k otherwise.
  const k = (d: number) => (want === 'largest' ? d : n - d);
  const d0 = want === 'largest' ? hint : n - hint;
  // Only the generous end may be returned failing: only it needs its cost when it fails.
  const first = pick(hint, d0 === 0);
  let ok = 0;
  let bad = n;
  let best = first;
  if (first.trial.ok) {
    if (d0 === n) return first;
    ok = d0;
    best = first;
    // The most economical end first: a knob far from the hint's (a hop cost of 0) moves the
    // boundary there, and the steps below would pass a whole event at every doubling to reach it;
    // where it fails it is the bracket's other end (a fleet that small fails in the event's first
    // check: a trial of minutes).
    let endFailed = false;
    if (d0 < n - 1) {
      const end = pick(k(n), false);
      if (end.trial.ok) return end;
      endFailed = true;
    }
    for (let step = 1; ; step *= 2) {
      const d = Math.min(n, ok + step);
      // The end failed: the bracket is [ok, n].
      if (endFailed && d === n) break;
      const t = pick(k(d), false);
      if (!t.trial.ok) {
        bad = d;
        break;
      }
      ok = d;
      best = t;
      if (d === n) return t;
    }
  } else {
    if (d0 === 0) return first;
    const generous = pick(k(0), true);
    if (!generous.trial.ok) return generous;
    ok = 0;
    best = generous;
    bad = d0;
    for (let step = 1; ; step *= 2) {
      const d = Math.max(ok, bad - step);
      if (d === ok) break;
      const t = pick(k(d), false);
      if (t.trial.ok) {
        ok = d;
        best = t;
        break;
      }
      bad = d;
    }
  }
  while (bad - ok > 1) {
    const d = Math.floor((ok + bad) / 2);
    const t = pick(k(d), false);
    if (t.trial.ok) {
      ok = d;
      best = t;
    } else bad = d;
  }
  return best;
}

/** The 2×2 comparison over seeds; the first seed's configurations are reported, the others give the spread. */
export function compareTopologies(plan: Plan, opts: CompareOptions): ComparedTopologies {
  const configurations: ComparedConfiguration[] = [];
  const results = new Map<string, SimulationResult>();
  const variants = new Map<
    string,
    (o: Partial<SimulateOptions>) => { r: SimulationResult; gate: SizingVerdict }
  >();
  const costs: Record<string, number[]> = {};
  const cache = opts.cache ?? createSizingCache();
  for (const [i, seed] of opts.seeds.entries()) {
    const seedPlan = opts.planFor ? opts.planFor(seed) : plan;
    const inputs: SizingInputs = {
      plan: seedPlan,
      scaling: opts.scaling,
      ...(opts.demandTable ? { demandTable: opts.demandTable } : {}),
    };
    for (const arch of ['monolith', 'headless'] as const) {
      const sizer = createSizer(inputs, arch, seed, { ...opts, cache }, opts.variant ?? 'base');
      const prov = sizer.searchProvisioned();
      const auto = sizer.searchAutoscaled(prov.u);
      const cells = [
        {
          provisioning: 'autoscaled' as const,
          name: 'prewarmFraction' as const,
          pick: { knob: auto.f, trial: auto.trial, tasks: auto.tasks },
          how: { autoscaled: true as const, u: prov.u },
        },
        {
          provisioning: 'provisioned' as const,
          name: 'utilisation' as const,
          pick: { knob: prov.u, trial: prov.trial, tasks: prov.tasks },
          how: { autoscaled: false as const },
        },
      ];
      for (const cell of cells) {
        const key = `${arch}-${cell.provisioning}`;
        const list = costs[key] ?? [];
        costs[key] = list;
        if (i !== 0) {
          list.push(round(cell.pick.trial.usd));
          continue;
        }
        // The first seed's configurations are reported: confirmed at full resolution.
        const c = sizer.confirm(cell.pick, cell.how);
        const { r, gate } = c.run;
        if (opts.resultsOnly) {
          results.set(key, r);
          continue;
        }
        list.push(round(c.stepsBack > 0 ? fargateComputeCost(r, opts.pricing).usd : cell.pick.trial.usd));
        const knob = { name: cell.name, value: round(c.knob, 3) };
        const simulations = sizer.simulations();
        const measureKey = `${arch}|${cell.provisioning}|${knob.value}|${simulations}`;
        let measured = opts.measured?.get(c.run)?.get(measureKey);
        if (!measured) {
          measured = measure(
            arch,
            cell.provisioning,
            knob,
            r,
            gate,
            { judge: opts.judge, meta: sizer.meta, pricing: opts.pricing, simulations, plan: seedPlan },
            c.run.fromSeries,
          );
          if (opts.measured) {
            const byRun = opts.measured.get(c.run) ?? new Map<string, ComparedConfiguration>();
            byRun.set(measureKey, measured);
            opts.measured.set(c.run, byRun);
          }
        }
        configurations.push({
          ...structuredClone(measured),
          ...(c.stepsBack > 0 ? { confirmedStepsBack: c.stepsBack } : {}),
        });
        results.set(key, r);
        const { tasks } = c;
        variants.set(key, (o) => sizer.variant(tasks, cell.how.autoscaled, o));
      }
    }
  }
  const cal = opts.demandTable ?? DEMAND_TABLE;
  return {
    comparison: {
      profile: plan.profile.name,
      peakRps: plan.peakRps,
      seeds: opts.seeds,
      configurations,
      costSpread: Object.fromEntries(
        Object.entries(costs).map(([k, v]) => [k, { min: Math.min(...v), max: Math.max(...v) }]),
      ),
      inputs: {
        hopClientCpuMs: cal.hopClientCpuMs,
        hopServerCpuMs: cal.hopServerCpuMs,
        floor: FLOOR,
        pricing: `${opts.pricing.region} ${opts.pricing.version}`,
      },
    },
    results,
    resimulate: (key, overrides) => {
      const v = variants.get(key);
      if (!v) throw new Error(`no configuration ${key}`);
      return v(overrides);
    },
  };
}

/** What {@link compareTopologies} returns: the comparison, each configuration's run, and a way to vary one. */
export interface ComparedTopologies {
  comparison: Comparison;
  /** The first seed's simulation of each configuration, by `<arch>-<provisioning>`. */
  results: Map<string, SimulationResult>;
  /**
   * The configuration `key` (its right-sized tasks, its seed) simulated again with other simulator
   * inputs, e.g. a fix (`hotKeys`); judged by the same budgets.
   */
  resimulate(key: string, overrides: Partial<SimulateOptions>): { r: SimulationResult; gate: SizingVerdict };
}
