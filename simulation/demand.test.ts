import { describe, expect, it } from 'vitest';
import { compilePlan } from '../scenarios/compile.ts';
import { loadProfile } from '../scenarios/profile.ts';
import { computeScenarioDemands, paymentWait } from './demand.ts';

const plan = compilePlan(loadProfile('ci-smoke'));

describe('demand of the built-in journeys', () => {
  it.each(['monolith', 'headless'] as const)('maps every step of every channel and journey in %s', (arch) => {
    const demands = computeScenarioDemands(plan, arch);
    expect(demands.length).toBe(plan.scenarios.length);
    for (const d of demands)
      for (const st of d.steps) {
        expect(st.services.length, `${d.id}/${st.step}`).toBeGreaterThan(0);
        expect(Object.values(st.cpuMs).every((ms) => (ms ?? 0) > 0)).toBe(true);
      }
  });

  it('charges the store for searches and store lookups, and marks hot-pool keys hot', () => {
    const steps = computeScenarioDemands(plan, 'headless').flatMap((d) => d.steps);
    expect(steps.find((s) => s.operation === 'search')?.store.length).toBeGreaterThan(0);
    expect(steps.find((s) => s.operation === 'listStores')?.store.length).toBeGreaterThan(0);
    expect(steps.some((s) => s.hot)).toBe(true);
  });

  it('costs headless more CPU than the monolith for the same product page (service-to-service hops)', () => {
    const page = (arch: 'monolith' | 'headless') =>
      computeScenarioDemands(plan, arch)
        .flatMap((d) => d.steps)
        .find((s) => s.operation === 'getProduct')!;
    const sum = (s: ReturnType<typeof page>) =>
      Object.values(s.cpuMs).reduce((a, b) => (a ?? 0) + (b ?? 0), 0) ?? 0;
    expect(page('headless').hops).toBeGreaterThan(0);
    expect(page('monolith').hops).toBe(0);
    expect(sum(page('headless'))).toBeGreaterThan(sum(page('monolith')));
  });
});

describe("a checkout's card authorization", () => {
  it('is a shifted exponential with the log-normal’s mean and p95, on checkout steps only', () => {
    const w = paymentWait(250, 0.5);
    const mean = 250 * Math.exp(0.125);
    expect(w.shift + w.tail).toBeCloseTo(mean, 9);
    expect(w.shift + w.tail * Math.log(20)).toBeCloseTo(250 * Math.exp(1.6448536 * 0.5), 6);
    expect(w.shift).toBeGreaterThan(0);
    const sale = compilePlan(loadProfile('flash-sale'));
    const steps = computeScenarioDemands(sale, 'headless').flatMap((s) => s.steps);
    expect(steps.filter((d) => d.external !== null).map((d) => d.operation)).toEqual(
      steps.filter((d) => d.operation === 'checkout').map(() => 'checkout'),
    );
    expect(steps.some((d) => d.operation === 'checkout')).toBe(true);
  });
});
