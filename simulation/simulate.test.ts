import { describe, expect, it } from 'vitest';
import type { ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { computeDemandTable } from '../reference-stack/topology.ts';
import type { Journey } from '../scenarios/journey.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { simulate } from './simulate.ts';

const scaling = loadScaling();

/** A scaling config where every service is pinned at `n` tasks (no policies). */
function pinned(n: number): ScalingConfig {
  const services = Object.fromEntries(
    Object.entries(scaling.services).map(([k, v]) => [
      k,
      { ...v, minCapacity: n, maxCapacity: n, initialDesired: n, policies: [], scheduledActions: [] },
    ]),
  );
  return { ...scaling, services };
}

/** Requests/s the monolith serves on `tasks` 1-vCPU tasks for getProduct, from the demand table. */
function monolithCapacity(tasks: number): number {
  const demand = computeDemandTable('monolith').getProduct.monolith as number;
  return (tasks * 1000 * 0.98) / demand;
}

/** One web scenario of single product-page GETs at a piecewise-linear rate (wall seconds, per second). */
const webProductPlan = (times: number[], rates: number[]) =>
  constructedPlan([{ channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times, rates }]);

describe('the event-scale simulator', () => {
  it('serves a load below capacity without failures, at the floor, with latency near the service time', () => {
    const rate = monolithCapacity(2) * 0.3;
    const plan = constructedPlan([
      { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 1800], rates: [rate, rate] },
    ]);
    const r = simulate(plan, { arch: 'monolith', scaling, seed: 1 });
    expect(r.summary.requests.failed).toBe(0);
    expect(r.summary.requests.total).toBeCloseTo(plan.requests, -1);
    expect(r.findings.services.monolith?.peakTasks).toBe(2);
    const demand = computeDemandTable('monolith').getProduct.monolith as number;
    expect(r.summary.latency.intended!.overall.p50).toBeLessThan(demand * 2);
    expect(r.summary.latency.intended!.overall.p50).toBeGreaterThan(demand * 0.4);
  });

  // Known answer: getProduct enters at the gateway, which calls the catalog after its own CPU. Above
  // the gateway's capacity its queue grows and the catalog gets the product views at the gateway's
  // pace: no more a minute than the gateway served. While the gateway drains the catalog gets what
  // arrives, never a burst: the drained backlog's calls are not added (a known undercount,
  // simulate-step.ts), so it gets fewer in all than the gateway did.
  it("passes a saturated entry's calls on at the pace it serves them, and no burst after it", () => {
    const gatewayCpu = computeDemandTable('headless').getProduct.gateway as number;
    // The gateway's two 0.5-vCPU tasks serve about 2 × 500 / gatewayCpu requests a second.
    const capacity = (2 * 0.5 * 1000) / gatewayCpu;
    const plan = webProductPlan(
      [0, 300, 300.001, 480, 480.001, 1800],
      [0.3 * capacity, 0.3 * capacity, 1.6 * capacity, 1.6 * capacity, 0.3 * capacity, 0.3 * capacity],
    );
    const r = simulate(plan, {
      arch: 'headless',
      scaling: pinned(2),
      seed: 1,
      clientTimeoutMs: Number.POSITIVE_INFINITY,
      // Unbounded queues: no request is rejected, so the gateway's throttle alone decides.
      queueLimitPerVcpu: Number.POSITIVE_INFINITY,
    });
    const of = (service: string) => r.timeline.filter((t) => t.service === service);
    const gateway = of('gateway');
    const catalog = of('catalog');
    // The three minutes of the surge (its queue growing): the catalog gets what the gateway finished.
    const surge = gateway.filter((g) => g.t >= 300 && g.t < 480);
    expect(surge.map((g) => g.cpu)).toEqual([100, 100, 100]);
    for (const g of surge) {
      const c = catalog.find((x) => x.t === g.t);
      // The catalog's minute: what the gateway finished, not the client's 1.6 × its capacity.
      expect(c?.requests ?? 0).toBeLessThan((g.requests ?? 0) * 0.8);
    }
    for (const g of gateway) {
      const c = catalog.find((x) => x.t === g.t);
      expect(c?.requests ?? 0).toBeLessThanOrEqual((g.requests ?? 0) * 1.001 + 1e-6);
    }
  });

  it('conserves requests: the series add up to the plan within 0.5%', () => {
    const plan = constructedPlan([
      {
        channel: 'web',
        journey: oneStepJourney('pdp', 'getProduct'),
        times: [0, 600, 1200, 3600],
        rates: [10, 80, 20, 20],
      },
      {
        channel: 'pos',
        journey: oneStepJourney('store', 'getStoreInventory'),
        times: [0, 3600],
        rates: [5, 5],
      },
    ]);
    const r = simulate(plan, { arch: 'headless', scaling, seed: 1 });
    const sum = r.series.filter((x) => x.step !== null).reduce((a, x) => a + (x.requests ?? 0), 0);
    expect(Math.abs(sum - plan.requests) / plan.requests).toBeLessThan(0.005);
  });

  it('rejects what exceeds pinned capacity, about the excess, once queues are full', () => {
    const cap = monolithCapacity(2);
    const plan = webProductPlan([0, 1200], [cap * 2, cap * 2]);
    // No client timeout here: only the queue's rejections count.
    const r = simulate(plan, {
      arch: 'monolith',
      scaling: pinned(2),
      seed: 1,
      clientTimeoutMs: Number.POSITIVE_INFINITY,
    });
    const failedRate = r.summary.requests.failed / r.summary.requests.total;
    expect(failedRate).toBeGreaterThan(0.45);
    expect(failedRate).toBeLessThan(0.52);
    expect(r.summary.requests.errors.timeout).toBe(0);
  });

  it('fails what the client would wait for beyond its timeout, and records no latency above it', () => {
    const cap = monolithCapacity(2);
    const plan = webProductPlan([0, 1200], [cap * 2, cap * 2]);
    const run = (clientTimeoutMs: number) =>
      simulate(plan, { arch: 'monolith', scaling: pinned(2), seed: 1, clientTimeoutMs });
    const open = run(Number.POSITIVE_INFINITY);
    const tight = run(1000);
    // Full queues: about 2 s of backlog ahead of a request, so a 1-s client times out on many.
    expect(open.summary.latency.intended!.overall.p95).toBeGreaterThan(1000);
    expect(tight.summary.latency.intended!.overall.p95).toBeLessThanOrEqual(1000);
    expect(tight.summary.latency.intended!.overall.max).toBeLessThanOrEqual(1000);
    expect(tight.summary.requests.errors.timeout).toBeGreaterThan(0);
    expect(tight.summary.requests.failed).toBe(
      open.summary.requests.failed + tight.summary.requests.errors.timeout,
    );
  });

  it('scales out after a step in load, with the alarm and start-up delay, and records the activities', () => {
    const cap = monolithCapacity(2);
    const plan = webProductPlan([0, 1200, 1200.001, 4800], [cap * 0.3, cap * 0.3, cap * 1.2, cap * 1.2]);
    const r = simulate(plan, { arch: 'monolith', scaling, seed: 1 });
    const out = r.activities.filter(
      (a) => a.ResourceId.endsWith('/monolith') && /desired count/i.test(a.Description),
    );
    expect(out.length).toBeGreaterThan(0);
    // 3 datapoints above target (+ the metric lag) before the first scale-out: not before 1200 + 180 s.
    expect(out[0]!.eventTime).toBeGreaterThanOrEqual(1200 + 180);
    expect(out[0]!.eventTime).toBeLessThanOrEqual(1200 + 360);
    const before = r.timeline.find((x) => x.service === 'monolith' && x.t === 1140)!;
    const after = r.timeline.filter((x) => x.service === 'monolith' && x.t >= 2400);
    expect(before.running).toBe(2);
    expect(Math.max(...after.map((x) => x.running))).toBeGreaterThan(2);
  });

  it('throttles a hot partition, and less when the hot keys are spread wider', () => {
    const journey = oneStepJourney('drop', 'getProduct', true);
    const plan = constructedPlan([{ channel: 'web', journey, times: [0, 600], rates: [20000, 20000] }]);
    const big = pinned(3000); // enough tasks that no deployable rejects: only the store limits
    const one = simulate(plan, { arch: 'headless', scaling: big, seed: 1, hotKeys: 1 });
    const many = simulate(plan, { arch: 'headless', scaling: big, seed: 1, hotKeys: 20, warmStart: false });
    const warm = simulate(plan, { arch: 'headless', scaling: big, seed: 1, hotKeys: 20 });
    // A product page reads the catalog and the inventory by product key: 20,000 reads/s on one key
    // against 3,000 RCU per partition pass 15% at each table, so 1 − 0.15² of the requests fail.
    const hot = (r: typeof one) => Object.values(r.findings.tables).reduce((a, t) => a + t.hotThrottled, 0);
    const reqs = one.summary.requests.total;
    expect(hot(one) / reqs).toBeCloseTo(1 - 0.15 * 0.15, 2);
    expect(one.summary.requests.failed / reqs).toBeCloseTo(1 - 0.15 * 0.15, 2);
    // Spread over 20 keys, 1,000 reads/s per key: no partition throttles; but 20,000 reads/s per
    // table exceed a fresh on-demand table's ceiling (double its 6,000 starting peak) at first.
    expect(hot(many)).toBe(0);
    expect(many.findings.tables.inventory!.throttled).toBeGreaterThan(0);
    // A warm table has already served this load before the event: its ceiling holds it.
    expect(warm.findings.tables.inventory!.throttled).toBe(0);
  });

  it('is deterministic for a seed', () => {
    const cap = monolithCapacity(2);
    const plan = webProductPlan([0, 3600], [cap * 0.2, cap * 1.5]);
    const a = simulate(plan, { arch: 'monolith', scaling, seed: 5 });
    const b = simulate(plan, { arch: 'monolith', scaling, seed: 5 });
    expect(JSON.stringify(a.summary)).toBe(JSON.stringify(b.summary));
    expect(a.activities).toEqual(b.activities);
  });

  it('gives a run without its timeline (a sizing trial) the same series, activities, findings and summary', () => {
    const cap = monolithCapacity(2);
    const plan = webProductPlan([0, 1200, 1200.001, 4800], [cap * 0.3, cap * 0.3, cap * 1.2, cap * 1.2]);
    const full = simulate(plan, { arch: 'monolith', scaling, seed: 3 });
    const lean = simulate(plan, { arch: 'monolith', scaling, seed: 3, timeline: false });
    expect(full.timeline.length).toBeGreaterThan(0);
    expect(full.activities.length).toBeGreaterThan(0);
    expect(lean.timeline).toEqual([]);
    expect(lean.edge).toEqual([]);
    expect(JSON.stringify(lean.series)).toBe(JSON.stringify(full.series));
    expect(JSON.stringify(lean.activities)).toBe(JSON.stringify(full.activities));
    expect(JSON.stringify(lean.findings)).toBe(JSON.stringify(full.findings));
    expect(JSON.stringify(lean.summary)).toBe(JSON.stringify(full.summary));
  });

  it("delays tasks beyond Fargate's launch burst", () => {
    const demand = computeDemandTable('monolith').getProduct.monolith as number;
    const rate = (1000 * 1000) / demand; // needs ~1,000 one-vCPU tasks
    // From 200 tasks, one proportional scale-out adds more than the burst of 100 launches.
    const huge: ScalingConfig = {
      ...scaling,
      services: {
        monolith: { ...scaling.services.monolith!, minCapacity: 200, initialDesired: 200, maxCapacity: 2000 },
      },
    };
    const plan = webProductPlan([0, 600, 600.001, 3000], [10, 10, rate, rate]);
    const r = simulate(plan, { arch: 'monolith', scaling: huge, seed: 1 });
    expect(r.findings.services.monolith!.peakTasks).toBeGreaterThan(300);
    expect(r.findings.launchDelayMaxSeconds).toBeGreaterThan(0);
  });
});

