import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { createCapacityEmulator } from '../reference-stack/capacity/emulator.ts';
import {
  concurrencyCapLoss,
  erlangB,
  erlangCProb,
  erlangCWaiting,
  finiteSourceAt,
  finiteSourceQueue,
  finiteSourceWaiting,
  mixtureMax,
  mixtureQuantile,
  mmcInSystem,
  mmcWait,
  shiftedExpQuantile,
  taskQueue,
  transientQueueStep,
  transientStep,
  waitShape,
} from './queueing.ts';

describe('queueing approximations', () => {
  it('gives M/M/1 waiting exactly for one server (Wq = S·ρ/(1−ρ))', () => {
    expect(mmcWait(10, 1, 0.5)).toBeCloseTo(10, 9);
    expect(mmcWait(10, 1, 0.8)).toBeCloseTo(40, 9);
  });

  it('waits less with more servers at the same utilisation', () => {
    expect(mmcWait(10, 4, 0.8)).toBeLessThan(mmcWait(10, 1, 0.8));
  });

  it('has no waiting at zero load and bounded waiting when overloaded', () => {
    expect(mmcWait(10, 2, 0)).toBe(0);
    expect(Number.isFinite(mmcWait(10, 2, 5))).toBe(true);
  });

  it('computes shifted-exponential quantiles in closed form', () => {
    expect(shiftedExpQuantile({ shift: 5, tail: 10 }, 0.5)).toBeCloseTo(5 + 10 * Math.LN2, 9);
    expect(shiftedExpQuantile({ shift: 5, tail: 0 }, 0.99)).toBe(5);
  });

  it('solves a mixture quantile: one component alone gives its own quantile', () => {
    const q = mixtureQuantile([{ shift: 2, tail: 8, weight: 3 }], 0.95);
    expect(q).toBeCloseTo(shiftedExpQuantile({ shift: 2, tail: 8 }, 0.95), 1);
  });

  it('puts the p95 of a 90/10 mixture of fast and slow requests inside the slow component', () => {
    const fast = { shift: 1, tail: 1, weight: 90 };
    const slow = { shift: 100, tail: 50, weight: 10 };
    const p95 = mixtureQuantile([fast, slow], 0.95);
    // Half of the slow component lies below its median: the p95 is the slow component's median.
    expect(p95).toBeCloseTo(shiftedExpQuantile(slow, 0.5), 0);
  });
});

describe('mixture quantiles by safeguarded Newton', () => {
  /** Plain bisection on the mixture's CDF: the reference the solver must match within 0.01 ms. */
  function bisect(cs: { shift: number; tail: number; weight: number }[], p: number): number {
    const total = cs.reduce((a, c) => a + c.weight, 0);
    const cdf = (x: number) =>
      cs.reduce(
        (a, c) => a + (x < c.shift ? 0 : c.weight * (c.tail > 0 ? 1 - Math.exp(-(x - c.shift) / c.tail) : 1)),
        0,
      ) / total;
    let lo = 0;
    let hi = 1e7;
    while (hi - lo > 1e-6) {
      const mid = (lo + hi) / 2;
      if (cdf(mid) < p) lo = mid;
      else hi = mid;
    }
    return hi;
  }
  const cases = [
    {
      name: 'fast and slow requests',
      cs: [
        { shift: 1, tail: 1, weight: 90 },
        { shift: 100, tail: 50, weight: 10 },
      ],
    },
    {
      name: 'a point mass of rejections beside served requests',
      cs: [
        { shift: 3, tail: 0, weight: 40 },
        { shift: 5, tail: 200, weight: 60 },
      ],
    },
    {
      name: 'many similar intervals',
      cs: Array.from({ length: 50 }, (_, i) => ({ shift: 10 + i, tail: 20 + 3 * i, weight: 1 + (i % 7) })),
    },
    {
      name: 'a long queue in a few intervals',
      cs: [
        { shift: 2, tail: 5, weight: 1000 },
        { shift: 40, tail: 30_000, weight: 3 },
      ],
    },
  ];
  // (Not p = 0.9 in the first case: its CDF is flat at exactly 0.9 up to 100 ms in floating point.)
  it.each(cases)('agrees with bisection within 0.01 ms for $name', ({ cs }) => {
    for (const p of [0.5, 0.8, 0.95, 0.99, 0.999999]) {
      const q = mixtureQuantile(cs, p);
      const ref = bisect(cs, p);
      expect(q).toBeGreaterThanOrEqual(ref - 1e-6);
      expect(q - ref).toBeLessThanOrEqual(0.01 + 1e-6);
    }
  });
});

