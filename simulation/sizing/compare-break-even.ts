/**
 * The break-even values of the parameters that decide "monolith or headless?": for each parameter,
 * the value at which headless stops being cheaper than the monolith (or starts being), each side
 * right-sized by the same search as the 2×2 (simulation/sizing/compare.ts), over several seeds.
 *
 * The parameters (a typed registry; docs/reports.md "Comparing topologies" defines each):
 * - `hop-cost`: a multiplier m of the measured per-hop CPU (client + server side of one
 *   service-to-service call, reference-stack/capacity/demand-table.ts); compares the cells
 *   provisioned for peak; searched in [0, 10]. The monolith makes no hops, so only headless moves.
 * - `skew`: the share of headless peak CPU demand on h, the service hottest under the profile's own
 *   mix. Varied by reweighting the journey mix with a tilt λ in [-1, 1]: λ > 0 moves a fraction λ of
 *   the CPU demand, at every instant, onto the journey with the largest share on h; λ < 0 onto the
 *   one with the smallest. Total CPU demand (the monolith's, which is the work itself) is the same
 *   at every instant and every λ. Compares the cells provisioned for peak.
 * - `presentation-skew`: the same tilt toward (λ > 0) or away from (λ < 0) the journeys with the
 *   largest share on the presentation layer (the storefront, which renders the web and social
 *   channels' pages): the skew of traffic toward the presentation layer at which headless (which
 *   scales the storefront alone) becomes cheaper than the monolith (which scales everything with it).
 * - `start-time`: the Fargate task start latency (launch to RUNNING, the input to the autoscaler's
 *   task model, reference-stack/autoscaling/tasks.ts), fixed at x seconds for every service instead
 *   of the default uniform 30–60 s; searched in [0, 300] s. Compares the autoscaled cells (a
 *   provisioned fleet never launches tasks).
 *
 * The search, per parameter and seed: both costs are read at both ends of the range and at the
 * current value; where "headless costs no more than the monolith" (within SAME_COST, the null test's
 * 2%) changes between the current value and an end, bisection (`steps` halvings) narrows the
 * crossing, nearest the current value first; otherwise the answer is "none in the range", with the
 * costs at its ends. Costs move in whole tasks, so the comparison is a step function of the knob.
 */
import { DEMAND_TABLE, type DemandTable } from '../../reference-stack/capacity/demand-table.ts';
import type { Arch } from '../../reference-stack/topology.ts';
import type { Plan, PlanScenario } from '../../scenarios/plan.ts';
import { evaluate, integrate, unionTimes } from '../../scenarios/rate-function.ts';
import { computeScenarioDemands } from '../demand.ts';
import {
  type CompareOptions,
  createSizer,
  createSizingCache,
  type Provisioning,
  peakDemand,
  type SizingInputs,
} from './compare.ts';

/**
 * Two costs within this fraction of each other are the same: the null test's fairness tolerance
 * (simulation/sizing/compare.test.ts), since whole-task rounding alone moves a cost by about that.
 */
export const SAME_COST = 0.02;

/** Names of the parameters whose break-even can be searched. */
export type BreakEvenName = 'hop-cost' | 'skew' | 'presentation-skew' | 'start-time';

/** One parameter: how its knob changes the inputs, and how to report the knob. */
export interface BreakEvenParameter {
  label: string;
  /** The reported quantity and its unit. */
  unit: string;
  /** Which cells of the 2×2 it compares. */
  provisioning: Provisioning;
  /** The knob's searched range and its value in the unchanged inputs. */
  range: [number, number];
  current: (base: SizingInputs) => number;
  /** Topologies whose cost depends on the knob (the other is sized once). */
  affects: readonly Arch[];
  /** The inputs at knob value x, and a memo key naming them ('base' when unchanged). */
  apply: (x: number, base: SizingInputs) => { inputs: SizingInputs; key: string };
  /** The reported value at knob x (e.g. the skew share for a tilt). */
  report: (x: number, base: SizingInputs) => number;
}