describe("the load generator's concurrency cap in a replay", () => {
  it('drops iterations beyond the cap when the system slows, and counts them', () => {
    const cap = monolithCapacity(2);
    const base = webProductPlan([0, 1200], [cap * 3, cap * 3]);
    const plan = { ...base, scenarios: base.scenarios.map((s) => ({ ...s, maxConcurrency: 20 })) };
    const open = simulate(plan, { arch: 'monolith', scaling: pinned(2), seed: 1 });
    const capped = simulate(plan, {
      arch: 'monolith',
      scaling: pinned(2),
      seed: 1,
      clientConcurrencyCap: true,
    });
    expect(open.summary.iterations.dropped).toBe(0);
    expect(capped.summary.iterations.dropped).toBeGreaterThan(0);
    const it = capped.summary.iterations;
    expect(Math.abs(it.planned - (it.started + it.dropped))).toBeLessThanOrEqual(1);
    expect(capped.summary.requests.total).toBeLessThan(open.summary.requests.total);
  });

  it('reports the minutes at max capacity and the tasks the busiest minute needed, instead of hitting the cap silently', () => {
    // 10x the floor's capacity for 20 minutes against a cap of 4 tasks.
    const rate = monolithCapacity(2) * 10;
    const plan = constructedPlan([
      { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 1200], rates: [rate, rate] },
    ]);
    const capped: ScalingConfig = {
      ...scaling,
      services: Object.fromEntries(
        Object.entries(scaling.services).map(([k, v]) => [k, { ...v, maxCapacity: 4, initialDesired: 2 }]),
      ),
    };
    const r = simulate(plan, { arch: 'monolith', scaling: capped, seed: 1, warmStart: false });
    const m = r.findings.services.monolith!;
    expect(m.maxCapacity).toBe(4);
    expect(m.peakTasks).toBe(4);
    expect(m.minutesAtMaxCapacity).toBeGreaterThan(0);
    // 10x the 2-task capacity at a 60% CPU target needs ceil(20 / 0.6) = 34 tasks.
    expect(m.neededAtPeak).toBe(34);
    expect(r.findings.warnings.some((w) => w.startsWith('monolith spent') && w.includes('needed 34'))).toBe(
      true,
    );
    expect(r.findings.warnings.some((w) => w.includes('is a model input'))).toBe(true);
  });
});