describe('the expected maximum of a mixture', () => {
  it('stays finite for billions of samples', () => {
    const m = mixtureMax([{ shift: 1, tail: 2, weight: 4e10 }], 4e10);
    expect(Number.isFinite(m)).toBe(true);
    expect(m).toBeGreaterThan(shiftedExpQuantile({ shift: 1, tail: 2 }, 0.999));
  });
});

describe('the transient M/M/c queue (pointwise stationary fluid flow)', () => {
  const run = (x0: number, lambda: number, mu: number, c: number, dt: number, seconds: number) => {
    let s = { x: x0, rho: 0 };
    for (let t = 0; t < seconds - 1e-9; t += dt) s = transientQueueStep(s.x, lambda, mu, c, dt);
    return s;
  };

  it.each([1, 2, 4])(
    'settles at the steady-state M/M/%i length under a constant load below capacity',
    (c) => {
      const s = run(0, 0.7 * 10 * c, 10 * c, c, 0.05, 600);
      expect(s.rho).toBeCloseTo(0.7, 3);
      expect(s.x).toBeCloseTo(mmcInSystem(c, 0.7), 2);
    },
  );

  it('builds a near-saturated queue over time instead of at once', () => {
    // ρ = 0.98 at 10 requests/s: 49 in the system in steady state, reached only after minutes.
    const early = run(0, 9.8, 10, 1, 0.1, 5);
    expect(early.x).toBeLessThan(10);
    const late = run(0, 9.8, 10, 1, 0.1, 3600);
    expect(late.x).toBeGreaterThan(40);
  });

  it('grows by the excess over capacity as a fluid backlog, and drains at the capacity', () => {
    const over = run(0, 30, 10, 1, 0.1, 10);
    // 20 requests/s beyond capacity for 10 s; a little more, as the server is not busy every instant.
    expect(over.x).toBeGreaterThan(200);
    expect(over.x).toBeLessThan(205);
    const drained = run(over.x, 0, 10, 1, 0.1, 10);
    expect(drained.x).toBeGreaterThan(over.x - 100);
    expect(drained.x).toBeLessThan(over.x - 100 + 5);
  });

  it('is stable for a step much longer than the service time', () => {
    const s = transientQueueStep(0, 5, 10, 1, 1000);
    expect(s.x).toBeGreaterThan(0.99);
    expect(s.x).toBeLessThan(1.01);
    expect(transientQueueStep(0, 0, 10, 1, 1)).toEqual({ x: 0, rho: 0 });
  });
});

describe("the load generator's concurrency cap as a loss system", () => {
  it.each([
    { c: 1, a: 1, b: 0.5 },
    { c: 2, a: 1, b: 0.2 },
    { c: 5, a: 3, b: 0.11005 },
    { c: 10, a: 10, b: 0.21458 },
  ])("gives Erlang's B($c, $a) = $b", ({ c, a, b }) => {
    expect(erlangB(c, a)).toBeCloseTo(b, 4);
  });

  it('interpolates between whole numbers of places and drops nothing without load', () => {
    expect(erlangB(1.5, 1)).toBeCloseTo((0.5 + 0.2) / 2, 9);
    expect(erlangB(3, 0)).toBe(0);
  });

  it('drops Erlang B at Poisson arrivals, fewer at evenly spaced ones, none at constant holding far below the cap', () => {
    const poisson = concurrencyCapLoss(10, 8, { mean: 1, sd: 1 }, 'poisson');
    expect(poisson).toBeCloseTo(erlangB(10, 8), 12);
    const even = concurrencyCapLoss(10, 8, { mean: 1, sd: 1 }, 'even');
    expect(even).toBeLessThan(poisson);
    expect(even).toBeGreaterThan(0);
    expect(concurrencyCapLoss(10, 8, { mean: 1, sd: 0 }, 'even')).toBeLessThan(1e-6);
    // Overloaded ten times: about 1 − cap/offered either way.
    expect(concurrencyCapLoss(10, 100, { mean: 1, sd: 1 }, 'even')).toBeCloseTo(0.9, 1);
  });
});

/**
 * The local replica's emulated task (reference-stack/capacity/emulator.ts) on a hand-driven clock,
 * offered Poisson arrivals at utilisation ρ of its vCPU share: the mean latency (wait and hold) of
 * `n` requests after a warm-up tenth. This is what the live stack's replicas do, so it is the
 * known answer the simulator's steady-state task queue must reproduce.
 */
