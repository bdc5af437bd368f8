import { describe, expect, it } from 'vitest';
import type { ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { computeDemandTable } from '../reference-stack/topology.ts';
import type { Plan } from '../scenarios/plan.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { computeCallPath, pathVisits } from './call-path.ts';
import { createSimState, type SimService, type SimState } from './simulate-state.ts';
import {
  countIterations,
  countTasks,
  offerDemand,
  recordClientView,
  serveDeployables,
  throttleStores,
} from './simulate-step.ts';
import { SIMULATION_INPUTS } from './simulate-types.ts';

const scaling = loadScaling();
const overhead = SIMULATION_INPUTS.overheadPct.value / 100;
const demand = computeDemandTable('monolith').getProduct.monolith as number;

function pinned(n: number): ScalingConfig {
  const services = Object.fromEntries(
    Object.entries(scaling.services).map(([k, v]) => [
      k,
      { ...v, minCapacity: n, maxCapacity: n, initialDesired: n, policies: [], scheduledActions: [] },
    ]),
  );
  return { ...scaling, services };
}

/** A monolith on `tasks` pinned 1-vCPU tasks, past its start-up, at `rate` product pages per second. */
function monolith(
  rate: number,
  tasks = 2,
  maxConcurrency = 1000,
  arrivals: 'even' | 'poisson' = 'even',
): SimState {
  const plan = constructedPlan(
    [
      {
        channel: 'web',
        journey: oneStepJourney('pdp', 'getProduct'),
        times: [0, 600],
        rates: [rate, rate],
        maxConcurrency,
      },
    ],
    { arrivals },
  );
  const st = createSimState(plan, {
    arch: 'monolith',
    scaling: pinned(tasks),
    seed: 1,
    clientConcurrencyCap: true,
  });
  countTasks(st, 300);
  return st;
}

/** Two product-page requests 1 s apart (the second after a think time): a journey of two steps. */
function productTwice(name: string): ReturnType<typeof oneStepJourney> {
  const journey = oneStepJourney(name, 'getProduct');
  return {
    ...journey,
    steps: [
      { ...journey.steps[0]!, think: { dist: 'constant', seconds: 1 } },
      { ...journey.steps[0]!, name: 'again' },
    ],
    requestsPerIteration: 2,
  };
}

/**
 * A monolith on two pinned tasks playing `plan`, one step in and at 300 s (a think time's offset
 * holds a later step back at the start: conservation), with its service's last load set to `rho`;
 * `replay`: the load generator modelled, as a replay of a live run has it.
 */
function oneStepIn(plan: Plan, rho: number, replay = false): { st: SimState; s: SimService } {
  const st = createSimState(plan, {
    arch: 'monolith',
    scaling: pinned(2),
    seed: 1,
    ...(replay ? { clientConcurrencyCap: true } : {}),
  });
  countTasks(st, 299);
  offerDemand(st, 299.5);
  countTasks(st, 300);
  const s = st.services.get('monolith')!;
  s.lastRho = rho;
  return { st, s };
}

describe('one simulation step', () => {
  it('serves demand below capacity without backlog or rejection', () => {
    const st = monolith(((2 * 1000 * (1 - overhead)) / demand) * 0.5, 2, 1000, 'poisson');
    offerDemand(st, 300.5);
    serveDeployables(st);
    const s = st.services.get('monolith')!;
    // Half the capacity for one second: the queue has not reached its steady state (one request).
    expect(s.inSystem).toBeGreaterThan(0);
    expect(s.inSystem).toBeLessThan(2 * 1);
    expect(s.rejectFrac).toBe(0);
    expect(s.waitMs).toBeGreaterThan(0);
    expect(s.backlogWaitMs).toBeCloseTo(0, 6);
  });

  it('keeps evenly spaced requests of one operation from waiting below capacity (D/D/1), Poisson ones not', () => {
    const rate = ((2 * 1000 * (1 - overhead)) / demand) * 0.8;
    const wait = (arrivals: 'even' | 'poisson') => {
      const st = monolith(rate, 2, 1000, arrivals);
      for (let i = 0; i < 30; i++) {
        countTasks(st, 300 + i);
        offerDemand(st, 300.5 + i);
        serveDeployables(st);
      }
      return st.services.get('monolith')!.waitMs;
    };
    expect(wait('even')).toBeLessThan(0.01 * demand);
    // M/D/2 at 80% (two tasks behind a least-outstanding-requests balancer wait as one queue):
    // Sakasegawa S·ρ^(√6−1) / (2(1 − ρ)) × ½ ≈ 0.9 service times, once the queue has built.
    expect(wait('poisson')).toBeGreaterThan(0.5 * demand);
  });

  it('fills the bounded queues with the excess over capacity and rejects the rest, conserving requests', () => {
    const probe = monolith(1);
    // The CPU-ms a request charges the monolith, as the plan's step demands it.
    const cpu = probe.flats[0]!.cpu[0]!;
    const capacity = (2 * 1000 * (1 - overhead)) / cpu; // requests/s of the two tasks
    const st = monolith(capacity * 4);
    const s = st.services.get('monolith')!;
    offerDemand(st, 300.5);
    serveDeployables(st);
    // Three capacities' worth is left over in one second, more than two tasks hold (1 + 64 each).
    const most = 2 * (1 + SIMULATION_INPUTS.queueLimitPerVcpu.value);
    expect(s.inSystem).toBeCloseTo(most, 9);
    const admitted = s.reqs * (1 - s.rejectFrac);
    // What was admitted and is not still queued was served: the capacity, within 2%.
    expect(Math.abs(admitted - s.inSystem - capacity) / capacity).toBeLessThan(0.02);
    // The queue ahead of a request drains at the capacity: most of it is a backlog, not randomness.
    expect(s.waitMs).toBeGreaterThan(((most - 2) / capacity) * 1000 * 0.95);
    expect(s.backlogWaitMs).toBeGreaterThan(0);
    recordClientView(st);
    const b = st.flats[0]!.bucket;
    expect(b.rejected / b.requests).toBeCloseTo(s.rejectFrac, 6);
    expect(b.failed).toBeGreaterThanOrEqual(b.rejected);
  });

  it('answers an idle headless product request in the gateway, catalog and the slower of pricing and inventory, not their sum', () => {
    const plan = constructedPlan([
      { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 600], rates: [0.5, 0.5] },
    ]);
    const st = createSimState(plan, { arch: 'headless', scaling, seed: 1 });
    countTasks(st, 300);
    offerDemand(st, 300.5);
    throttleStores(st);
    serveDeployables(st);
    recordClientView(st);
    const cpu = computeDemandTable('headless').getProduct;
    const f = st.flats[0]!;
    // Its hops between deployables (3) and the balancer's into the gateway.
    const net = (f.d.hops + 1) * st.inputs.hopMs;
    expect(f.d.hops).toBe(3);
    const b = f.bucket;
    const mean = (b.wShift + b.wTail) / b.served;
    // Nothing waits at 0.5 requests/s: the path's CPU at full speed and its network hops, pricing and
    // inventory asked at once (reference-stack/gateway/api.ts).
    const forkJoin = cpu.gateway! + cpu.catalog! + Math.max(cpu.pricing!, cpu.inventory!) + net;
    expect(mean).toBeCloseTo(forkJoin, 1);
    expect(mean).toBeLessThan(forkJoin + Math.min(cpu.pricing!, cpu.inventory!) - 0.5);
  });

  it("charges a path's entry with the rest of the path as requests outstanding off its CPU: the gateway waits for catalog, then pricing and inventory at once", () => {
    const plan = constructedPlan([
      { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 600], rates: [0.5, 0.5] },
    ]);
    const st = createSimState(plan, { arch: 'headless', scaling, seed: 1 });
    countTasks(st, 300);
    offerDemand(st, 300.5);
    throttleStores(st);
    serveDeployables(st);
    recordClientView(st);
    const cpu = computeDemandTable('headless').getProduct;
    const req = st.reqOf[0]!;
    const gateway = st.services.get('gateway')!;
    // Idle: nothing waits, so the rest of the path is its CPU (the parallel legs' maximum).
    expect(gateway.offCpuWork / req).toBeCloseTo(cpu.catalog! + Math.max(cpu.pricing!, cpu.inventory!), 2);
    // A leaf is no path's entry; the next step reads the gateway's count and starts it again.
    expect(st.services.get('catalog')!.offCpuWork).toBe(0);
    serveDeployables(st);
    expect(gateway.offCpuWork).toBe(0);
  });

  it('sends a step with no think time as the previous answer left: ρ²·cs² + (1 − ρ²)·ca² of the step before (QNA departures)', () => {
    const two = (think: boolean) => {
      const journey = oneStepJourney('pdp-cart', 'getProduct');
      const second = { name: 'cart', method: 'POST', path: '/api/carts', operation: 'createCart' };
      const j = {
        ...journey,
        steps: [
          { ...journey.steps[0]!, ...(think ? { think: { dist: 'constant', seconds: 1 } } : {}) },
          second,
        ],
        requestsPerIteration: 2,
      } as typeof journey;
      const plan = constructedPlan([{ channel: 'web', journey: j, times: [0, 600], rates: [10, 10] }]);
      const { st, s } = oneStepIn(plan, 0.9);
      s.lastCs2 = 0.4;
      offerDemand(st, 300.5);
      // The first step comes evenly spaced (ca² = 0); the second's share of the superposed ca².
      return s.arrCa2 / st.reqOf[1]!;
    };
    expect(two(false)).toBeCloseTo(0.81 * 0.4 + 0.19 * 0, 9);
    // After a think time: a Poisson stream.
    expect(two(true)).toBeCloseTo(1, 9);
  });

  it("counts a scenario's steps as one stream over the long run, as regular as its starts (session 18)", () => {
    const twoSteps = (arrivals: 'even' | 'poisson', scenarios: number) => {
      const j = productTwice('pdp-pdp');
      const plan = constructedPlan(
        Array.from({ length: scenarios }, (_, k) => ({
          channel: `web${k}`,
          journey: j,
          times: [0, 600],
          rates: [10, 10],
        })),
        { arrivals },
      );
      const { st, s } = oneStepIn(plan, 0.5, true);
      offerDemand(st, 300.5);
      serveDeployables(st);
      return { short: s.lastCa2, long: s.lastLongCa2 };
    };
    // One scenario, evenly spaced starts: its second step comes after a think time (Poisson at the
    // short range: half the requests), but over the long run every request is as regular as the starts.
    const one = twoSteps('even', 1);
    expect(one.short).toBeGreaterThan(0.5);
    expect(one.long).toBe(0);
    // Two equal scenarios are two regular streams: QNA's weight 1 / (1 + 4(1 − ρ)²(ν − 1)) at ν = 2.
    expect(twoSteps('even', 2).long).toBeCloseTo(1 - 1 / (1 + 4 * 0.5 ** 2 * 1), 6);
    // Poisson starts stay Poisson.
    expect(twoSteps('poisson', 1).long).toBeCloseTo(1, 9);
  });

  it('throttles a hot partition beyond 3,000 read units per second per key', () => {
    const plan = constructedPlan([
      {
        channel: 'web',
        journey: oneStepJourney('pdp', 'getProduct', true),
        times: [0, 60],
        rates: [40_000, 40_000],
      },
    ]);
    const st = createSimState(plan, { arch: 'headless', scaling, seed: 1, hotKeys: 2 });
    countTasks(st, 30);
    offerDemand(st, 30.5);
    throttleStores(st);
    const tb = st.tables.get('catalog')!;
    const perKey = tb.stepHotRead / 2;
    expect(perKey).toBeGreaterThan(3000);
    expect(tb.hotReadFrac).toBeCloseTo(1 - 3000 / perKey, 9);
  });

  it('drops iterations at the concurrency cap as a loss system: some at the cap, about the excess far beyond', () => {
    // One second per iteration in flight (a constant latency: no spread), 10 arrivals/s.
    const at = (cap: number, sd: number) => {
      const st = monolith(10, 2, cap);
      st.latencyWall[0] = 1;
      st.latencyVarWall[0] = sd * sd;
      offerDemand(st, 300.5);
      expect(st.reqOf[0]! + st.droppedInBucket[0]!).toBeCloseTo(10, 9);
      return st.admit[0]!;
    };
    // Far beyond the cap (10 in flight for 1): about the cap's share, as a fluid model says.
    expect(at(1, 1)).toBeCloseTo(0.1, 1);
    // At the cap (10 in flight for 10): a fluid model drops nothing, but the count in flight varies
    // around its mean and the engine drops whatever arrives while it is at the cap.
    const spread = at(10, 1);
    expect(spread).toBeLessThan(0.95);
    expect(spread).toBeGreaterThan(0.7);
    // The steadier the time in flight, the fewer drops at evenly spaced arrivals.
    expect(at(10, 0.1)).toBeGreaterThan(spread);
  });
});

