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
 * configuration's report. Pure apart from `writeComparison`.
 */
import type { RunMeta } from '../../core/run-format.ts';
import type { ScalingConfig } from '../../reference-stack/autoscaling/scaling-file.ts';
import type { ServiceScaling } from '../../reference-stack/autoscaling/types.ts';
import { CALIBRATION, type Calibration } from '../../reference-stack/capacity/calibration.ts';
import { type Arch, type ServiceName, TOPOLOGIES, type Topology } from '../../reference-stack/topology.ts';
import type { Plan } from '../../scenarios/plan.ts';
import { computeScenarioDemands } from '../../simulation/demand.ts';
import { fargateComputeCost } from '../../simulation/resimulate.ts';
import { type SimulateOptions, type SimulationResult, simulate } from '../../simulation/simulate.ts';
import type { Budget } from '../budgets/budget.ts';
import { evaluateBudgets, type GateResult } from '../budgets/evaluate.ts';
import type { PricingTable } from '../pricing/pricing-table.ts';

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
  orders: number;
  costPer1000Orders: number | null;
  p95ByChannel: Record<string, number>;
  p99ByChannel: Record<string, number>;
  failedRate: number;
  /** Minutes with any budget-relevant failure (failed requests > 1% in a series interval). */
  breachMinutes: number;
  /** Event seconds from the first scale-out decision to the new tasks in service, per service. */
  scaleOutLagSeconds: Record<string, number>;
  verdict: GateResult['verdict'];
  simulations: number;
}

/** Where the per-hop cost decides the outcome (provisioned for peak, seed of the first configuration). */
export interface HopBreakEven {
  /** Multiplier of the measured per-hop CPU at which headless costs what the monolith costs; null if none in [0, 10]. */
  multiplier: number | null;
  /** The per-hop CPU (client + server, ms) at that point. */
  hopCpuMs: number | null;
  /** Headless compute cost with free hops and with the measured hops, against the monolith's. */
  headlessAtZeroHops: number;
  headlessAtMeasuredHops: number;
  monolith: number;
  explanation: string;
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
  /** Break-even of the per-hop cost (computed when asked: `breakEven`). */
  hopBreakEven?: HopBreakEven;
}

/** Options of {@link compareTopologies}. */
export interface CompareOptions {
  budgets: readonly Budget[];
  scaling: ScalingConfig;
  pricing: PricingTable;
  seeds: number[];
  calibration?: Calibration;
  /** Bisection steps per search (default 6). */
  searchSteps?: number;
  /** Also find the per-hop cost at which the topologies cost the same (more simulations). */
  breakEven?: boolean;
}

const FLOOR = 2;

/** Peak CPU-ms per second each deployable must serve under the plan (at the plan's busiest step). */
export function peakDemand(plan: Plan, arch: Arch, calibration?: Calibration): Record<string, number> {
  const demands = computeScenarioDemands(plan, arch, calibration);
  const times = [...new Set(plan.scenarios.flatMap((s) => s.times))].sort((a, b) => a - b);
  const peak: Record<string, number> = {};
  for (const t of times) {
    const at: Record<string, number> = {};
    for (const sc of demands) {
      const ps = plan.scenarios[sc.index]!;
      const rate = rateAt(ps.times, ps.rates, t);
      for (const st of sc.steps)
        for (const [s, ms] of Object.entries(st.cpuMs)) at[s] = (at[s] ?? 0) + rate * (ms ?? 0);
    }
    for (const [s, v] of Object.entries(at)) peak[s] = Math.max(peak[s] ?? 0, v);
  }
  return peak;
}

function rateAt(times: readonly number[], rates: readonly number[], t: number): number {
  for (let i = 0; i + 1 < times.length; i++) {
    const t0 = times[i] as number;
    const t1 = times[i + 1] as number;
    if (t >= t0 && t <= t1) {
      const r0 = rates[i] as number;
      const r1 = rates[i + 1] as number;
      return t1 === t0 ? Math.max(r0, r1) : r0 + ((r1 - r0) * (t - t0)) / (t1 - t0);
    }
  }
  return 0;
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
  calibration?: Calibration,
): Record<string, number> {
  const peak = peakDemand(plan, arch, calibration);
  const topology: Topology = TOPOLOGIES[arch];
  const out: Record<string, number> = {};
  for (const s of scalableServices(arch)) {
    const size = topology.deployables[s]!.taskSize;
    const perTask = size.vcpu * 1000 * 0.98;
    out[s] = Math.max(FLOOR, Math.ceil((peak[s] ?? 0) / (perTask * u)));
  }
  return out;
}