async function emulatedMeanLatency(
  vcpu: number,
  demand: (u: number) => number,
  meanDemand: number,
  rho: number,
  n: number,
  even = false,
): Promise<number> {
  let t = 0;
  const timers: { at: number; seq: number; fn: () => void }[] = [];
  let seq = 0;
  const e = createCapacityEmulator({
    vcpu,
    queueLimit: 1e9,
    overheadPct: 0,
    now: () => t,
    schedule: (ms, fn) => {
      timers.push({ at: t + ms, seq: seq++, fn });
    },
  });
  const rng = createRng(7);
  const rate = (rho * vcpu) / meanDemand; // arrivals per ms
  const gap = () => (even ? 1 / rate : -Math.log(1 - rng.next()) / rate);
  let nextArrival = gap();
  const latencies: number[] = [];
  let arrived = 0;
  while (latencies.length < n) {
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const timer = timers[0];
    if (arrived < n && (!timer || nextArrival <= timer.at)) {
      t = nextArrival;
      const at = t;
      arrived++;
      void e.run(demand(rng.next())).then(() => latencies.push(t - at));
      nextArrival = t + gap();
    } else if (timer) {
      timers.shift();
      t = timer.at;
      timer.fn();
    }
    await Promise.resolve();
  }
  const kept = latencies.slice(Math.floor(n / 10));
  return kept.reduce((a, b) => a + b, 0) / kept.length;
}

describe("a task's steady-state queue against the emulated task it models", () => {
  const model = (vcpu: number, meanDemand: number, cs2: number, rho: number, overBurstMs?: number) => {
    // Requests/s with every slot busy: vCPU × 1000 CPU-ms/s over the demand (whole or fractional).
    const mu = (1000 * vcpu) / meanDemand;
    const q = taskQueue({ vcpu, mu, cs2, ...(overBurstMs !== undefined ? { overBurstMs } : {}) });
    return q.serviceTime(rho) + q.wait(rho);
  };

  it.each([
    { vcpu: 0.25, d: 13, rho: 0.2 },
    { vcpu: 0.25, d: 13, rho: 0.6 },
    { vcpu: 0.25, d: 13, rho: 0.85 },
    { vcpu: 0.5, d: 22, rho: 0.4 },
    { vcpu: 0.5, d: 22, rho: 0.75 },
    { vcpu: 0.5, d: 22, rho: 0.9 },
    { vcpu: 0.25, d: 60, rho: 0.3 },
    { vcpu: 0.25, d: 60, rho: 0.8 },
    { vcpu: 1, d: 30, rho: 0.5 },
    { vcpu: 1, d: 30, rho: 0.85 },
  ])(
    'gives the mean latency of a $vcpu-vCPU task with $d-ms requests at ρ = $rho within 20%',
    async ({ vcpu, d, rho }) => {
      const live = await emulatedMeanLatency(vcpu, () => d, d, rho, 20_000);
      const m = model(vcpu, d, 0, rho);
      expect(Math.abs(m - live) / live).toBeLessThan(0.2);
    },
  );

  it("keeps the old model's error in view: an M/M/1 server of the quota's speed waits 3–4 times too long at ρ = 0.6", async () => {
    const live = await emulatedMeanLatency(0.25, () => 13, 13, 0.6, 20_000);
    const quotaSpeed = 13 / 0.25;
    const old = 13 * (1 + 3 * 0.6) + mmcWait(quotaSpeed, 1, 0.6);
    expect(old / live).toBeGreaterThan(3);
    expect(Math.abs(model(0.25, 13, 0, 0.6) - live) / live).toBeLessThan(0.2);
  });

  it('follows a mix of request sizes through its spread (cs² = 1/3 for demands uniform on 0–2d)', async () => {
    const d = 20;
    const live = await emulatedMeanLatency(0.5, (u) => 2 * d * u, d, 0.7, 20_000);
    // E[max(0, D − 50)] for D uniform on [0, 40]: 0 (no request exceeds the 50-ms burst).
    const m = model(0.5, d, 1 / 3, 0.7, 0);
    expect(Math.abs(m - live) / live).toBeLessThan(0.2);
    expect(m).toBeGreaterThan(model(0.5, d, 0, 0.7));
  });

  it("waits little for evenly spaced arrivals (ca² = 0), as the engine sends an iteration's first requests", async () => {
    for (const [vcpu, d] of [
      [0.5, 22],
      [1, 30],
    ] as const) {
      const live = await emulatedMeanLatency(vcpu, () => d, d, 0.85, 5_000, true);
      const q = taskQueue({ vcpu, mu: (1000 * vcpu) / d, cs2: 0, ca2: 0 });
      expect(Math.abs(q.serviceTime(0.85) + q.wait(0.85) - live) / live).toBeLessThan(0.2);
      // A Poisson stream at the same load would wait several service times.
      expect(taskQueue({ vcpu, mu: (1000 * vcpu) / d, cs2: 0 }).wait(0.85)).toBeGreaterThan(2 * d);
    }
  });

  it('is a full-speed M/G/1 for a whole vCPU (Pollaczek–Khinchine): deterministic requests wait half as long as M/M/1', () => {
    const q = taskQueue({ vcpu: 1, mu: 1000 / 10, cs2: 0 });
    expect(q.wait(0.5)).toBeCloseTo(5, 9);
    expect(taskQueue({ vcpu: 1, mu: 100, cs2: 1 }).wait(0.5)).toBeCloseTo(10, 9);
  });

  it('makes a lone request on a fractional task pay for the part of its demand beyond the burst', () => {
    // 0.25 vCPU: 25 CPU-ms of burst; a 60-ms request runs 25 ms at full speed and 35 at quarter speed.
    const q = taskQueue({ vcpu: 0.25, mu: 250 / 60, cs2: 0 });
    expect(q.serviceTime(0)).toBeCloseTo(60 + 35 * 4, 9);
    expect(q.serviceTime(0.999)).toBeCloseTo(240, 0);
  });

  it("settles the transient queue at the task model's steady state", () => {
    const q = taskQueue({ vcpu: 0.25, mu: 250 / 13, cs2: 0 });
    let s = { x: 0, rho: 0 };
    for (let i = 0; i < 6000; i++)
      s = transientStep(s.x, 0.6 * (250 / 13), 250 / 13, (r) => q.inSystem(r), 0.1);
    expect(s.rho).toBeCloseTo(0.6, 3);
    expect(s.x).toBeCloseTo(q.inSystem(0.6), 2);
  });
});

