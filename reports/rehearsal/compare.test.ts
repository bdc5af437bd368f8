import { describe, expect, it } from 'vitest';
import { loadScaling } from '../../reference-stack/autoscaling/scaling-file.ts';
import { CALIBRATION, type Calibration } from '../../reference-stack/capacity/calibration.ts';
import { TOPOLOGIES } from '../../reference-stack/topology.ts';
import { constructedPlan, oneStepJourney } from '../../simulation/test-plans.ts';
import { resolvePricing } from '../pricing/pricing-table.ts';
import { compareTopologies, hopBreakEven, peakDemand, provisionedTasks } from './compare.ts';

/** Zero per-hop cost: a request costs the same CPU in both topologies. */
const NO_HOPS: Calibration = { ...CALIBRATION, hopClientCpuMs: 0, hopServerCpuMs: 0 };
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
      budgets: [],
      scaling: loadScaling(),
      pricing: resolvePricing(),
      seeds: [1],
      searchSteps: 2,
    };
    const nul = compareTopologies(plan, { ...opts, calibration: NO_HOPS }).comparison;
    const cost = (c: typeof nul, arch: string) =>
      c.configurations.find((x) => x.arch === arch && x.provisioning === 'provisioned')!.computeCostUsd;
    expect(Math.abs(cost(nul, 'headless') - cost(nul, 'monolith')) / cost(nul, 'monolith')).toBeLessThan(
      0.02,
    );
    const real = compareTopologies(plan, opts).comparison;
    expect(cost(real, 'headless')).toBeGreaterThan(cost(real, 'monolith') * 1.02);
  });
});

describe('the per-hop cost break-even', () => {
  it('finds headless costing the monolith at or below the measured hop cost when the mix is uniform', () => {
    const plan = uniformPlan(5000);
    const opts = {
      budgets: [],
      scaling: loadScaling(),
      pricing: resolvePricing(),
      seeds: [1],
      searchSteps: 4,
    };
    const mono = compareTopologies(plan, opts).comparison.configurations.find(
      (x) => x.arch === 'monolith' && x.provisioning === 'provisioned',
    )!.computeCostUsd;
    const b = hopBreakEven(plan, opts, mono);
    expect(Math.abs(b.headlessAtZeroHops - mono) / mono).toBeLessThan(0.02);
    expect(b.headlessAtMeasuredHops).toBeGreaterThan(mono);
    if (b.multiplier !== null) {
      expect(b.multiplier).toBeGreaterThanOrEqual(0);
      expect(b.multiplier).toBeLessThanOrEqual(1);
    } else expect(b.explanation).toMatch(/even with free hops/);
  });
});
