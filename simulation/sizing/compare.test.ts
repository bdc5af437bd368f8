import { describe, expect, it } from 'vitest';
import { loadScaling } from '../../reference-stack/autoscaling/scaling-file.ts';
import { DEMAND_TABLE, type DemandTable } from '../../reference-stack/capacity/demand-table.ts';
import { TOPOLOGIES } from '../../reference-stack/topology.ts';
import { evaluate } from '../../scenarios/rate-function.ts';
import { constructedPlan, oneStepJourney } from '../../scenarios/test-plans.ts';
import { computeScenarioDemands } from '../demand.ts';
import { resolvePricing } from '../pricing/pricing-table.ts';
import {
  type BudgetsJudge,
  compareTopologies,
  createSizingCache,
  gridIndex,
  gridValue,
  peakDemand,
  provisionedTasks,
  warmStartSearch,
} from './compare.ts';
import { computeBreakEvens, PRESENTATION, skewShare, tiltPlan } from './compare-break-even.ts';

/** Zero per-hop cost: a request costs the same CPU in both topologies. */
/** No budgets: every configuration is inconclusive, never failing (as the gate judges an empty set). */
const NO_BUDGETS: BudgetsJudge = {
  evaluate: () => ({ verdict: 'inconclusive', counts: { fail: 0 }, results: [] }),
  breachMinutes: () => 0,
};
const NO_HOPS: DemandTable = { ...DEMAND_TABLE, hopClientCpuMs: 0, hopServerCpuMs: 0 };
const OPS = [
  'listProducts',
  'getProduct',
  'search',
  'getCart',
  'addCartItem',
  'checkout',
  'getOrder',
  'listDeals',
];

/** A uniform operation mix: every operation at the same rate. */
function uniformPlan(rps: number) {
  return constructedPlan(
    OPS.map((op) => ({
      channel: 'web',
      journey: oneStepJourney(op, op),
      times: [0, 1800],
      rates: [rps, rps],
    })),
  );
}

function provisionedVcpu(arch: 'monolith' | 'headless', tasks: Record<string, number>): number {
  const d = TOPOLOGIES[arch].deployables as Record<string, { taskSize: { vcpu: number } }>;
  return Object.entries(tasks).reduce((a, [s, n]) => a + n * (d[s]?.taskSize.vcpu ?? 0), 0);
}

describe('a fair monolith-vs-headless comparison', () => {
  it('puts the same CPU demand on both topologies when hops cost nothing (null test)', () => {
    const plan = uniformPlan(2000);
    const sum = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
    const head = sum(peakDemand(plan, 'headless', NO_HOPS));
    const mono = sum(peakDemand(plan, 'monolith', NO_HOPS));
    // The demand table rounds each deployable's share to 0.001 ms: equal up to that rounding.
    expect(Math.abs(head - mono) / mono).toBeLessThan(1e-4);
    // With hop costs, headless pays for its service-to-service calls.
    expect(sum(peakDemand(plan, 'headless'))).toBeGreaterThan(sum(peakDemand(plan, 'monolith')) * 1.01);
  });

  it('provisions the same vCPU for both topologies within 2% under the null conditions', () => {
    const plan = uniformPlan(5000);
    const mono = provisionedVcpu('monolith', provisionedTasks(plan, 'monolith', 0.6, NO_HOPS));
    const head = provisionedVcpu('headless', provisionedTasks(plan, 'headless', 0.6, NO_HOPS));
    expect(Math.abs(head - mono) / mono).toBeLessThan(0.02);
  });

  it('costs the same within 2% in the simulated 2×2 under the null conditions, and more for headless with hop costs', () => {
    const plan = uniformPlan(5000);
    const opts = {
      judge: NO_BUDGETS,
      scaling: loadScaling(),
      pricing: resolvePricing(),
      seeds: [1],
      searchSteps: 2,
    };
    const nul = compareTopologies(plan, { ...opts, demandTable: NO_HOPS }).comparison;
    const cost = (c: typeof nul, arch: string) =>
      c.configurations.find((x) => x.arch === arch && x.provisioning === 'provisioned')!.computeCostUsd;
    expect(Math.abs(cost(nul, 'headless') - cost(nul, 'monolith')) / cost(nul, 'monolith')).toBeLessThan(
      0.02,
    );
    const real = compareTopologies(plan, opts).comparison;
    expect(cost(real, 'headless')).toBeGreaterThan(cost(real, 'monolith') * 1.02);
  });
});