describe("the transient step's solve: few evaluations of the queue at every step", () => {
  /** Solves one step, counting the evaluations of `inSystem`. */
  const solve = (
    inSystem: (r: number) => number,
    x: number,
    lambda: number,
    mu: number,
    rho0: number,
    slope?: number,
  ) => {
    let evals = 0;
    const out = { x: 0, rho: 0, ...(slope !== undefined ? { slope } : {}) };
    transientStep(
      x,
      lambda,
      mu,
      (r) => {
        evals++;
        return inSystem(r);
      },
      5,
      rho0,
      out,
    );
    return { ...out, evals };
  };
  // A pool of 400 whole vCPUs at 20% waits next to nothing: its requests in system are its busy slots.
  const big = taskQueue({ vcpu: 1, mu: 50, cs2: 1, pool: 400 });

  /** How far ρ is from solving x' + 5·μ·ρ = x + 5·λ (requests per task). */
  const residual = (r: { rho: number }, x: number, lambda: number) =>
    Math.abs(big.inSystem(r.rho) + 5 * 50 * r.rho - (x + 5 * lambda));

  it('stops at a root its secant step lands on exactly (the bisection crept up to it from one side)', () => {
    // Two requests in system per unit of ρ, 5 s at μ = 0.4 and λ = 0.3: 2ρ + 2ρ = 1.5, ρ = 0.375.
    const r = solve((q) => 2 * q, 0, 0.3, 0.4, 0.5);
    expect(r.rho).toBe(0.375);
    // The difference quotient's two points and the root (32 before, ending 3.5e-10 below it).
    expect(r.evals).toBeLessThanOrEqual(3);
  });

  it('solves a pool that waits next to nothing in as few', () => {
    const r = solve((q) => big.inSystem(q), 0.21, 10, 50, 0.21);
    expect(residual(r, 0.21, 10)).toBeLessThan(1e-9);
    expect(r.x).toBeCloseTo(big.inSystem(r.rho), 9);
    expect(r.evals).toBeLessThanOrEqual(3);
  });

  it("starts from the last step's slope, one evaluation fewer, and hands its own on", () => {
    const first = solve((q) => big.inSystem(q), 0.21, 10, 50, 0.21);
    const next = solve((q) => big.inSystem(q), first.x, 10.5, 50, first.rho, first.slope);
    // Busy slots over ρ: one per task (the wait is next to nothing at 20% of 400).
    expect(first.slope).toBeCloseTo(1, 6);
    expect(residual(next, first.x, 10.5)).toBeLessThan(1e-9);
    expect(next.evals).toBeLessThanOrEqual(2);
  });

  it('reaches an overloaded queue (its root at ρ = 1) in a few evaluations, not by bisection', () => {
    const q = taskQueue({ vcpu: 1, mu: 50, cs2: 1, pool: 2 });
    // Arrivals at twice the capacity: the backlog grows by 5·(100 − 50) requests per task.
    const r = solve((u) => q.inSystem(u), 3, 100, 50, 0.985, 40);
    expect(r.rho).toBeGreaterThan(1 - 2e-9);
    expect(r.x).toBeCloseTo(3 + 5 * 100 - 5 * 50, 5);
    expect(r.evals).toBeLessThanOrEqual(4);
  });
});