function withTasks(
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

function runMeta(plan: Plan): RunMeta {
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
  gate: GateResult,
  pricing: PricingTable,
  simulations: number,
): ComparedConfiguration {
  const { vcpuHours, gbHours, usd: cost } = fargateComputeCost(r, pricing);
  const tasks: Record<string, { min: number; peak: number }> = {};
  for (const [s, v] of Object.entries(r.findings.services)) {
    const recs = r.timeline.filter((x) => x.service === s);
    tasks[s] = { min: Math.min(...recs.map((x) => x.desired)), peak: v.peakTasks };
  }
  const orders = ordersOf(r);
  const res = r.findings.resolutionSeconds;
  const failedByT = new Map<number, { req: number; failed: number }>();
  for (const rec of r.series) {
    if (rec.step === null) continue;
    const e = failedByT.get(rec.t) ?? { req: 0, failed: 0 };
    e.req += rec.requests ?? 0;
    e.failed += rec.failed ?? 0;
    failedByT.set(rec.t, e);
  }
  let breachMinutes = 0;
  for (const e of failedByT.values()) if (e.req > 0 && e.failed / e.req > 0.01) breachMinutes += res / 60;
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
    orders: Math.round(orders),
    costPer1000Orders: orders > 0 ? round((cost / orders) * 1000) : null,
    p95ByChannel: Object.fromEntries(Object.entries(byCh).map(([k, v]) => [k, v.p95])),
    p99ByChannel: Object.fromEntries(Object.entries(byCh).map(([k, v]) => [k, v.p99])),
    failedRate:
      r.summary.requests.total > 0 ? round(r.summary.requests.failed / r.summary.requests.total, 5) : 0,
    breachMinutes: round(breachMinutes),
    scaleOutLagSeconds: lag,
    verdict: gate.verdict,
    inconclusive: gate.results.filter((x) => x.verdict === 'inconclusive').map((x) => x.budget.name),
    simulations,
  };
}

function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/**
 * Right-sizes one configuration for one seed: returns the chosen configuration's simulation and
 * its measurement. `meets` is the budgets verdict; an inconclusive verdict (too few samples) counts
 * as not failing, since nothing was breached.
 */