describe("a replay's queue drawn from the load generator's iterations in flight (finite source)", () => {
  /** Iterations of two product requests 1 s apart on a 2-task monolith at 98% of its capacity. */
  function saturated(replay: boolean): { st: SimState; inFlight: number } {
    const j = productTwice('pdp-twice');
    const probe = createSimState(
      constructedPlan([{ channel: 'web', journey: j, times: [0, 900], rates: [1, 1] }], {
        arrivals: 'poisson',
      }),
      { arch: 'monolith', scaling: pinned(2), seed: 1 },
    );
    const cpu = probe.flats[0]!.cpu[0]!;
    // Two requests per iteration: 98% of the two tasks' whole vCPUs.
    const rate = (0.98 * 2 * 1000) / cpu / 2;
    const plan = constructedPlan([{ channel: 'web', journey: j, times: [0, 900], rates: [rate, rate] }], {
      arrivals: 'poisson',
    });
    const st = createSimState(plan, {
      arch: 'monolith',
      scaling: pinned(2),
      seed: 1,
      clientConcurrencyCap: replay,
      overheadTakesCapacity: false,
    });
    for (let t = 300; t < 900; t++) {
      countTasks(st, t);
      offerDemand(st, t + 0.5);
      throttleStores(st);
      serveDeployables(st);
      recordClientView(st);
      countIterations(st);
    }
    // Iterations in flight by Little's law: starts × (think + both requests' latency).
    return { st, inFlight: rate * (1 + st.latencyWall[0]!) };
  }

  it('never holds more requests than the iterations in flight, where the open queue holds several times more', () => {
    const closed = saturated(true);
    const open = saturated(false);
    const inClosed = closed.st.services.get('monolith')!.inSystem;
    const inOpen = open.st.services.get('monolith')!.inSystem;
    expect(inClosed).toBeLessThan(closed.inFlight);
    expect(inOpen).toBeGreaterThan(3 * inClosed);
    // Both carry the same load: the two tasks busy 98% of the time, in flight about 40 iterations.
    expect(closed.inFlight).toBeGreaterThan(35);
    expect(closed.st.services.get('monolith')!.lastRho).toBeCloseTo(0.98, 2);
  });
});