describe('the finite-source queue M/M/C//N (machine repairman)', () => {
  it('gives the textbook single-server values: p(0) = 1/Σ N!/(N−k)!·r^k, L = N − (1 − p(0))/r', () => {
    // N = 5, r = 0.1: Σ = 1 + 0.5 + 0.2 + 0.06 + 0.012 + 0.0012 = 1.7732.
    const q = finiteSourceQueue(1, 5, 0.1);
    const p0 = 1 / 1.7732;
    expect(q.rho).toBeCloseTo(1 - p0, 9);
    expect(q.inSystem).toBeCloseTo(5 - (1 - p0) / 0.1, 9);
  });

  it('gives the hand-computed chain of two servers and three sources at r = 1', () => {
    // p ∝ 1, 3, 3, 1.5 (sum 8.5): L = 13.5/8.5, busy = 12/8.5, one waiting in state 3 only.
    const q = finiteSourceQueue(2, 3, 1);
    expect(q.inSystem).toBeCloseTo(13.5 / 8.5, 9);
    expect(q.rho).toBeCloseTo(6 / 8.5, 9);
    expect(q.waiting).toBeCloseTo(1.5 / 8.5, 9);
    // And back: at that utilisation the solved think time gives the same queue.
    expect(finiteSourceWaiting(2, 3, 6 / 8.5)).toBeCloseTo(1.5 / 8.5, 8);
  });

  it('tends to M/M/C (Erlang C) as the population grows at a fixed utilisation', () => {
    expect(erlangCWaiting(2, 0.5)).toBeCloseTo(1 / 3, 9);
    expect(erlangCWaiting(1, 0.8)).toBeCloseTo(3.2, 9);
    expect(finiteSourceWaiting(2, 20_000, 0.5) / erlangCWaiting(2, 0.5)).toBeGreaterThan(0.99);
    expect(finiteSourceWaiting(1, 20_000, 0.8) / erlangCWaiting(1, 0.8)).toBeGreaterThan(0.99);
  });

  it('never waits with no more sources than servers, and holds at most N − C waiting near saturation', () => {
    expect(finiteSourceWaiting(4, 4, 0.9)).toBe(0);
    expect(finiteSourceWaiting(4, 2.5, 0.5)).toBe(0);
    // A fractional population's chain reaches ⌈N⌉: 3.5 sources on 2 servers hold at most 2 waiting.
    expect(finiteSourceWaiting(2, 3.5, 1)).toBe(2);
    expect(finiteSourceWaiting(2, 3.5, 0.999)).toBeLessThan(2);
    const nearFull = finiteSourceWaiting(2, 14, 0.99999);
    expect(nearFull).toBeLessThan(12);
    expect(nearFull).toBeGreaterThan(8);
    expect(finiteSourceWaiting(2, 14, 1)).toBe(12);
    // Where the open M/M/2 queue at ρ = 0.995 holds about 198 waiting, 14 sources hold under 6.
    expect(erlangCWaiting(2, 0.995)).toBeGreaterThan(190);
    const w = finiteSourceWaiting(2, 14, 0.995);
    expect(w).toBeGreaterThan(5.5);
    expect(w).toBeLessThan(6);
  });

  it('gives the hand-computed mixed chain of one server, one source and an open stream', () => {
    // C = 1, N = 1, r = 1, open load 0.5: births 1.5 from state 0, then 0.5; p ∝ 1, 1.5, 0.75, 0.375, …
    // (sum 4): busy 0.75, L = (1.5 + 1.5·Σ_{k≥2} k·0.5^(k−1)) / 4 = (1.5 + 4.5) / 4 = 1.5, waiting 0.75.
    const q = finiteSourceQueue(1, 1, 1, 0.5);
    expect(q.rho).toBeCloseTo(0.75, 9);
    expect(q.inSystem).toBeCloseTo(1.5, 9);
    expect(q.waiting).toBeCloseTo(0.75, 9);
    // Solved back at that utilisation with the open stream's share of the arrivals (0.5 of 0.75).
    expect(finiteSourceWaiting(1, 1, 0.75, 0.5 / 0.75)).toBeCloseTo(0.75, 8);
  });

  it('is the open M/M/C with every arrival open, and waits more the larger the open share', () => {
    expect(finiteSourceQueue(2, 0, 0, 1).waiting).toBeCloseTo(1 / 3, 9);
    expect(finiteSourceWaiting(2, 7, 0.5, 1)).toBeCloseTo(erlangCWaiting(2, 0.5), 9);
    expect(finiteSourceWaiting(4, 7, 0.5, 1)).toBeCloseTo(erlangCWaiting(4, 0.5), 9);
    let last = finiteSourceWaiting(4, 7, 0.5);
    for (const share of [0.2, 0.4, 0.6, 0.8, 1]) {
      const w = finiteSourceWaiting(4, 7, 0.5, share);
      expect(w).toBeGreaterThan(last);
      last = w;
    }
    // An open part is not bounded by the population: 3 sources on 2 servers wait past N − C = 1.
    expect(finiteSourceWaiting(2, 3, 0.99, 0.5)).toBeGreaterThan(1);
  });

  it('is continuous and increasing in a fractional population', () => {
    const a = finiteSourceWaiting(2, 13, 0.9);
    const b = finiteSourceWaiting(2, 13.5, 0.9);
    const c = finiteSourceWaiting(2, 14, 0.9);
    expect(b).toBeGreaterThan(a);
    expect(b).toBeLessThan(c);
  });

  it("bounds a task pool's queue by its population: M/M/C//N for whole vCPUs within Sakasegawa's error", () => {
    // Two 1-vCPU tasks (C = 2), exponential demand and arrivals, 14 requests in flight, ρ = 0.9.
    const mu = 1000 / 36;
    const open = taskQueue({ vcpu: 1, mu, cs2: 1, ca2: 1, pool: 2 });
    const closed = taskQueue({ vcpu: 1, mu, cs2: 1, ca2: 1, pool: 2, population: 14 });
    // Per task: half the pool's 1.8 busy + 2.33 waiting of M/M/2//14 (finiteSourceQueue).
    const exact = (1.8 + finiteSourceWaiting(2, 14, 0.9)) / 2;
    expect(Math.abs(closed.inSystem(0.9) - exact) / exact).toBeLessThan(0.01);
    expect(open.inSystem(0.9)).toBeGreaterThan(4);
    // An infinite population is the open model.
    const inf = taskQueue({ vcpu: 1, mu, cs2: 1, pool: 2, population: Number.POSITIVE_INFINITY });
    expect(inf.wait(0.9)).toBe(open.wait(0.9));
  });

  it('grows with the load, as the transient queue needs: never less for whole vCPUs, at most 2% less on a fractional task', () => {
    let worstWhole = 0;
    let worstFractional = 0;
    for (const vcpu of [0.25, 0.5, 1, 2])
      for (const pool of [1, 2, 4])
        for (const population of [0.5, 2, 3.5, 8, 14, 40, 200])
          for (const d of [5, 30, 130])
            for (const cs2 of [0, 1.5]) {
              const mu = (1000 * vcpu) / d;
              const q = taskQueue({
                vcpu,
                mu,
                cs2,
                pool,
                population,
                overBurstMs: Math.max(0, d - 100 * vcpu),
              });
              let prev = 0;
              for (let i = 0; i <= 200; i++) {
                const x = q.inSystem(i / 200);
                const drop = prev > 0 ? (prev - x) / prev : 0;
                if (vcpu >= 1) worstWhole = Math.max(worstWhole, drop);
                else worstFractional = Math.max(worstFractional, drop);
                prev = x;
              }
            }
    expect(worstWhole).toBeLessThan(1e-9);
    expect(worstFractional).toBeLessThan(0.02);
  });

  it('settles the transient queue at the finite-source length where the open one keeps growing', () => {
    const mu = 1000 / 36;
    const q = taskQueue({ vcpu: 1, mu, cs2: 1, pool: 2, population: 14 });
    let s = { x: 0, rho: 0 };
    for (let i = 0; i < 3000; i++) s = transientStep(s.x, 0.98 * mu, mu, (r) => q.inSystem(r), 0.1, s.rho);
    expect(s.rho).toBeCloseTo(0.98, 3);
    // Per task: (1.96 busy + 4.44 waiting) / 2 ≈ 3.2 requests, where the open M/M/2 settles near 25.
    expect(s.x).toBeGreaterThan(3);
    expect(s.x).toBeLessThan(3.5);
  });
});

