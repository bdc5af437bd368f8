import { describe, expect, it } from 'vitest';
import type { ScalingConfig } from '../../reference-stack/autoscaling/scaling-file.ts';
import { loadScaling } from '../../reference-stack/autoscaling/scaling-file.ts';
import { DEMAND_TABLE, type DemandTable } from '../../reference-stack/capacity/demand-table.ts';
import { constructedPlan, oneStepJourney } from '../../scenarios/test-plans.ts';
import { resolvePricing } from '../pricing/pricing-table.ts';
import { type SimulateOptions, simulate } from '../simulate.ts';
import { type BudgetsJudge, type ComparedConfiguration, compareTopologies } from './compare.ts';
import {
  answerConfiguration,
  blastRadius,
  computeFixResult,
  computeVerdict,
  peakStoreUnits,
  storeFix,
  throttledMinutes,
  topologyDependence,
  WRITE_SHARDS,
} from './compare-answers.ts';

const scaling = loadScaling();

/** Every service pinned at `n` tasks: no deployable rejects, only the stores limit. */
function pinned(n: number): ScalingConfig {
  const services = Object.fromEntries(
    Object.entries(scaling.services).map(([k, v]) => [
      k,
      { ...v, minCapacity: n, maxCapacity: n, initialDesired: n, policies: [], scheduledActions: [] },
    ]),
  );
  return { ...scaling, services };
}

/**
 * Product pages on one hot key: 100 req/s, then 6,000 req/s for 10 minutes, then 100 again (within
 * a fresh on-demand table's 12,000 read units: only the partition limits).
 */
const hotPlan = () =>
  constructedPlan([
    {
      channel: 'web',
      journey: oneStepJourney('drop', 'getProduct', true),
      times: [0, 600, 601, 1200, 1201, 2400],
      rates: [100, 100, 6000, 6000, 100, 100],
    },
  ]);