function rightSize(
  plan: Plan,
  arch: Arch,
  provisioning: Provisioning,
  opts: CompareOptions,
  seed: number,
): { config: ComparedConfiguration; result: SimulationResult } {
  const steps = opts.searchSteps ?? 6;
  const meta = runMeta(plan);
  let sims = 0;
  const run = (tasks: Record<string, number>, autoscaled: boolean) => {
    sims++;
    const headroom = provisionedTasks(plan, arch, 0.2, opts.calibration);
    const scaling = withTasks(
      opts.scaling,
      arch,
      tasks,
      autoscaled,
      Object.fromEntries(Object.entries(headroom).map(([k, v]) => [k, v * 2])),
    );
    const so: SimulateOptions = {
      arch,
      scaling,
      seed,
      ...(opts.calibration ? { demandCalibration: opts.calibration } : {}),
    };
    const r = simulate(plan, so);
    const gate = evaluateBudgets(opts.budgets, { meta, records: r.series });
    return { r, gate, ok: gate.verdict !== 'fail' };
  };
  // Provisioned: the largest utilisation target that meets the budgets.
  let lo = 0.2;
  let hi = 0.95;
  let best = run(provisionedTasks(plan, arch, lo, opts.calibration), false);
  let bestU = lo;
  const top = run(provisionedTasks(plan, arch, hi, opts.calibration), false);
  if (top.ok) {
    best = top;
    bestU = hi;
  } else {
    for (let i = 0; i < steps; i++) {
      const mid = (lo + hi) / 2;
      const m = run(provisionedTasks(plan, arch, mid, opts.calibration), false);
      if (m.ok) {
        lo = mid;
        best = m;
        bestU = mid;
      } else hi = mid;
    }
  }
  if (provisioning === 'provisioned') {
    return {
      config: measure(
        arch,
        provisioning,
        { name: 'utilisation', value: round(bestU, 3) },
        best.r,
        best.gate,
        opts.pricing,
        sims,
      ),
      result: best.r,
    };
  }
  // Autoscaled: the smallest pre-warm fraction of the provisioned tasks that meets the budgets.
  const full = provisionedTasks(plan, arch, bestU, opts.calibration);
  const at = (f: number) =>
    Object.fromEntries(Object.entries(full).map(([k, v]) => [k, Math.max(FLOOR, Math.ceil(v * f))]));
  let fLo = 0;
  let fHi = 1;
  let chosen = run(at(0), true);
  let chosenF = 0;
  if (!chosen.ok) {
    chosen = run(at(1), true);
    chosenF = 1;
    for (let i = 0; i < steps; i++) {
      const mid = (fLo + fHi) / 2;
      const m = run(at(mid), true);
      if (m.ok) {
        fHi = mid;
        chosen = m;
        chosenF = mid;
      } else fLo = mid;
    }
  }
  return {
    config: measure(
      arch,
      provisioning,
      { name: 'prewarmFraction', value: round(chosenF, 3) },
      chosen.r,
      chosen.gate,
      opts.pricing,
      sims,
    ),
    result: chosen.r,
  };
}

/** The 2×2 comparison over seeds; the first seed's configurations are reported, the others give the spread. */
export function compareTopologies(
  plan: Plan,
  opts: CompareOptions,
): { comparison: Comparison; results: Map<string, SimulationResult> } {
  const configurations: ComparedConfiguration[] = [];
  const results = new Map<string, SimulationResult>();
  const costs: Record<string, number[]> = {};
  for (const [i, seed] of opts.seeds.entries()) {
    for (const arch of ['monolith', 'headless'] as const) {
      for (const provisioning of ['autoscaled', 'provisioned'] as const) {
        const key = `${arch}-${provisioning}`;
        const { config, result } = rightSize(plan, arch, provisioning, opts, seed);
        const list = costs[key] ?? [];
        list.push(config.computeCostUsd);
        costs[key] = list;
        if (i === 0) {
          configurations.push(config);
          results.set(key, result);
        }
      }
    }
  }
  const cal = opts.calibration ?? CALIBRATION;
  const monolithProvisioned = configurations.find(
    (c) => c.arch === 'monolith' && c.provisioning === 'provisioned',
  );
  return {
    comparison: {
      ...(opts.breakEven && monolithProvisioned
        ? { hopBreakEven: hopBreakEven(plan, opts, monolithProvisioned.computeCostUsd) }
        : {}),
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
  };
}

/** Markdown table of a comparison (compare.md). */
export function renderComparisonMarkdown(c: Comparison): string {
  const f = (x: number | null, d = 2) =>
    x === null ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: d });
  const channels = [...new Set(c.configurations.flatMap((x) => Object.keys(x.p95ByChannel)))];
  const lines = [
    `# Monolith vs headless: ${c.profile} at ${f(c.peakRps, 0)} req/s peak (simulated)`,
    '',
    'Each configuration right-sized by the same search (docs/simulation.md "Comparing topologies"):',
    'provisioned = the fewest fixed tasks that meet the budgets; autoscaled = default target tracking',
    'with the smallest pre-warmed minimum that meets them. Compute cost = Fargate vCPU-hours and GB-hours.',
    '',
    `| configuration | meets budgets | knob | vCPU-h | compute $ | $ per 1,000 orders | failed | breach min | ${channels.map((ch) => `p95 ${ch} (ms)`).join(' | ')} |`,
    `|---|---|---|---|---|---|---|---|${channels.map(() => '---').join('|')}|`,
    ...c.configurations.map(
      (x) =>
        `| ${x.arch} ${x.provisioning} | ${x.meetsBudgets ? 'yes' : 'no'}${x.inconclusive.length > 0 ? ` (${x.inconclusive.length} inconclusive)` : ''} | ${x.knob.name} ${x.knob.value} | ${f(x.vcpuHours)} | ${f(x.computeCostUsd)} | ${f(x.costPer1000Orders, 3)} | ${(100 * x.failedRate).toFixed(2)}% | ${f(x.breachMinutes)} | ${channels.map((ch) => f(x.p95ByChannel[ch] ?? null, 0)).join(' | ')} |`,
    ),
    '',
    '## Tasks per service (minimum – peak)',
    '',
    ...c.configurations.map(
      (x) =>
        `- ${x.arch} ${x.provisioning}: ${Object.entries(x.tasks)
          .map(([s, t]) => `${s} ${t.min}–${t.peak}`)
          .join(', ')}`,
    ),
    '',
    `Spread of compute cost over seeds ${c.seeds.join(', ')}: ${Object.entries(c.costSpread)
      .map(([k, v]) => `${k} $${f(v.min)}–$${f(v.max)}`)
      .join('; ')}.`,
    '',
    ...(c.hopBreakEven
      ? [
          '## Break-even: per-hop cost',
          '',
          `Provisioned for peak: headless $${f(c.hopBreakEven.headlessAtZeroHops)} with free hops, $${f(c.hopBreakEven.headlessAtMeasuredHops)} with the measured hops; monolith $${f(c.hopBreakEven.monolith)}. ${c.hopBreakEven.explanation}.`,
          '',
        ]
      : []),
    `Model inputs: per-hop CPU ${c.inputs.hopClientCpuMs} ms (client) + ${c.inputs.hopServerCpuMs} ms (server), measured (reference-stack/capacity/calibration.ts); floor ${c.inputs.floor} tasks per deployable; prices ${c.inputs.pricing}.`,
    '',
  ];
  return lines.join('\n');
}