/** The parameters, by name. */
export const BREAK_EVEN_PARAMETERS = {
  'hop-cost': {
    label: 'per-hop CPU (client + server, ms)',
    unit: 'ms',
    provisioning: 'provisioned',
    range: [0, 10],
    current: () => 1,
    affects: ['headless'],
    apply: (m, base) => {
      if (m === 1) return { inputs: base, key: 'base' };
      return {
        inputs: { ...base, demandTable: hopCostTable(base.demandTable ?? DEMAND_TABLE, m) },
        key: `hop-cost=${m}`,
      };
    },
    report: (m, base) => {
      const cal = base.demandTable ?? DEMAND_TABLE;
      return round((cal.hopClientCpuMs + cal.hopServerCpuMs) * m, 4);
    },
  },
  skew: {
    label: 'share of headless peak CPU on the hottest service',
    unit: 'share',
    provisioning: 'provisioned',
    range: [-1, 1],
    current: () => 0,
    affects: ['monolith', 'headless'],
    apply: (lambda, base) =>
      lambda === 0
        ? { inputs: base, key: 'base' }
        : { inputs: { ...base, plan: tiltPlan(base, lambda) }, key: `skew=${lambda}` },
    report: (lambda, base) => skewShare(lambda === 0 ? base.plan : tiltPlan(base, lambda), base).share,
  },
  'presentation-skew': {
    label: 'share of headless peak CPU on the presentation layer (the storefront)',
    unit: 'share',
    provisioning: 'provisioned',
    range: [-1, 1],
    current: () => 0,
    affects: ['monolith', 'headless'],
    apply: (lambda, base) =>
      lambda === 0
        ? { inputs: base, key: 'base' }
        : {
            inputs: { ...base, plan: tiltPlan(base, lambda, PRESENTATION) },
            key: `presentation-skew=${lambda}`,
          },
    report: (lambda, base) =>
      skewShare(lambda === 0 ? base.plan : tiltPlan(base, lambda, PRESENTATION), base, PRESENTATION).share,
  },
  'start-time': {
    label: 'Fargate task start latency (s)',
    unit: 's',
    provisioning: 'autoscaled',
    range: [0, 300],
    current: (base) => meanStartSeconds(base),
    affects: ['monolith', 'headless'],
    apply: (x, base) => ({
      inputs: {
        ...base,
        scaling: {
          ...base.scaling,
          services: Object.fromEntries(
            Object.entries(base.scaling.services).map(([k, s]) => [
              k,
              { ...s, launch: { ...s.launch, startLatency: { distribution: 'fixed', seconds: x } } },
            ]),
          ),
        },
      },
      key: `start-time=${x}`,
    }),
    report: (x) => round(x, 1),
  },
} satisfies Record<BreakEvenName, BreakEvenParameter>;

/**
 * The demand table with its per-hop CPU multiplied by `m`: one object per (table, m), so that what is
 * memoised per table (a plan's peak demand, every trial's task counts) is computed once per value.
 */
function hopCostTable(cal: DemandTable, m: number): DemandTable {
  let byM = hopCostMemo.get(cal);
  if (!byM) {
    byM = new Map();
    hopCostMemo.set(cal, byM);
  }
  let t = byM.get(m);
  if (!t) {
    t = { ...cal, hopClientCpuMs: cal.hopClientCpuMs * m, hopServerCpuMs: cal.hopServerCpuMs * m };
    byM.set(m, t);
  }
  return t;
}

const hopCostMemo = new WeakMap<DemandTable, Map<number, DemandTable>>();

/** One seed's answer for one parameter. */
export interface BreakEvenSeed {
  seed: number;
  /** The reported value (ms, share or s) where headless stops or starts being cheaper; null if none. */
  value: number | null;
  /** The knob there (multiplier, tilt or seconds). */
  knob: number | null;
  /** Which topology costs no more (within SAME_COST) below the value; the other above it. */
  cheaperBelow: Arch | null;
  /** Compute cost (USD) of each topology at the ends of the range and at the current value. */
  ends: { at: 'low' | 'current' | 'high'; knob: number; value: number; headless: number; monolith: number }[];
}

