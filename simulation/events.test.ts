import { describe, expect, it } from 'vitest';
import { loadScaling, type ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import { DEMAND_TABLE } from '../reference-stack/capacity/demand-table.ts';
import { scaledDemand } from '../reference-stack/topology.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { eventDeliveries } from './events.ts';
import { simulate } from './simulate.ts';

const params = { paymentFailureRate: 0.1, busDuplicateRate: 0.05 };

describe('the events a request publishes', () => {
  // Known answer: a checkout publishes InventoryReserved, then OrderPlaced (approved) or
  // InventoryReleased (declined); search consumes all three, the cart OrderPlaced only.
  it('reach each consumer deployable in headless, as requests with the consumption and the hop', () => {
    const d = eventDeliveries('headless', 'checkout', DEMAND_TABLE, params);
    const by = Object.fromEntries(d.map((e) => [e.service, e]));
    expect(Object.keys(by).sort()).toEqual(['cart', 'search']);
    expect(by.search?.holds).toBeCloseTo(2 * 1.05, 9);
    expect(by.cart?.holds).toBeCloseTo(0.9 * 1.05, 9);
    const hold = scaledDemand(DEMAND_TABLE.eventConsumeCpuMs + DEMAND_TABLE.hopServerCpuMs);
    expect(by.search?.cpuMs).toBeCloseTo(hold, 9);
    expect(by.search?.counted).toBe(true);
  });

  it('are consumed in-process in the monolith: one hold per event for all its consumers, no request', () => {
    const [m, ...rest] = eventDeliveries('monolith', 'checkout', DEMAND_TABLE, params);
    expect(rest).toEqual([]);
    expect(m?.service).toBe('monolith');
    expect(m?.counted).toBe(false);
    expect(m?.holds).toBeCloseTo(2 * 1.05, 9);
    // Reserved: 1 consumer; Placed (0.9): 2; Released (0.1): 1.
    const consume = scaledDemand(DEMAND_TABLE.eventConsumeCpuMs);
    expect((m?.holds ?? 0) * (m?.cpuMs ?? 0)).toBeCloseTo(1.05 * consume * (1 + 0.9 * 2 + 0.1), 9);
  });

  it('are none for a request that publishes nothing', () => {
    expect(eventDeliveries('headless', 'getProduct', DEMAND_TABLE)).toEqual([]);
  });

  // Known answer: checkouts alone, far below capacity: search serves nothing but their events,
  // 2 × 1.01 a checkout (the stack's defaults: 1% duplicates).
  it('make search serve two requests a checkout in a simulated run', () => {
    const scaling = loadScaling();
    const pinned: ScalingConfig = {
      ...scaling,
      services: Object.fromEntries(
        Object.entries(scaling.services).map(([k, v]) => [
          k,
          { ...v, minCapacity: 2, maxCapacity: 2, initialDesired: 2, policies: [], scheduledActions: [] },
        ]),
      ),
    };
    const plan = constructedPlan([
      { channel: 'web', journey: oneStepJourney('buy', 'checkout'), times: [0, 1800], rates: [1, 1] },
    ]);
    const r = simulate(plan, { arch: 'headless', scaling: pinned, seed: 1 });
    const sum = (s: string) =>
      r.timeline.filter((t) => t.service === s).reduce((a, t) => a + (t.requests ?? 0), 0);
    expect(sum('checkout')).toBeGreaterThan(0);
    expect(sum('search') / sum('checkout')).toBeCloseTo(2 * 1.01, 2);
  });
});