describe('the break-even of the deciding parameters', () => {
  const base = {
    judge: NO_BUDGETS,
    scaling: loadScaling(),
    pricing: resolvePricing(),
    seeds: [1],
    searchSteps: 3,
  };

  it('finds the hop cost at which headless stops costing what the monolith does between free and measured hops when the mix is uniform', () => {
    const plan = uniformPlan(5000);
    const r = computeBreakEvens(plan, { ...base, parameters: ['hop-cost'], steps: 3 }).results[0]!;
    const seed = r.seeds[0]!;
    const low = seed.ends.find((e) => e.at === 'low')!;
    const cur = seed.ends.find((e) => e.at === 'current')!;
    // Free hops: the same work, the same cost within 2% (the null condition).
    expect(Math.abs(low.headless - low.monolith) / low.monolith).toBeLessThan(0.02);
    expect(cur.headless).toBeGreaterThan(cur.monolith);
    // The monolith makes no hops: its cost does not move with the hop cost.
    expect(seed.ends.every((e) => e.monolith === low.monolith)).toBe(true);
    // Same cost (within 2%) at free hops, more at the measured hops: the crossing lies between them.
    expect(seed.knob).toBeGreaterThan(0);
    expect(seed.knob).toBeLessThan(1);
    expect(seed.cheaperBelow).toBe('headless');
    expect(seed.value).toBeCloseTo(
      (DEMAND_TABLE.hopClientCpuMs + DEMAND_TABLE.hopServerCpuMs) * seed.knob!,
      3,
    );
  });

  it('reports none in the range, with the costs at its ends, when nothing changes sign', () => {
    const plan = uniformPlan(5000);
    const r = computeBreakEvens(plan, { ...base, parameters: ['start-time'], steps: 2 }).results[0]!;
    expect(r.range).toEqual([0, 300]);
    for (const s of r.seeds) {
      expect(s.ends.map((e) => e.at)).toEqual(['low', 'current', 'high']);
      const signs = s.ends.map((e) => e.headless < e.monolith);
      if (new Set(signs).size === 1) expect(s.value).toBeNull();
      else expect(s.value).not.toBeNull();
    }
    expect(r.none + (r.spread ? r.seeds.length - r.none : 0)).toBe(r.seeds.length);
  });

  it('gives the spread over seeds', () => {
    const plan = uniformPlan(3000);
    const r = computeBreakEvens(plan, { ...base, seeds: [1, 2], parameters: ['hop-cost'], steps: 2 })
      .results[0]!;
    expect(r.seeds.map((s) => s.seed)).toEqual([1, 2]);
    const found = r.seeds.flatMap((s) => (s.value === null ? [] : [s.value]));
    if (found.length > 0) expect(r.spread).toEqual({ min: Math.min(...found), max: Math.max(...found) });
    else expect(r.spread).toBeNull();
  });
});

describe('the skew tilt', () => {
  /** Two journeys: one all on catalog (listProducts), one spread (checkout touches several services). */
  const plan = constructedPlan([
    { channel: 'web', journey: oneStepJourney('list', 'listProducts'), times: [0, 600], rates: [400, 400] },
    { channel: 'web', journey: oneStepJourney('buy', 'checkout'), times: [0, 600], rates: [100, 100] },
  ]);
  const inputs = { plan, scaling: loadScaling() };
  const total = (p: typeof plan) => {
    const d = computeScenarioDemands(p, 'monolith');
    return d.reduce(
      (a, sc) =>
        a + sc.steps.reduce((b, st) => b + (st.cpuMs.monolith ?? 0), 0) * p.scenarios[sc.index]!.rates[0]!,
      0,
    );
  };

  it.each([
    [-1, 'lower'],
    [-0.5, 'lower'],
    [0.5, 'higher'],
    [1, 'higher'],
  ] as const)('keeps the total CPU demand and moves the hottest service’s share %s → %s', (lambda, way) => {
    const tilted = tiltPlan(inputs, lambda);
    expect(Math.abs(total(tilted) - total(plan)) / total(plan)).toBeLessThan(1e-9);
    const s0 = skewShare(plan, inputs).share;
    const s1 = skewShare(tilted, inputs).share;
    if (way === 'higher') expect(s1).toBeGreaterThan(s0);
    else expect(s1).toBeLessThan(s0);
  });

  it('leaves the mix alone at λ = 0 and moves all demand onto one journey at |λ| = 1', () => {
    const one = tiltPlan(inputs, 1);
    expect(one.scenarios.filter((s) => s.rates.some((r) => r > 0))).toHaveLength(1);
    const zero = tiltPlan(inputs, 0);
    expect(zero.scenarios.map((s) => s.rates[0])).toEqual([400, 100]);
  });
});

describe('the skew toward the presentation layer', () => {
  /** Pages (rendered by the storefront) and app API calls (which never reach it). */
  const plan = constructedPlan([
    { channel: 'web', journey: oneStepJourney('pdp', 'getProductPage'), times: [0, 600], rates: [200, 200] },
    {
      channel: 'mobile-app',
      journey: oneStepJourney('api', 'getProduct'),
      times: [0, 600],
      rates: [200, 200],
    },
  ]);
  const inputs = { plan, scaling: loadScaling() };

  it('measures the storefront’s share whatever service is hottest, and tilts traffic toward and away from it', () => {
    const s0 = skewShare(plan, inputs, PRESENTATION);
    expect(s0.service).toBe('storefront');
    expect(s0.share).toBeGreaterThan(0);
    // All traffic on the page journey: the storefront's share is its share of a page's headless CPU.
    expect(skewShare(tiltPlan(inputs, 1, PRESENTATION), inputs, PRESENTATION).share).toBeGreaterThan(
      s0.share,
    );
    // All traffic on the API journey: nothing renders a page.
    expect(skewShare(tiltPlan(inputs, -1, PRESENTATION), inputs, PRESENTATION).share).toBe(0);
  });
});