/** One parameter's break-even over seeds. */
export interface BreakEvenResult {
  name: BreakEvenName;
  label: string;
  unit: string;
  provisioning: Provisioning;
  /** The reported range searched. */
  range: [number, number];
  current: number;
  /** The hottest service the skew is measured on (skew only). */
  hotService?: string;
  seeds: BreakEvenSeed[];
  /** Min and max of the break-even over the seeds that found one. */
  spread: { min: number; max: number } | null;
  /** Seeds that found none in the range. */
  none: number;
  /** Trials the searches judged, memoised ones included (each distinct trial is simulated once). */
  simulations: number;
}

/** The break-even report of a comparison. */
export interface BreakEvenReport {
  steps: number;
  searchSteps: number;
  /** The fix every simulation of the search took (compare-answers.ts), when one was applied. */
  withFix?: string;
  results: BreakEvenResult[];
}

/** Options of {@link computeBreakEvens}. */
export interface BreakEvenOptions extends CompareOptions {
  parameters: readonly BreakEvenName[];
  /** Halvings of the knob's interval around a crossing (default 4). */
  steps?: number;
}

/** Searches each parameter's break-even for every seed (see the module comment). */
export function computeBreakEvens(plan: Plan, opts: BreakEvenOptions): BreakEvenReport {
  const steps = opts.steps ?? 4;
  const cache = opts.cache ?? createSizingCache();
  const results: BreakEvenResult[] = [];
  for (const name of opts.parameters) {
    const p: BreakEvenParameter = BREAK_EVEN_PARAMETERS[name];
    const seeds: BreakEvenSeed[] = [];
    let sims = 0;
    let base0: SizingInputs | null = null;
    for (const seed of opts.seeds) {
      const base: SizingInputs = {
        plan: opts.planFor ? opts.planFor(seed) : plan,
        scaling: opts.scaling,
        ...(opts.demandTable ? { demandTable: opts.demandTable } : {}),
      };
      base0 ??= base;
      const costAt = (arch: Arch, x: number): number => {
        const c = computeKnobCost(p, base, arch, seed, x, { ...opts, cache });
        sims += c.trials;
        return c.usd;
      };
      const point = (x: number) => ({
        knob: x,
        headless: costAt('headless', x),
        monolith: costAt('monolith', x),
      });
      const cur = p.current(base);
      const [lo, hi] = p.range;
      const mid = point(cur);
      const low = point(lo);
      const high = point(hi);
      const cheaper = (q: { headless: number; monolith: number }) =>
        q.headless <= q.monolith * (1 + SAME_COST);
      const ends = (
        [
          ['low', low],
          ['current', mid],
          ['high', high],
        ] as const
      ).map(([at, q]) => ({
        at,
        knob: q.knob,
        value: p.report(q.knob, base),
        headless: round(q.headless, 4),
        monolith: round(q.monolith, 4),
      }));
      let bracket: [typeof mid, typeof mid] | null = null;
      if (cheaper(low) !== cheaper(mid)) bracket = [low, mid];
      else if (cheaper(mid) !== cheaper(high)) bracket = [mid, high];
      if (!bracket) {
        seeds.push({ seed, value: null, knob: null, cheaperBelow: null, ends });
        continue;
      }
      let [a, b] = bracket;
      for (let i = 0; i < steps; i++) {
        const m = point((a.knob + b.knob) / 2);
        if (cheaper(m) === cheaper(a)) a = m;
        else b = m;
      }
      const knob = round((a.knob + b.knob) / 2, 4);
      seeds.push({
        seed,
        value: p.report(knob, base),
        knob,
        cheaperBelow: cheaper(a) ? 'headless' : 'monolith',
        ends,
      });
    }
    const found = seeds.map((s) => s.value).filter((v): v is number => v !== null);
    const b = base0 as SizingInputs;
    results.push({
      name,
      label: p.label,
      unit: p.unit,
      provisioning: p.provisioning,
      range: [p.report(p.range[0], b), p.report(p.range[1], b)],
      current: p.report(p.current(b), b),
      ...(name === 'skew' ? { hotService: skewShare(b.plan, b).service } : {}),
      ...(name === 'presentation-skew' ? { hotService: PRESENTATION } : {}),
      seeds,
      spread: found.length > 0 ? { min: Math.min(...found), max: Math.max(...found) } : null,
      none: seeds.length - found.length,
      simulations: sims,
    });
  }
  return { steps, searchSteps: opts.searchSteps ?? 6, results };
}