describe('a hot key in the comparison', () => {
  const plan = hotPlan();
  const run = (arch: 'monolith' | 'headless', o: Partial<SimulateOptions> = {}) =>
    simulate(plan, { arch, scaling: pinned(3000), seed: 1, hotKeys: 1, ...o });

  it('throttles the same minutes in both topologies, and the answer says the topology does not matter', () => {
    const mono = run('monolith');
    const head = run('headless');
    const m = throttledMinutes(mono);
    const h = throttledMinutes(head);
    // 6,000 reads/s on one key against 3,000 RCU per partition: the catalog and inventory tables
    // throttle for the ten minutes of the drop (one more when a period straddles a ramp), in both.
    expect(m).toEqual(h);
    for (const table of ['catalog', 'inventory']) {
      expect(m[table]).toBeGreaterThanOrEqual(10);
      expect(m[table]).toBeLessThanOrEqual(11);
    }
    const answers = [
      answerConfiguration('monolith-provisioned', mono),
      answerConfiguration('headless-provisioned', head),
    ];
    for (const a of answers) {
      expect(a.limits[0]?.cause).toBe('hot-partition');
      expect(a.limits[0]?.where.sort()).toEqual(['catalog', 'inventory']);
    }
    const dep = topologyDependence(answers);
    expect(dep.dependsOnTopology).toBe(false);
    expect(dep.sharedCause).toBe('hot-partition');
    expect(dep.sentence).toMatch(/does not depend on the topology/);
  });

  it('removes the throttling when the fix spreads the hot key over more partitions, the 2×2 right-sized again', () => {
    /** Fails a run whose failed share exceeds 1%. */
    const judge: BudgetsJudge = {
      evaluate: (run) => {
        let n = 0;
        let bad = 0;
        for (const rec of run.records)
          if (rec.step !== null) {
            n += rec.requests ?? 0;
            bad += rec.failed ?? 0;
          }
        const fail = n > 0 && bad / n > 0.01;
        return { verdict: fail ? 'fail' : 'pass', counts: { fail: fail ? 1 : 0 }, results: [] };
      },
      breachMinutes: () => 0,
    };
    const opts = { judge, scaling, pricing: resolvePricing(), seeds: [1], searchSteps: 2 };
    const base = compareTopologies(plan, { ...opts, simulate: { hotKeys: 1 } });
    const fixed = compareTopologies(plan, {
      ...opts,
      simulate: { hotKeys: WRITE_SHARDS },
      variant: `hotKeys=${WRITE_SHARDS}`,
    });
    // Before: every configuration fails, for the same store reason in both topologies.
    expect(base.comparison.configurations.every((c) => !c.meetsBudgets)).toBe(true);
    const answers = [...base.results].map(([k, r]) => answerConfiguration(k, r));
    const dep = topologyDependence(answers);
    expect(dep).toMatchObject({ dependsOnTopology: false, sharedCause: 'hot-partition' });
    const sized = (c: typeof base) =>
      new Map(
        c.comparison.configurations.map((x) => {
          const k = `${x.arch}-${x.provisioning}`;
          return [k, { configuration: x, r: c.results.get(k)! }];
        }),
      );
    const spec = storeFix(
      dep.sharedCause ? [dep.sharedCause] : [],
      { hotKeys: 1, initialPeakReadUnits: 6000, initialPeakWriteUnits: 2000 },
      peakStoreUnits(plan, 'headless'),
    );
    expect(spec?.simulate).toEqual({ hotKeys: WRITE_SHARDS });
    const fix = computeFixResult(spec!, sized(base), sized(fixed));
    expect(Object.keys(fix.configurations)).toHaveLength(4);
    for (const v of Object.values(fix.configurations)) {
      expect(v.before.throttledMinutes).toBeGreaterThanOrEqual(10);
      // 600 reads/s per key after sharding: under the 3,000 a partition serves.
      expect(v.after.throttledMinutes).toBe(0);
      expect(v.after.failedRate).toBeLessThan(v.before.failedRate);
      expect(v.after.meetsBudgets).toBe(true);
    }
    const verdict = computeVerdict({
      profile: 'drop',
      peakRps: plan.peakRps,
      configurations: base.comparison.configurations,
      answers,
      dependence: dep,
      fix,
      fixed: fixed.comparison.configurations,
    });
    expect(verdict.verdict).toMatch(
      /no configuration meets the budgets: the limit does not depend on the topology/,
    );
    expect(verdict.verdict).toMatch(/write sharding .* takes throttled minutes from 1\d to 0; then /);
    const cheapest = (verdict.evidence.fix as { cheapest: { configuration: string; computeCostUsd: number } })
      .cheapest;
    const after = fixed.comparison.configurations;
    expect(cheapest.computeCostUsd).toBe(Math.min(...after.map((c) => c.computeCostUsd)));
  });
});

describe('the store fix', () => {
  it('pre-warms the tables to the plan’s peak units when the on-demand ceiling throttles, and shards hot keys when a partition does', () => {
    const plan = constructedPlan([
      {
        channel: 'web',
        journey: oneStepJourney('pdp', 'getProduct'),
        times: [0, 600],
        rates: [20000, 20000],
      },
    ]);
    const peak = peakStoreUnits(plan, 'headless');
    // A product page reads the catalog and the inventory item by key: 20,000 reads/s at each table.
    expect(peak.read).toBeCloseTo(20000, 0);
    const current = { hotKeys: 20, initialPeakReadUnits: 6000, initialPeakWriteUnits: 2000 };
    const ceil = storeFix(['table-ceiling'], current, peak)!;
    expect(ceil.simulate).toEqual({ store: { initialPeakReadUnits: 20000, initialPeakWriteUnits: 2000 } });
    const both = storeFix(['hot-partition', 'table-ceiling'], current, peak)!;
    expect(both.change.hotKeys).toEqual({ before: 20, after: 20 * WRITE_SHARDS });
    expect(both.description).toMatch(/write sharding .* and the tables pre-warmed/);
    expect(storeFix(['capacity'], current, peak)).toBeNull();
    // Re-simulated from cold (no warm start), the pre-warmed tables no longer throttle.
    const big = pinned(3000);
    const cold = simulate(plan, { arch: 'headless', scaling: big, seed: 1, warmStart: false });
    const warm = simulate(plan, {
      arch: 'headless',
      scaling: big,
      seed: 1,
      warmStart: false,
      ...ceil.simulate,
    });
    expect(cold.findings.tables.inventory!.throttled).toBeGreaterThan(0);
    expect(warm.findings.tables.inventory!.throttled).toBe(0);
  });
});