describe("an iteration's later steps wait for the earlier ones' answers", () => {
  // pay (a checkout: the card authorization alone takes ~280 ms) then order, no think time between.
  const journey: Journey = {
    name: 'buy',
    requestsPerIteration: 2,
    steps: [
      { name: 'pay', method: 'POST', path: '/api/checkout', operation: 'checkout' },
      { name: 'order', method: 'GET', path: '/api/orders/o-1', operation: 'getOrder' },
    ],
  };
  // At 30x, an answer of L wall ms puts the next step 30·L/1000 event seconds later.
  const k = 30;
  const plan = constructedPlan(
    [{ channel: 'web', journey, times: [0, 600, 600.001, 1800], rates: [0, 0, 2, 2] }],
    {
      timeScale: k,
    },
  );
  const r = simulate(plan, { arch: 'monolith', scaling: pinned(4), seed: 1 });
  const at = (step: string, t: number) => r.series.find((x) => x.step === step && x.t === t);

  it('sends the next step the first step’s latency later (in event time), and every request once', () => {
    const pay = at('pay', 600);
    const order = at('order', 600);
    const latencyMs = at('pay', 1200)?.latencyEstimate?.mean ?? 0;
    expect(latencyMs).toBeGreaterThan(250);
    const delay = (k * latencyMs) / 1000;
    // In the minute the load starts, the second step misses the first `delay` event seconds.
    expect((order?.requests ?? 0) / (pay?.requests ?? 1)).toBeCloseTo((60 - delay) / 60, 1);
    const total = (step: string) =>
      r.series.filter((x) => x.step === step).reduce((a, x) => a + (x.requests ?? 0), 0);
    // (all but the last `delay` seconds' worth, which fall after the plan's end)
    expect(total('order') / total('pay')).toBeGreaterThan(0.98);
  });
});