/**
 * One topology right-sized at knob value `x` of a parameter: the compute cost (USD) of its cell
 * (provisioned, or autoscaled from the provisioned utilisation of the unchanged inputs) and the
 * trials judged. The break-even search's one sizing step, also run ahead by worker threads
 * (workflows/compare-pool.ts). A topology the knob does not affect is sized on the unchanged inputs.
 * The search starts from the unchanged inputs' answer (compare.ts `warmStartSearch`): moving a knob
 * moves the right size a little, so 2–4 trials find it where a bisection takes `steps` + 2.
 */
export function computeKnobCost(
  p: BreakEvenParameter,
  base: SizingInputs,
  arch: Arch,
  seed: number,
  x: number,
  opts: CompareOptions,
): { usd: number; trials: number } {
  const { inputs, key } = p.affects.includes(arch) ? p.apply(x, base) : { inputs: base, key: 'base' };
  // The unchanged inputs' answer (the current value's, from the memo): where the search starts, and
  // the autoscaled search's provisioned utilisation.
  const b = createSizer(base, arch, seed, opts, 'base');
  const baseProv = b.searchProvisioned();
  if (p.provisioning === 'provisioned') {
    if (key === 'base') return { usd: baseProv.trial.usd, trials: b.simulations() };
    const sizer = createSizer(inputs, arch, seed, opts, key);
    const usd = sizer.searchProvisioned(baseProv.u).trial.usd;
    return { usd, trials: b.simulations() + sizer.simulations() };
  }
  const baseAuto = b.searchAutoscaled(baseProv.u);
  if (key === 'base') return { usd: baseAuto.trial.usd, trials: b.simulations() };
  const sizer = createSizer(inputs, arch, seed, opts, key);
  const usd = sizer.searchAutoscaled(baseProv.u, baseAuto.f).trial.usd;
  return { usd, trials: b.simulations() + sizer.simulations() };
}

/** Mean of the default start-latency distribution of the first service (the knob's current value). */
function meanStartSeconds(base: SizingInputs): number {
  const s = Object.values(base.scaling.services)[0]?.launch.startLatency;
  if (!s) return 45;
  const means = {
    fixed: () => (s.distribution === 'fixed' ? s.seconds : 0),
    uniform: () => (s.distribution === 'uniform' ? (s.minSeconds + s.maxSeconds) / 2 : 0),
    normal: () => (s.distribution === 'normal' ? s.meanSeconds : 0),
  } satisfies Record<typeof s.distribution, () => number>;
  return means[s.distribution]();
}

/**
 * Per-iteration CPU-ms of each scenario: total (the monolith's, the work itself) and on each
 * headless service.
 */
function scenarioCpu(plan: Plan, base: SizingInputs) {
  const mono = computeScenarioDemands(plan, 'monolith', base.demandTable);
  const head = computeScenarioDemands(plan, 'headless', base.demandTable);
  return plan.scenarios.map((_, i) => {
    const total = (mono.find((d) => d.index === i)?.steps ?? []).reduce(
      (a, st) => a + (st.cpuMs.monolith ?? 0),
      0,
    );
    const by: Record<string, number> = {};
    for (const st of head.find((d) => d.index === i)?.steps ?? [])
      for (const [s, v] of Object.entries(st.cpuMs)) by[s] = (by[s] ?? 0) + (v ?? 0);
    return { total, by };
  });
}