describe("a deployable's requests are its holds, as its balancer counts them", () => {
  // An add-to-cart in headless holds the cart twice (cart.get, then cart.addItem: 12.8 and 21 CPU-ms
  // on a 0.25-vCPU task whose CFS burst is 25 ms): two requests of their own CPU-ms each, never one of
  // 34 ms beyond the burst.
  const holds = computeCallPath('headless', 'addCartItem');
  const cartHolds = pathVisits(holds).cart ?? [];
  const step = (rate: number) => {
    const plan = constructedPlan([
      {
        channel: 'web',
        journey: oneStepJourney('add', 'addCartItem'),
        times: [0, 600],
        rates: [rate, rate],
      },
    ]);
    const st = createSimState(plan, { arch: 'headless', scaling: pinned(2), seed: 1 });
    countTasks(st, 300);
    offerDemand(st, 300.5);
    serveDeployables(st);
    return st.services.get('cart')!;
  };

  it('counts two requests at the cart per add-to-cart, their mean and spread those of the two holds', () => {
    expect(cartHolds).toHaveLength(2);
    const [a, b] = cartHolds as [number, number];
    expect(Math.max(a, b)).toBeLessThan(25);
    const cart = step(4);
    expect(cart.reqs).toBeCloseTo(2 * 4, 6);
    expect(cart.lastDemand).toBeCloseTo((a + b) / 2, 6);
    const cs2 = (a * a + b * b) / 2 / ((a + b) / 2) ** 2 - 1;
    expect(cart.lastCs2).toBeCloseTo(cs2, 6);
  });

  it('gives holds within the burst no spent-quota slowdown at low load', () => {
    // At 4 add-to-carts/s the two cart tasks are 13% busy: a hold is served at full speed (the
    // bucket is almost never empty), where one 34-ms request beyond the 25-ms burst ran twice as slow (2.04).
    expect(step(4).stepSlowdown).toBeLessThan(1.02);
  });
});