/**
 * The per-hop CPU cost at which headless, provisioned for peak, costs what the monolith does: the
 * parameter that decides the comparison when the load is spread evenly. Bisection on a multiplier
 * of the measured hop cost, each point right-sized by the same search.
 */
export function hopBreakEven(plan: Plan, opts: CompareOptions, monolithCost: number): HopBreakEven {
  const cal = opts.calibration ?? CALIBRATION;
  const seed = opts.seeds[0] ?? 1;
  const cost = (h: number) =>
    rightSize(
      plan,
      'headless',
      'provisioned',
      {
        ...opts,
        calibration: {
          ...cal,
          hopClientCpuMs: cal.hopClientCpuMs * h,
          hopServerCpuMs: cal.hopServerCpuMs * h,
        },
      },
      seed,
    ).config.computeCostUsd;
  const zero = cost(0);
  const measured = cost(1);
  const base = { headlessAtZeroHops: zero, headlessAtMeasuredHops: measured, monolith: monolithCost };
  if (zero > monolithCost)
    return {
      ...base,
      multiplier: null,
      hopCpuMs: null,
      explanation:
        'headless costs more even with free hops: its floors (2 tasks per deployable) and per-service rounding outweigh the work it shares',
    };
  let lo = 0;
  let hi = 1;
  if (measured < monolithCost) {
    lo = 1;
    hi = 10;
    if (cost(hi) < monolithCost)
      return {
        ...base,
        multiplier: null,
        hopCpuMs: null,
        explanation: 'headless stays cheaper up to 10x the measured hop cost',
      };
  }
  for (let i = 0; i < (opts.searchSteps ?? 6); i++) {
    const mid = (lo + hi) / 2;
    if (cost(mid) < monolithCost) lo = mid;
    else hi = mid;
  }
  const m = round((lo + hi) / 2, 3);
  return {
    ...base,
    multiplier: m,
    hopCpuMs: round((cal.hopClientCpuMs + cal.hopServerCpuMs) * m, 3),
    explanation: `headless costs what the monolith does at ${m}x the measured per-hop CPU; above it the monolith is cheaper`,
  };
}