describe('the blast radius of a failing service', () => {
  it('is the requests through the service in headless, and every request when the monolith process fails', () => {
    const plan = constructedPlan([
      { channel: 'web', journey: oneStepJourney('buy', 'checkout'), times: [0, 600], rates: [10, 10] },
      { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 600], rates: [30, 30] },
    ]);
    const b = blastRadius(plan, 'checkout', ['monolith', 'headless']);
    // A quarter of the requests are checkouts.
    expect(b.byArch.headless?.codeFault.requestShare).toBeCloseTo(0.25, 4);
    expect(b.byArch.headless?.processFault.requestShare).toBeCloseTo(0.25, 4);
    expect(b.byArch.monolith?.codeFault.requestShare).toBeCloseTo(0.25, 4);
    expect(b.byArch.monolith?.processFault.requestShare).toBe(1);
    expect(b.byArch.monolith?.host).toBe('monolith');
    expect(b.byArch.headless?.processFault.journeys).toEqual(['web/buy']);
    expect(b.byArch.monolith?.processFault.journeys).toEqual(['web/buy', 'web/pdp']);
  });
});

function config(
  arch: 'monolith' | 'headless',
  provisioning: 'autoscaled' | 'provisioned',
  computeCostUsd: number,
  meetsBudgets: boolean,
): ComparedConfiguration {
  return {
    arch,
    provisioning,
    knob: { name: 'utilisation', value: 0.6 },
    meetsBudgets,
    inconclusive: [],
    tasks: {},
    vcpuHours: computeCostUsd * 20,
    gbHours: 0,
    computeCostUsd,
    edge: {
      requests: 0,
      bytesOut: 0,
      invalidationPaths: 0,
      pages: {},
      apiRequests: 0,
      apiBytesOut: 0,
      requestsUsd: 0,
      transferUsd: 0,
      invalidationUsd: 0,
      usd: 0,
    },
    totalCostUsd: computeCostUsd,
    orders: 1000,
    costPer1000Orders: computeCostUsd,
    p95ByChannel: {},
    p99ByChannel: {},
    failedRate: meetsBudgets ? 0 : 0.05,
    breachMinutes: meetsBudgets ? 0 : 57,
    scaleOutLagSeconds: {},
    verdict: meetsBudgets ? 'pass' : 'fail',
    simulations: 1,
  };
}

const noLimits = (key: string) => ({ key, capacity: {}, limits: [], throttledMinutes: {}, atFloor: [] });

