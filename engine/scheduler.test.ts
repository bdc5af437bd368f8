import { describe, expect, it } from 'vitest';
import { advanceCursor, createArrivalScheduler } from './scheduler.ts';

const seq = (xs: number[]) => xs[Symbol.iterator]();

describe('the arrival scheduler', () => {
  it('keeps only its segment’s arrivals', () => {
    const c = {
      arrivals: seq([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]),
      nextMs: 0,
      nextArrival: 0,
      index: 0,
    };
    const due: number[] = [];
    for (
      advanceCursor(c, { index: 2, count: 3 });
      c.nextMs !== Number.POSITIVE_INFINITY;
      advanceCursor(c, { index: 2, count: 3 })
    )
      due.push(Math.round(c.nextMs));
    expect(due).toEqual([200, 500, 800]);
  });

  it('starts every arrival once, earliest first across scenarios, never before it is due', async () => {
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const starts: { si: number; due: number; at: number }[] = [];
    let done = 0;
    await new Promise<void>((resolve) => {
      const s = createArrivalScheduler({
        arrivals: [seq([0.01, 0.03, 0.05, 0.07]), seq([0.02, 0.04, 0.06])],
        mode: 'sleep',
        spinFromStart: false,
        spinAboveRps: 3000,
        maxStartsPerTick: 64,
        now,
        start: (si, due) => starts.push({ si, due, at: now() }),
        onArrivalsDone: () => {
          done++;
          resolve();
        },
      });
      s.run();
    });
    expect(done).toBe(1);
    expect(starts.map((x) => x.due)).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(starts.map((x) => x.si)).toEqual([0, 1, 0, 1, 0, 1, 0]);
    for (const x of starts) expect(x.at).toBeGreaterThanOrEqual(x.due);
  });

  it('starts a backlog at most maxStartsPerTick per wake-up, and stops when cancelled', async () => {
    const starts: number[] = [];
    const s = createArrivalScheduler({
      arrivals: [seq(Array.from({ length: 12 }, (_, i) => i / 1000))],
      mode: 'spin',
      spinFromStart: true,
      spinAboveRps: 3000,
      maxStartsPerTick: 5,
      now: () => 1000,
      start: (_si, due) => starts.push(due),
      onArrivalsDone: () => undefined,
    });
    s.run();
    expect(starts).toHaveLength(5);
    await new Promise((r) => setImmediate(r));
    expect(starts).toHaveLength(10);
    s.cancel();
    await new Promise((r) => setTimeout(r, 5));
    expect(starts).toHaveLength(10);
    expect(s.takeSpun()).toBe(true);
  });

  it('starts every arrival due since its last wake-up in one batch, each with its own due time', async () => {
    // 1,000 arrivals at 20,000/s (one every 50 µs) on the real clock: the 1-ms timer's wake-ups
    // start them in batches, and each start carries its own due time and plan number.
    const t0 = performance.now();
    let clockReads = 0;
    const now = () => {
      clockReads++;
      return performance.now() - t0;
    };
    const starts: { due: number; arrival: number; at: number }[] = [];
    await new Promise<void>((resolve) => {
      const s = createArrivalScheduler({
        arrivals: [seq(Array.from({ length: 1000 }, (_, i) => 0.005 + i / 20_000))],
        mode: 'sleep',
        spinFromStart: false,
        spinAboveRps: Number.POSITIVE_INFINITY,
        maxStartsPerTick: 64,
        now,
        start: (_si, due, arrival) => starts.push({ due, arrival, at: now() }),
        onArrivalsDone: resolve,
      });
      s.run();
    });
    expect(starts.map((x) => x.arrival)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    for (const [i, x] of starts.entries()) {
      expect(x.due).toBeCloseTo(5 + i * 0.05, 6);
      expect(x.at).toBeGreaterThanOrEqual(x.due);
    }
    // Batches, not one wake-up per arrival: a wake-up reads the clock twice (besides the starts'
    // own reads here), and a timer cannot wake the loop more than once per millisecond or so.
    const wakeUps = (clockReads - starts.length) / 2;
    expect(wakeUps).toBeLessThan(250);
  });

  it('leaves what is due to its timer until it is pokeAfterMs late, then a poke starts it', async () => {
    let now = 0;
    const starts: number[] = [];
    const s = createArrivalScheduler({
      arrivals: [seq([0.005, 0.006])],
      mode: 'sleep',
      spinFromStart: false,
      spinAboveRps: Number.POSITIVE_INFINITY,
      maxStartsPerTick: 64,
      pokeAfterMs: 2,
      now: () => now,
      start: (_si, due) => starts.push(Math.round(due)),
      onArrivalsDone: () => undefined,
    });
    s.run();
    now = 6.9;
    s.poke();
    expect(starts).toEqual([]);
    now = 7;
    s.poke();
    // Both are started: the one 2 ms late and, with it, the one due since.
    expect(starts).toEqual([5, 6]);
    s.cancel();
  });

  it('starts what is due when poked between wake-ups, and leaves a backlog to its wake-ups', async () => {
    let now = 0;
    const starts: [number, number][] = [];
    const s = createArrivalScheduler({
      arrivals: [seq(Array.from({ length: 30 }, (_, i) => (i + 1) * 0.005))],
      mode: 'sleep',
      spinFromStart: false,
      spinAboveRps: Number.POSITIVE_INFINITY,
      maxStartsPerTick: 64,
      pokeAfterMs: 0,
      now: () => now,
      start: (_si, due, arrival) => starts.push([arrival, Math.round(due)]),
      onArrivalsDone: () => undefined,
    });
    s.run();
    s.poke();
    expect(starts).toEqual([]);
    now = 5.5;
    s.poke();
    // The arrival due at 5 ms, number 0 of the plan.
    expect(starts).toEqual([[0, 5]]);
    now = 100;
    s.poke();
    s.poke();
    // A stall: a poke starts a few; the rest wait for the next turn's wake-up, not the next poke.
    expect(starts).toHaveLength(9);
    await new Promise((r) => setImmediate(r));
    expect(starts).toHaveLength(20);
    expect(starts).toEqual(Array.from({ length: 20 }, (_, i) => [i, 5 * (i + 1)]));
    s.cancel();
    expect(s.takeSpun()).toBe(false);
  });
});