describe('a controlled simulation (a sizing trial stopping at its first breach)', () => {
  const rate = monolithCapacity(2) * 0.3;
  const plan = constructedPlan([
    { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 1800], rates: [rate, rate] },
  ]);
  const options = { arch: 'monolith' as const, scaling, seed: 1 };

  it('stops at the first check whose answer is yes, with the very series of the whole run up to there', () => {
    const whole = simulate(plan, options);
    const asked: number[] = [];
    const r = simulate(plan, options, {
      checkAt: [plan.eventStart + 300, plan.eventStart + 600, plan.eventStart + 900],
      stop: (series) => {
        asked.push(series.length);
        return asked.length === 2;
      },
    });
    expect(r.stoppedAt).toBe(plan.eventStart + 600);
    expect(asked).toHaveLength(2);
    expect(r.series.length).toBeGreaterThan(0);
    expect(r.series.every((x) => x.t < plan.eventStart + 600)).toBe(true);
    expect(r.series).toEqual(whole.series.filter((x) => x.t < plan.eventStart + 600));
  });

  it('counts a fixed fleet’s task-hours to the end after a stop (costToEnd), exactly as the whole run does', () => {
    const fixed = { ...options, scaling: pinned(7), stepSeconds: 5 };
    const whole = simulate(plan, fixed);
    const stop = { checkAt: [plan.eventStart + 300], stop: () => true };
    const cut = simulate(plan, fixed, stop);
    const r = simulate(plan, fixed, { ...stop, costToEnd: true });
    expect(r.stoppedAt).toBe(plan.eventStart + 300);
    expect(r.series).toEqual(cut.series);
    const m = r.findings.services.monolith!;
    // Without costToEnd the prefix's hours; with it the whole run's, to the last bit.
    expect(cut.findings.services.monolith!.vcpuHours).toBeLessThan(
      whole.findings.services.monolith!.vcpuHours,
    );
    expect(m.vcpuHours).toBe(whole.findings.services.monolith!.vcpuHours);
    expect(m.memoryGbHours).toBe(whole.findings.services.monolith!.memoryGbHours);
  });

  it('never stops a fleet that can scale when its cost to the end is asked for', () => {
    const r = simulate(plan, options, {
      checkAt: [plan.eventStart + 300],
      stop: () => true,
      costToEnd: true,
    });
    expect(r.stoppedAt).toBeUndefined();
    expect(r.summary).toEqual(simulate(plan, options).summary);
  });

  it('runs to the end, unchanged, when no check says stop', () => {
    const whole = simulate(plan, options);
    const r = simulate(plan, options, { checkAt: [plan.eventStart + 300], stop: () => false });
    expect(r.stoppedAt).toBeUndefined();
    expect(r.series).toEqual(whole.series);
    expect(r.summary).toEqual(whole.summary);
  });
});