describe("a replay's pool: the open queue of its long-run regular arrivals, bounded by the saturated finite source (session 18)", () => {
  const mu = 1000 / 34;
  const pool = (population: number, ca2Long?: number) =>
    taskQueue({
      vcpu: 1,
      mu,
      cs2: 0.28,
      ca2: 0.9,
      pool: 2,
      population,
      ...(ca2Long !== undefined ? { ca2Long } : {}),
    });

  it('waits below saturation as the open queue of that spread, whatever its population (as the discrete-event load generator)', () => {
    const open = taskQueue({ vcpu: 1, mu, cs2: 0.28, ca2: 0.4, pool: 2 });
    for (const population of [5, 12, 40])
      expect(pool(population, 0.4).wait(0.7)).toBeCloseTo(open.wait(0.7), 9);
    // The finite-source share alone (before session 18) depends on it: the test can fail.
    expect(pool(5).wait(0.7) / pool(40).wait(0.7)).toBeLessThan(0.8);
  });

  it("is the finite source's at saturation, where the open queue would wait on", () => {
    const chain = pool(6);
    const bounded = pool(6, 0.4);
    expect(bounded.wait(0.999)).toBeCloseTo(chain.wait(0.999), 9);
    const open = taskQueue({ vcpu: 1, mu, cs2: 0.28, ca2: 0.4, pool: 2 });
    expect(bounded.wait(0.999)).toBeLessThan(open.wait(0.999) / 2);
    // Below 0.98 at most the chain's wait at 0.98: a small population bounds the regular queue early.
    const regular = taskQueue({ vcpu: 1, mu, cs2: 0.28, ca2: 1, pool: 2 }).wait(0.9);
    expect(pool(2.5).wait(0.98)).toBeLessThan(regular);
    expect(pool(2.5, 1).wait(0.9)).toBeCloseTo(pool(2.5).wait(0.98), 9);
  });

  it('grows with the load (the transient queue needs it), and its wait given a wait follows the branch that gave the wait', () => {
    let worst = 0;
    for (const population of [0.5, 2, 3.5, 8, 14, 40])
      for (const ca2Long of [0, 0.3, 1])
        for (const poolSize of [1, 2, 4]) {
          const q = taskQueue({ vcpu: 1, mu, cs2: 0.28, ca2: 0.9, pool: poolSize, population, ca2Long });
          let prev = 0;
          for (let i = 0; i <= 200; i++) {
            const x = q.inSystem(i / 200);
            worst = Math.max(worst, prev > 0 ? (prev - x) / prev : 0);
            prev = x;
          }
        }
    expect(worst).toBeLessThan(1e-9);
    // The regular branch: the open queue's wait given a wait with the long-run Kingman factor.
    const q = pool(40, 0.4);
    expect(q.pooledWaitGiven(0.7)).toBeCloseTo((34 * (0.4 + 0.28)) / 2 / (2 * 0.3), 6);
  });
});