/** The presentation layer: the service that renders the web and social channels' pages. */
export const PRESENTATION = 'storefront';

/**
 * A service's share of headless peak CPU under `plan`: `service`, or else the service hottest under
 * the profile's own mix.
 */
export function skewShare(
  plan: Plan,
  base: SizingInputs,
  service?: string,
): { service: string; share: number } {
  const own = peakDemand(base.plan, 'headless', base.demandTable);
  service ??= Object.entries(own).sort((x, y) => y[1] - x[1])[0]?.[0] ?? '';
  const peak = peakDemand(plan, 'headless', base.demandTable);
  const sum = Object.values(peak).reduce((a, b) => a + b, 0);
  return { service, share: sum > 0 ? round((peak[service] ?? 0) / sum, 4) : 0 };
}

/**
 * The plan with its journey mix tilted by λ (see the module comment): a fraction |λ| of the CPU
 * demand at every instant moves onto the journey with the largest (λ > 0) or smallest (λ < 0) share
 * on the hottest service; the total CPU demand is unchanged at every instant.
 */
export function tiltPlan(base: SizingInputs, lambda: number, toward?: string): Plan {
  // Each knob value is sized, reported and searched from several places (every trial's task counts
  // read its peak demand, memoised per plan object): the same tilted plan object for the same inputs.
  // Plans are never mutated once compiled.
  let byTable = tiltMemo.get(base.plan);
  if (!byTable) {
    byTable = new Map();
    tiltMemo.set(base.plan, byTable);
  }
  const table = base.demandTable ?? DEMAND_TABLE;
  let byKnob = byTable.get(table);
  if (!byKnob) {
    byKnob = new Map();
    byTable.set(table, byKnob);
  }
  const key = `${lambda}|${toward ?? ''}`;
  const hit = byKnob.get(key);
  if (hit) return hit;
  const tilted = computeTiltPlan(base, lambda, toward);
  byKnob.set(key, tilted);
  return tilted;
}

const tiltMemo = new WeakMap<Plan, Map<DemandTable, Map<string, Plan>>>();

function computeTiltPlan(base: SizingInputs, lambda: number, toward?: string): Plan {
  const plan = base.plan;
  const { service } = skewShare(plan, base, toward);
  const cpu = scenarioCpu(plan, base);
  const shares = cpu.map((c) => (c.total > 0 ? (c.by[service] ?? 0) / c.total : 0));
  let target = 0;
  for (let i = 1; i < shares.length; i++) {
    const better = lambda > 0 ? shares[i]! > shares[target]! : shares[i]! < shares[target]!;
    if (better) target = i;
  }
  const l = Math.min(1, Math.abs(lambda));
  const times = unionTimes(plan.scenarios.map((s) => s.times));
  const totalAt = times.map((t) =>
    plan.scenarios.reduce(
      (a, s, i) => a + evaluate({ times: s.times, values: s.rates }, t) * (cpu[i]?.total ?? 0),
      0,
    ),
  );
  const scenarios: PlanScenario[] = plan.scenarios.map((s, i) => {
    const own = times.map((t) => (1 - l) * evaluate({ times: s.times, values: s.rates }, t));
    const rates =
      i === target ? own.map((r, k) => r + (l * (totalAt[k] as number)) / (cpu[i]?.total || 1)) : own;
    const iterations = integrate({ times, values: rates }, plan.eventStart, plan.eventEnd) / plan.timeScale;
    return { ...s, times, rates, iterations };
  });
  const iterations = scenarios.reduce((a, s) => a + s.iterations, 0);
  const requests = scenarios.reduce((a, s) => a + s.iterations * s.requestsPerIteration, 0);
  return { ...plan, scenarios, iterations, requests };
}

function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