describe('the peak demand at a step', () => {
  it('reads both sides of a step and does not add a step up to a step down at the same instant', () => {
    const step = { times: [0, 10, 10, 20], values: [1, 1, 5, 5] };
    expect(evaluate(step, 10, 'left')).toBe(1);
    expect(evaluate(step, 10)).toBe(5);
    expect(evaluate(step, 5, 'left')).toBe(1);
    expect(evaluate(step, 15, 'left')).toBe(5);
    const plan = constructedPlan([
      {
        channel: 'web',
        journey: oneStepJourney('a', 'search'),
        times: [0, 10, 10, 20],
        rates: [100, 100, 0, 0],
      },
      {
        channel: 'web',
        journey: oneStepJourney('b', 'search'),
        times: [0, 10, 10, 20],
        rates: [0, 0, 100, 100],
      },
    ]);
    const flat = constructedPlan([
      { channel: 'web', journey: oneStepJourney('a', 'search'), times: [0, 20], rates: [100, 100] },
    ]);
    expect(peakDemand(plan, 'monolith').monolith).toBeCloseTo(peakDemand(flat, 'monolith').monolith!, 6);
  });
});

describe('the sizing memo', () => {
  it('gives the same 2×2 with a shared memo and simulates each task count once', () => {
    const plan = uniformPlan(3000);
    const opts = {
      judge: NO_BUDGETS,
      scaling: loadScaling(),
      pricing: resolvePricing(),
      seeds: [1],
      searchSteps: 3,
    };
    const cache = createSizingCache();
    const a = compareTopologies(plan, { ...opts, cache }).comparison;
    const size = cache.size;
    const b = compareTopologies(plan, { ...opts, cache }).comparison;
    expect(cache.size).toBe(size);
    expect(b.configurations.map((c) => c.computeCostUsd)).toEqual(
      a.configurations.map((c) => c.computeCostUsd),
    );
  });
});

describe('the search started from a hint', () => {
  /** The bisection's answer on indices 0..2^steps for a monotone verdict (ok below or at `boundary`). */
  function bisect(steps: number, ok: (k: number) => boolean, want: 'largest' | 'smallest'): number {
    const n = 2 ** steps;
    const [generous, stingy] = want === 'largest' ? [0, n] : [n, 0];
    if (ok(stingy)) return stingy;
    if (!ok(generous)) return generous;
    let good = generous;
    let bad = stingy;
    for (let i = 0; i < steps; i++) {
      const mid = (good + bad) / 2;
      if (ok(mid)) good = mid;
      else bad = mid;
    }
    return good;
  }

  it.each([
    ['largest', 4],
    ['smallest', 4],
    ['largest', 6],
    ['smallest', 6],
  ] as const)(
    'finds what the bisection finds, for every boundary and hint (%s, %i halvings)',
    (want, steps) => {
      const n = 2 ** steps;
      for (let boundary = -1; boundary <= n + 1; boundary++) {
        const ok = (k: number) => (want === 'largest' ? k <= boundary : k >= boundary);
        const expected = bisect(steps, ok, want);
        for (let hint = 0; hint <= n; hint++) {
          let trials = 0;
          const got = warmStartSearch(
            steps,
            hint,
            (k) => {
              trials++;
              return { k, trial: { ok: ok(k), usd: k } };
            },
            want,
          );
          expect(got.k).toBe(expected);
          // Next to the boundary: at most 5 trials (one the most economical end, failing), where the
          // bisection takes steps + 2.
          if (Math.abs(hint - boundary) <= 1 && boundary > 0 && boundary < n)
            expect(trials).toBeLessThanOrEqual(5);
          // A hint that passes, with the boundary at the most economical end: the hint and that end.
          const economical = want === 'largest' ? n : 0;
          if (boundary === economical && hint !== economical) expect(trials).toBe(2);
        }
      }
    },
  );

  it('asks for the very grid points the bisection computes (the same floats)', () => {
    const visited: number[] = [];
    let lo = 0.2;
    let hi = 0.95;
    for (let i = 0; i < 6; i++) {
      const mid = (lo + hi) / 2;
      visited.push(mid);
      if (i % 2 === 0) lo = mid;
      else hi = mid;
    }
    for (const v of visited) expect(gridValue(0.2, 0.95, 6, gridIndex(0.2, 0.95, 6, v))).toBe(v);
    expect(gridValue(0.2, 0.95, 6, 0)).toBe(0.2);
    expect(gridValue(0.2, 0.95, 6, 64)).toBe(0.95);
  });
});