describe('how a pool wait falls on its requests (session 10)', () => {
  // prime-day doors-open's monolith mix (bench/balancer-queue.ts): CPU-ms and shares.
  const mix: [number, number][] = [
    [8, 0.25],
    [21, 0.1],
    [35, 0.15],
    [44, 0.3],
    [57, 0.2],
  ];
  const mean = mix.reduce((a, [ms, p]) => a + ms * p, 0);
  const second = mix.reduce((a, [ms, p]) => a + ms * ms * p, 0);
  const cs2 = second / (mean * mean) - 1;

  it('gives one task the pooled wait: P(wait) = wait / the wait given a wait, and the mean kept', () => {
    const s = waitShape(2, 10, 25, 1, 1, 0.5);
    expect(s.prob).toBeCloseTo(0.2, 12);
    expect(s.given).toBe(10);
    expect(s.prob * s.given).toBeCloseTo(2, 12);
  });

  it("makes a request that waits behind least outstanding requests wait for one replica's hold: E[S²]/2E[S] of the mix", () => {
    // 33.95 ms on average, E[S²]/2E[S] = 1474.45 / 67.9 = 21.715 ms (bench/balancer-queue.ts measures
    // 18.8 ms given a wait at 4 tasks and 50%, against 11.6 in one queue of the four slots).
    const q = taskQueue({ vcpu: 1, mu: 1000 / mean, cs2, ca2: 1, pool: 4 });
    expect(q.holdResidual(0.5)).toBeCloseTo(1474.45 / 67.9, 6);
    // One queue of the four: S·(1 + cs²)/2 / (4·(1 − ρ)) = 10.86 ms.
    expect(q.pooledWaitGiven(0.5)).toBeCloseTo((mean * (1 + cs2)) / 2 / 2, 6);
    const s = waitShape(q.wait(0.5), q.pooledWaitGiven(0.5), q.holdResidual(0.5), 4, 4, 0.5);
    expect(s.given).toBeCloseTo(21.715, 3);
    // As many wait as in one queue (Sakasegawa's P(wait) = ρ^(√10 − 1)); each twice as long.
    expect(s.prob).toBeCloseTo(0.5 ** (Math.sqrt(10) - 1), 9);
  });

  it('makes waiting likelier by the requests outstanding off the CPU: × (ρ′/ρ)^(√(2(C+1))−2), ρ′ = ρ + off·(1 − ρ)/C', () => {
    // 4 slots at 50% with one request outstanding off the CPU: ρ′ = 0.625, × 1.25^(√10 − 2) = 1.2961.
    const base = waitShape(2, 10, 25, 4, 4, 0.5).prob;
    const off = waitShape(2, 10, 25, 4, 4, 0.5, 1).prob;
    expect(off / base).toBeCloseTo(1.25 ** (Math.sqrt(10) - 2), 9);
    expect(1.25 ** (Math.sqrt(10) - 2)).toBeCloseTo(1.2961, 4);
    // One task: the balancer has no choice, nothing changes.
    expect(waitShape(2, 10, 25, 1, 1, 0.5, 1).prob).toBeCloseTo(0.2, 12);
  });

  it('counts the share of arrivals that wait in M/M/1//2 by the arrival theorem: r/(1 + r)', () => {
    // Arrivals see the one-source system's time average: P(busy) = r/(1 + r).
    expect(finiteSourceQueue(1, 2, 0.5).waitProb).toBeCloseTo(1 / 3, 12);
    expect(finiteSourceQueue(1, 2, 2).waitProb).toBeCloseTo(2 / 3, 12);
  });

  it("gives Erlang's C for the share that waits when every arrival is open, and none with no more sources than servers", () => {
    expect(finiteSourceAt(4, 10, 0.5, 1).waitProb).toBeCloseTo(erlangCProb(4, 0.5), 12);
    // M/M/4 at 50%: Erlang's C = 0.1739.
    expect(erlangCProb(4, 0.5)).toBeCloseTo(0.17391, 4);
    expect(finiteSourceAt(4, 3, 0.5).waitProb).toBe(0);
    // Many sources: towards Erlang's C.
    expect(finiteSourceAt(4, 20_000, 0.5).waitProb).toBeCloseTo(erlangCProb(4, 0.5), 3);
  });

  it("keeps the finite source's mean wait and puts its cut into how many wait and how long alike", () => {
    const q = taskQueue({ vcpu: 1, mu: 1000 / 34, cs2: 0, ca2: 1, pool: 4, population: 7 });
    const open = taskQueue({ vcpu: 1, mu: 1000 / 34, cs2: 0, ca2: 1, pool: 4 });
    const s = waitShape(q.wait(0.5), q.pooledWaitGiven(0.5), 0, 4, 1, 0.5);
    expect(s.prob * s.given).toBeCloseTo(q.wait(0.5), 9);
    // Fewer wait than in the open queue, and a waiting request waits less (at most N − C ahead).
    expect(s.prob).toBeLessThan(open.wait(0.5) / open.pooledWaitGiven(0.5));
    expect(s.given).toBeLessThan(open.pooledWaitGiven(0.5));
  });
});