describe('the verdict', () => {
  it('names the cheapest configuration that meets the budgets with the figures of its evidence', () => {
    const cs = [
      config('monolith', 'provisioned', 1000, true),
      config('headless', 'provisioned', 1500, true),
      config('monolith', 'autoscaled', 700, false),
    ];
    const v = computeVerdict({
      profile: 'p',
      peakRps: 50000,
      configurations: cs,
      answers: cs.map((c) => noLimits(`${c.arch}-${c.provisioning}`)),
      dependence: topologyDependence([]),
    });
    const ev = v.evidence as {
      cheapest: { configuration: string; computeCostUsd: number };
      next: { configuration: string; moreThanCheapest: number };
      computeCostUsd: Record<string, number>;
    };
    // The cheaper autoscaled monolith fails its budgets: it is not the answer.
    expect(ev.cheapest).toEqual({ configuration: 'monolith-provisioned', computeCostUsd: 1000 });
    expect(ev.next.configuration).toBe('headless-provisioned');
    expect(ev.next.moreThanCheapest).toBeCloseTo(0.5, 3);
    expect(v.verdict).toMatch(/monolith provisioned for peak is the cheapest at \$1,000/);
    expect(v.verdict).toMatch(/costs 50% more \(\$1,500\)/);
    expect(ev.computeCostUsd['monolith-autoscaled']).toBe(700);
  });

  it('says why none meets the budgets when a shared store limit fails them all, and what the fix changes', () => {
    const cs = [
      config('monolith', 'provisioned', 1000, false),
      config('headless', 'provisioned', 1300, false),
    ];
    const limit = {
      cause: 'hot-partition' as const,
      where: ['inventory'],
      failedRequests: 100,
      share: 0.05,
      minutes: 57,
    };
    const answers = cs.map((c) => ({
      key: `${c.arch}-${c.provisioning}`,
      capacity: {},
      limits: [limit],
      throttledMinutes: { inventory: 57 },
      atFloor: [],
    }));
    const after = {
      failedRate: 0,
      breachMinutes: 0,
      throttledMinutes: 0,
      meetsBudgets: true,
      computeCostUsd: 900,
    };
    const before = {
      failedRate: 0.05,
      breachMinutes: 57,
      throttledMinutes: 57,
      meetsBudgets: false,
      computeCostUsd: 1000,
    };
    const v = computeVerdict({
      profile: 'p',
      peakRps: 50000,
      configurations: cs,
      answers,
      dependence: topologyDependence(answers),
      fix: {
        fix: 'write sharding',
        change: { hotKeys: { before: 20, after: 200 } },
        configurations: {
          'monolith-provisioned': { before, after },
          'headless-provisioned': { before, after },
        },
      },
      fixed: [config('monolith', 'provisioned', 900, true), config('headless', 'provisioned', 1100, true)],
    });
    expect(v.verdict).toMatch(/no configuration meets the budgets/);
    expect(v.verdict).toMatch(/does not depend on the topology/);
    expect(v.verdict).toMatch(
      /takes throttled minutes from 57 to 0; then monolith provisioned for peak is the cheapest at \$900 .*the next, headless provisioned for peak, costs 22% more \(\$1,100\)/,
    );
    expect((v.evidence.fix as { throttledMinutes: unknown }).throttledMinutes).toEqual({
      before: 57,
      after: 0,
    });
    expect(v.evidence.dependsOnTopology).toBe(false);
  });

  it('claims no difference between identical configurations (null test)', () => {
    // Uniform mix, free hops: both topologies do the same work; provisioned for the peak they cost
    // the same within 2%, and the verdict must say so rather than crown one.
    const NO_HOPS: DemandTable = { ...DEMAND_TABLE, hopClientCpuMs: 0, hopServerCpuMs: 0 };
    const ops = [
      'listProducts',
      'getProduct',
      'search',
      'getCart',
      'addCartItem',
      'checkout',
      'getOrder',
      'listDeals',
    ];
    const plan = constructedPlan(
      ops.map((op) => ({
        channel: 'web',
        journey: oneStepJourney(op, op),
        times: [0, 1800],
        rates: [5000, 5000],
      })),
    );
    const judge: BudgetsJudge = {
      evaluate: () => ({ verdict: 'inconclusive', counts: { fail: 0 }, results: [] }),
      breachMinutes: () => 0,
    };
    const { comparison } = compareTopologies(plan, {
      judge,
      scaling,
      pricing: resolvePricing(),
      seeds: [1],
      searchSteps: 2,
      demandTable: NO_HOPS,
    });
    const provisioned = comparison.configurations.filter((c) => c.provisioning === 'provisioned');
    const v = computeVerdict({
      profile: 'uniform',
      peakRps: plan.peakRps,
      configurations: provisioned,
      answers: provisioned.map((c) => noLimits(`${c.arch}-${c.provisioning}`)),
      dependence: topologyDependence([]),
    });
    expect(v.verdict).toMatch(/as cheap, within 2%/);
    expect(v.verdict).not.toMatch(/% more/);
    expect(v.evidence.tiedWith).toHaveLength(1);
    expect(v.evidence.next).toBeUndefined();
  });
});
