import { describe, expect, it } from 'vitest';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { resolvePricing } from '../simulation/pricing/pricing-table.ts';
import { applyRecommendations, createResimulate } from './resimulate.ts';

const scaling = loadScaling();

describe('re-simulating recommendations', () => {
  it('applies a pre-warm as a scheduled action and a minimum otherwise', () => {
    const s = applyRecommendations(scaling, [
      {
        service: 'monolith',
        minCapacity: 8,
        maxCapacity: 30,
        preWarmAt: 600,
        reasons: [],
        assumptions: [],
        provenance: 'simulated',
      },
      {
        service: 'gateway',
        minCapacity: 4,
        maxCapacity: 10,
        preWarmAt: null,
        reasons: [],
        assumptions: [],
        provenance: 'simulated',
      },
    ]);
    expect(s.services.monolith?.scheduledActions.at(-1)).toMatchObject({ at: 600, minCapacity: 8 });
    expect(s.services.monolith?.maxCapacity).toBe(30);
    expect(s.services.gateway?.minCapacity).toBe(4);
  });

  it('shows fewer breach minutes after pre-warming ahead of a spike the autoscaler is too slow for', async () => {
    const plan = constructedPlan([
      {
        channel: 'web',
        journey: oneStepJourney('pdp', 'getProduct'),
        times: [0, 1200, 1260, 3600],
        rates: [20, 20, 400, 400],
      },
    ]);
    const resim = createResimulate(plan, { arch: 'monolith', scaling, seed: 1, pricing: resolvePricing() });
    const out = await resim([
      {
        service: 'monolith',
        minCapacity: 20,
        maxCapacity: 40,
        preWarmAt: 900,
        reasons: [],
        assumptions: [],
        provenance: 'simulated',
      },
    ]);
    expect(out.before.breachMinutes).toBeGreaterThan(0);
    expect(out.after.breachMinutes).toBeLessThan(out.before.breachMinutes);
    expect(out.after.costUsd).toBeGreaterThan(0);
  });
});
